/*
 * cb_bench: the load generator, the reference sinks and what they share.
 *
 * Every mode drives a receiver on loopback (127.0.0.0/8) and stops by
 * itself: at --duration seconds or after --count operations, whichever
 * comes first.  Rates are never taken from the sender's word: UDP modes
 * read the receiver's own counter (the daemon's /stats over HTTP, or the
 * sink's counter in shared memory), TCP and closed-loop modes count the
 * valid answers they received.  Each mode prints one line of key=value
 * pairs, starting with mode=, which bench/run.sh turns into a table.
 */
#ifndef CB_BENCH_H
#define CB_BENCH_H

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <stddef.h>
#include <stdint.h>

#define BENCH_SRC_IPS		253	/* 127.0.0.2 .. 127.0.0.254 */
#define BENCH_MAX_SOCKETS	4096
#define BENCH_MAX_BATCH		256
#define BENCH_LINE_MAX		512
#define BENCH_SAMPLES_MAX	(1 << 21)	/* latencies kept, reservoir */
#define BENCH_PKTINFO_SPACE	CMSG_SPACE(sizeof(struct in_pktinfo))

struct bench_opts {
	const char	*host;		/* receiver, a 127/8 or ::1 literal */
	int		 port;		/* rendezvous or sink port */
	int		 admin_port;	/* daemon's /stats, 0: none */
	double		 duration;	/* seconds; every run has one */
	uint64_t	 count;		/* operations, 0: duration only */
	uint64_t	 rate;		/* per second, 0: flat out */
	uint64_t	 n;		/* fill-*: how many */
	int		 inflight;	/* TCP exchanges or pairs at once */
	int		 sockets;	/* sending sockets */
	int		 window;	/* closed loop: requests per socket */
	int		 batch;		/* datagrams per sendmmsg */
	int		 cpu;		/* pin the generator, -1: no */
	int		 sink_cpu;	/* pin a forked sink, -1: no */
	int		 sink;		/* udp: drive a forked sink instead */
	pid_t		 pid;		/* daemon, for RSS; 0: none */
	long		 peer_port;	/* first PeerPort */
	int		 keys;		/* distinct PeerPorts per socket */
	int		 src_ips;	/* closed loop: source addresses */
	int		 pad;		/* ack: request size */
	int		 servers;	/* clientserver: Server sessions */
	int		 timeout_ms;	/* closed loop: refill a window */
	double		 drain;		/* seconds to let a receiver drain */
	int		 burst;		/* udp: datagrams per paused round */
	const char	*path;		/* stall: admin URL to stream */
};

/* Latencies in nanoseconds, kept by reservoir sampling. */
struct bench_lat {
	uint64_t	*v;
	size_t		 n;		/* samples held */
	uint64_t	 seen;		/* samples offered */
	uint64_t	 rng;
};

/* main.c */
extern const char *bench_progname;

/* util.c */
uint64_t	 bench_now_ns(void);
void		 bench_sleep_ns(uint64_t);
int		 bench_pin(int);
void		 bench_src_ip(int, char *, size_t);
void		 bench_wide_src(uint64_t, struct in_addr *);
void		 bench_pktinfo(struct msghdr *, void *, struct in_addr);
socklen_t	 bench_sockaddr(const char *, int, struct sockaddr_storage *);
int		 bench_loopback(const char *);
int		 bench_udp_socket(const char *, int);
int		 bench_tcp_connect(const char *, const char *, int);
int		 bench_set_nonblock(int);
uint64_t	 bench_deadline(const struct bench_opts *, uint64_t);
void		 bench_pace(uint64_t, uint64_t, uint64_t);
int		 bench_lat_init(struct bench_lat *);
void		 bench_lat_add(struct bench_lat *, uint64_t);
uint64_t	 bench_lat_pct(struct bench_lat *, double);
void		 bench_lat_free(struct bench_lat *);
void		 bench_warnx(const char *, ...)
		    __attribute__((format(printf, 1, 2)));

/* stats_client.c */
int		 bench_stat(const struct bench_opts *, const char *,
		    long long *);
int		 bench_wait_stat(const struct bench_opts *, const char *,
		    long long, double);
long long	 bench_rss_kb(pid_t);
uint64_t	 bench_cpu_ns(pid_t);

/* sink.c */
int		 bench_sink_udp_loop(const struct bench_opts *,
		    volatile uint64_t *, volatile int *);
int		 bench_sink_udp(const struct bench_opts *);
int		 bench_sink_tcp(const struct bench_opts *);

/* udp_load.c */
int		 bench_udp(const struct bench_opts *);

/* closed_loop.c */
int		 bench_ack(const struct bench_opts *);
int		 bench_stun(const struct bench_opts *);

/* stun.c: the closed loop's requests and the answers it accepts */
size_t		 bench_stun_request(unsigned char *, uint32_t, uint64_t);
int		 bench_stun_valid(const unsigned char *, size_t, uint32_t,
		    int);
size_t		 bench_ack_request(unsigned char *, size_t, uint32_t);
int		 bench_ack_valid(const unsigned char *, size_t, uint32_t,
		    uint32_t, int);

/* rdv_load.c */
int		 bench_pairs(const struct bench_opts *);
int		 bench_clientserver(const struct bench_opts *);
int		 bench_exchange(const struct bench_opts *);

/* stall.c */
int		 bench_stall(const struct bench_opts *);

/* fill.c */
int		 bench_fill_leases(const struct bench_opts *);
int		 bench_fill_sessions(const struct bench_opts *);

#endif /* CB_BENCH_H */
