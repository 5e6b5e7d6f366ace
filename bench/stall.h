/*
 * The two halves of cb_bench stall, each driven from the mode's one
 * poll loop: the UDP probe that times the daemon's answers (probe.c) and
 * the HTTP client that streams an admin URL over and over (http_stream.c).
 */
#ifndef CB_BENCH_STALL_H
#define CB_BENCH_STALL_H

#include <netinet/in.h>

#include <stdint.h>

#include "bench.h"

/* One acknowledged registration in flight at a time, one a millisecond. */
struct bench_probe {
	const struct bench_opts	*o;
	int			 fd;
	int			 port;		/* local port: answers name it */
	int			 src_ips;	/* sources it rotates over */
	struct sockaddr_storage	 to;
	socklen_t		 tolen;
	struct in_addr		 src;		/* source of the one in flight */
	uint64_t		 next_src;
	uint64_t		 sent_ns;	/* when it left, 0: none in flight */
	uint64_t		 sent_wall;	/* the same, by the wall clock */
	uint64_t		 due_ns;	/* when the next may leave */
	uint64_t		 sent, answered, lost, invalid;
	struct bench_lat	 lat;		/* round trips, ns */
};

int		 bench_probe_open(struct bench_probe *,
		    const struct bench_opts *);
void		 bench_probe_reset(struct bench_probe *);
uint64_t	 bench_probe_wait_ns(const struct bench_probe *, uint64_t);
void		 bench_probe_tick(struct bench_probe *, uint64_t);
void		 bench_probe_read(struct bench_probe *);
void		 bench_probe_finish(struct bench_probe *);
void		 bench_probe_close(struct bench_probe *);

enum bench_http_state {
	BH_IDLE,		/* no connection */
	BH_CONNECTING,
	BH_HEAD,		/* reading the status line and headers */
	BH_SIZE,		/* a chunk-size line */
	BH_DATA,		/* chunk data */
	BH_DATA_END,		/* the CRLF after chunk data */
	BH_TRAILER,		/* after the last chunk, up to an empty line */
	BH_TO_EOF,		/* a body that is not chunked: up to EOF */
};

/* GET of one URL at a time, body read and thrown away. */
struct bench_http {
	const struct bench_opts	*o;
	int			 fd;
	enum bench_http_state	 state;
	char			 line[4096];	/* headers, or a chunk line */
	size_t			 linelen;
	uint64_t		 left;		/* of the current chunk */
	uint64_t		 body;		/* of the current response */
	uint64_t		 start_ns;	/* of the current response */
	uint64_t		 pages, bytes, page_ns, failed;
};

void		 bench_http_init(struct bench_http *,
		    const struct bench_opts *);
int		 bench_http_start(struct bench_http *);
short		 bench_http_events(const struct bench_http *);
int		 bench_http_io(struct bench_http *);
void		 bench_http_close(struct bench_http *);

#endif /* CB_BENCH_STALL_H */
