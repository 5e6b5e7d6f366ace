/*
 * The end-to-end test harness: runs the real daemon ($CB_BINARY, under
 * $CB_DAEMON_WRAPPER if set, e.g. "valgrind --error-exitcode=99") on free
 * loopback ports and talks to it over plain sockets: UDP registrations
 * from distinct 127.0.0.x "public IPs", TCP requests, and HTTP to the
 * admin API.  Everything is bounded in time; nothing sleeps a fixed time.
 *
 * Functions return -1 (or NULL) on failure and never abort, so a test
 * states what it expects with Check's own assertions.  Every timeout a
 * function takes, in milliseconds, is scaled by h_scale_ms(), which
 * stretches it when the daemon runs under a wrapper such as valgrind.
 * If a test dies with its daemon still running, the daemon is killed and
 * the tail of its log is printed to stderr.
 */
#ifndef CB_HARNESS_H
#define CB_HARNESS_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

struct json_object;

#define H_TIMEOUT_MS	5000	/* default deadline of one operation */
#define H_MAX_HEADERS	32

/* A daemon started by h_daemon_start(). */
struct h_daemon {
	pid_t		 pid;		/* -1 once it has been waited for */
	int		 exit_code;	/* as h_daemon_stop() returns it */
	int		 port;		/* rendezvous port, UDP and TCP */
	int		 admin_port;	/* admin API on 127.0.0.1 */
	char		 log_path[256];	/* its stdout and stderr */
	pid_t		 reaper;	/* prints the log if the test dies */
	int		 reaper_fd;	/* a byte: the daemon was stopped */
};

struct h_header {
	const char	*name;
	const char	*value;
};

/* An HTTP response: status, headers, and the body, de-chunked. */
struct h_http_response {
	int		 status;
	int		 chunked;	/* came with chunked transfer coding */
	char		*head;		/* storage of the header strings */
	struct h_header	 headers[H_MAX_HEADERS];
	int		 nheaders;
	char		*body;		/* NUL-terminated */
	size_t		 body_len;
};

/* Time. */
uint64_t	 h_now_ms(void);
int		 h_scale_ms(int);

/*
 * The daemon.  h_daemon_start() takes extra flags, NULL-terminated, that
 * follow the -port= and -admin= it chooses; it returns 0 once GET
 * /healthz answers 200, having retried with new ports if the ones it
 * chose were taken meanwhile.  h_daemon_stop() sends SIGTERM and returns
 * the exit status (128 + the signal if one killed it, -1 if it was still
 * running at the deadline and had to be killed), printing the tail of the
 * log unless it is 0.  The log stays readable (h_daemon_log_contains())
 * until the test process ends, and is deleted then.
 */
int		 h_daemon_start(struct h_daemon *, ...)
		    __attribute__((sentinel));
int		 h_daemon_startv(struct h_daemon *, const char *const *);
int		 h_daemon_stop(struct h_daemon *);
int		 h_daemon_alive(struct h_daemon *);
void		 h_daemon_log_tail(const struct h_daemon *, int);
int		 h_daemon_log_contains(const struct h_daemon *, const char *);

/*
 * Sockets.  Source IPs are loopback addresses (127.0.0.2, 127.0.0.3, ...,
 * ::1), each a distinct "public IP" to the daemon; port 0 is any.
 */
int		 h_have_ipv6(void);
int		 h_udp_socket(const char *, int);
int		 h_udp_send(int, const char *, int, const void *, size_t);
int		 h_udp_register(int, const struct h_daemon *, long long);
int		 h_udp_pending(int);
int		 h_tcp_connect(const char *, const char *, int, int);
int		 h_send_all(int, const void *, size_t, int);
ssize_t		 h_read_line(int, char *, size_t, int);
int		 h_wait_eof(int, int);

/*
 * HTTP to the admin API, one connection per request.  h_http() sends
 * "METHOD PATH HTTP/1.1" with Host, Connection: close and the extra
 * header lines given ("Name: value\r\n", or NULL); h_http_raw() sends the
 * bytes given (head: the request was HEAD, so expect no body).
 */
int		 h_http(const struct h_daemon *, const char *, const char *,
		    const char *, struct h_http_response *);
int		 h_http_raw(const char *, int, const char *, size_t, int,
		    struct h_http_response *);
const char	*h_http_header(const struct h_http_response *, const char *);
void		 h_http_response_free(struct h_http_response *);
struct json_object *h_get_json(const struct h_daemon *, const char *, int *);
long long	 h_stat(const struct h_daemon *, const char *);
int		 h_wait_stat(const struct h_daemon *, const char *, long long,
		    int);

/* Polls the predicate every few ms; 1 once it holds, 0 at the deadline. */
int		 h_poll_until(int (*)(void *), void *, int);
int		 h_reap(pid_t, uint64_t, int *);

#endif /* CB_HARNESS_H */
