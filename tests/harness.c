/*
 * The end-to-end test harness (see harness.h).
 *
 * A daemon is the test process's child, started on ports the harness
 * found free on the loopback addresses, with its stdout and stderr in a
 * log file.  It is ready when GET /healthz answers; if it exits first
 * because a port was taken in the meantime, it is started again on new
 * ones.  Should the test process die with the daemon running (a failed
 * Check assertion ends it with _exit()), the daemon gets SIGKILL from
 * the kernel (PR_SET_PDEATHSIG), and a small "reaper" process, which
 * waits on a pipe only the test process holds, prints the tail of the
 * daemon's log, so the failure comes with the daemon's side of the story.
 */
#include "autoconf.h"

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "harness.h"
#include "util.h"

#define H_START_ATTEMPTS	10	/* new ports after a bind failure */
#define H_START_TIMEOUT_MS	10000
#define H_STOP_TIMEOUT_MS	5000
#define H_POLL_MS		10
#define H_MAX_ARGS		64
#define H_LOG_TAIL		40	/* lines printed on failure */
#define H_LOG_MAX		(1 << 20)	/* bytes searched or printed */
#define H_HTTP_MAX		(64 << 20)	/* largest response read */
#define H_WRAPPER_SCALE		10	/* deadline stretch under a wrapper */

static socklen_t h_sockaddr(const char *, int, struct sockaddr_storage *);
static int	h_bind(const char *, int, int);
static int	h_port_free(int);
static int	h_pick_port(int);
static int	h_daemon_try(struct h_daemon *, const char *const *);
static pid_t	h_spawn(const struct h_daemon *, const char *const *, int);
static void	h_exec(char *const [], int, pid_t)
		    __attribute__((noreturn));
static int	h_daemon_wait_ready(struct h_daemon *);
static int	h_pid_listens(pid_t, int);
static int	h_pid_has_socket(pid_t, unsigned long);
static int	h_daemon_reap(struct h_daemon *, int);
static void	h_reaper_start(struct h_daemon *);
static void	h_reaper(const struct h_daemon *, int)
		    __attribute__((noreturn));
static void	h_reaper_release(struct h_daemon *);
static char	*h_log_read(const struct h_daemon *, size_t *);
static int	h_wait_fd(int, short, uint64_t);
static char	*h_read_all(int, size_t *, uint64_t);
static int	h_http_parse(char *, size_t, int, struct h_http_response *);
static int	h_http_headers(char *, struct h_http_response *);
static int	h_http_body(const char *, size_t, int,
		    struct h_http_response *);
static char	*h_dechunk(const char *, size_t, size_t *);

/* Milliseconds of the monotonic clock. */
uint64_t
h_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

/* A deadline, stretched when the daemon runs under valgrind or the like. */
int
h_scale_ms(int ms)
{
	const char	*wrapper = getenv("CB_DAEMON_WRAPPER");

	if (wrapper != NULL && *wrapper != '\0')
		return (ms * H_WRAPPER_SCALE);
	return (ms);
}

/* Starts a daemon with the extra flags given, NULL-terminated. */
int
h_daemon_start(struct h_daemon *d, ...)
{
	const char	*args[H_MAX_ARGS + 1], *arg;
	va_list		 ap;
	int		 n = 0;

	va_start(ap, d);
	while ((arg = va_arg(ap, const char *)) != NULL && n < H_MAX_ARGS)
		args[n++] = arg;
	va_end(ap);
	args[n] = NULL;
	return (h_daemon_startv(d, args));
}

/* Starts a daemon with the extra flags in a NULL-terminated array. */
int
h_daemon_startv(struct h_daemon *d, const char *const *args)
{
	int	attempt, rc;

	memset(d, 0, sizeof(*d));
	d->pid = d->reaper = -1;
	d->reaper_fd = -1;
	if (getenv("CB_BINARY") == NULL) {
		fprintf(stderr, "harness: CB_BINARY is not set\n");
		return (-1);
	}
	for (attempt = 0; attempt < H_START_ATTEMPTS; attempt++) {
		if ((rc = h_daemon_try(d, args)) == 0) {
			h_reaper_start(d);
			return (0);
		}
		if (rc == -1)
			return (-1);
	}
	fprintf(stderr, "harness: no free ports after %d attempts\n",
	    H_START_ATTEMPTS);
	return (-1);
}

/* SIGTERM, then the exit status; see harness.h. */
int
h_daemon_stop(struct h_daemon *d)
{
	int	code;

	if (d->pid != -1) {
		kill(d->pid, SIGTERM);
		if (h_daemon_reap(d, h_scale_ms(H_STOP_TIMEOUT_MS)) == -1) {
			fprintf(stderr, "harness: daemon pid %d still runs "
			    "after SIGTERM; killing it\n", (int)d->pid);
			kill(d->pid, SIGKILL);
			h_daemon_reap(d, h_scale_ms(H_STOP_TIMEOUT_MS));
			d->exit_code = -1;
		}
	}
	code = d->exit_code;
	if (code != 0) {
		fprintf(stderr, "harness: daemon exit status %d\n", code);
		h_daemon_log_tail(d, H_LOG_TAIL);
	}
	if (d->reaper == -1)
		unlink(d->log_path);	/* nobody else will */
	h_reaper_release(d);
	return (code);
}

/* 1 while the daemon runs; 0 once it has exited (status kept). */
int
h_daemon_alive(struct h_daemon *d)
{
	if (d->pid == -1)
		return (0);
	return (h_daemon_reap(d, 0) == -1);
}

/* Prints the last lines of the daemon's log to stderr. */
void
h_daemon_log_tail(const struct h_daemon *d, int lines)
{
	char	*log, *p;
	size_t	 len;

	if ((log = h_log_read(d, &len)) == NULL)
		return;
	p = log + len;
	if (p > log && p[-1] == '\n')
		p--;
	while (p > log && lines > 0) {
		if (*--p == '\n')
			lines--;
	}
	if (*p == '\n')
		p++;
	fprintf(stderr, "---- daemon log %s (last lines) ----\n%s"
	    "---- end of daemon log ----\n", d->log_path, p);
	free(log);
}

/* 1 if the daemon's log so far contains the text. */
int
h_daemon_log_contains(const struct h_daemon *d, const char *text)
{
	char	*log;
	size_t	 len;
	int	 found;

	if ((log = h_log_read(d, &len)) == NULL)
		return (0);
	found = strstr(log, text) != NULL;
	free(log);
	return (found);
}

/* 1 if this host can bind ::1. */
int
h_have_ipv6(void)
{
	int	fd;

	if ((fd = h_bind("::1", SOCK_DGRAM, 0)) == -1)
		return (0);
	close(fd);
	return (1);
}

/* A UDP socket bound to ip:port (port 0: any). */
int
h_udp_socket(const char *ip, int port)
{
	return (h_bind(ip, SOCK_DGRAM, port));
}

/* Sends one datagram to ip:port. */
int
h_udp_send(int fd, const char *ip, int port, const void *buf, size_t len)
{
	struct sockaddr_storage	ss;
	socklen_t		sslen;

	if ((sslen = h_sockaddr(ip, port, &ss)) == 0)
		return (-1);
	if (sendto(fd, buf, len, 0, (struct sockaddr *)&ss, sslen) !=
	    (ssize_t)len)
		return (-1);
	return (0);
}

/*
 * Sends {"PeerPort":N} to the daemon, at 127.0.0.1 or ::1 after the
 * socket's own family.
 */
int
h_udp_register(int fd, const struct h_daemon *d, long long peer_port)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	char			 msg[64];
	int			 n;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return (-1);
	n = snprintf(msg, sizeof(msg), "{\"PeerPort\":%lld}", peer_port);
	return (h_udp_send(fd, ss.ss_family == AF_INET6 ? "::1" :
	    "127.0.0.1", d->port, msg, (size_t)n));
}

/* 1 if a datagram (even an empty one) waits on the socket, else 0. */
int
h_udp_pending(int fd)
{
	char	c;

	if (recv(fd, &c, sizeof(c), MSG_DONTWAIT | MSG_PEEK) >= 0)
		return (1);
	return (errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1);
}

/* A TCP connection from src (NULL: any) to dst:port. */
int
h_tcp_connect(const char *src, const char *dst, int port, int timeout_ms)
{
	struct sockaddr_storage	ss;
	socklen_t		sslen, errlen = sizeof(int);
	uint64_t		deadline = h_now_ms() + h_scale_ms(timeout_ms);
	int			fd, err = 0, flags;

	if ((sslen = h_sockaddr(dst, port, &ss)) == 0)
		return (-1);
	fd = src != NULL ? h_bind(src, SOCK_STREAM, 0) :
	    socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return (-1);
	flags = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	if (connect(fd, (struct sockaddr *)&ss, sslen) == -1) {
		if (errno != EINPROGRESS ||
		    h_wait_fd(fd, POLLOUT, deadline) != 1 ||
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &errlen) == -1 ||
		    err != 0) {
			close(fd);
			return (-1);
		}
	}
	fcntl(fd, F_SETFL, flags);
	return (fd);
}

/* Writes all of buf before the deadline. */
int
h_send_all(int fd, const void *buf, size_t len, int timeout_ms)
{
	const char	*p = buf;
	uint64_t	 deadline = h_now_ms() + h_scale_ms(timeout_ms);
	ssize_t		 n;

	while (len > 0) {
		if (h_wait_fd(fd, POLLOUT, deadline) != 1)
			return (-1);
		n = send(fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			return (-1);
		p += n;
		len -= (size_t)n;
	}
	return (0);
}

/*
 * Reads one line, a byte at a time so nothing after it is consumed;
 * returns its length without the newline, or -1 on timeout, error, end
 * of file or a line longer than the buffer.
 */
ssize_t
h_read_line(int fd, char *buf, size_t size, int timeout_ms)
{
	uint64_t	deadline = h_now_ms() + h_scale_ms(timeout_ms);
	size_t		len = 0;
	ssize_t		n;
	char		c;

	while (len + 1 < size) {
		if (h_wait_fd(fd, POLLIN, deadline) != 1)
			return (-1);
		n = recv(fd, &c, 1, MSG_DONTWAIT);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			return (-1);
		if (c == '\n') {
			buf[len] = '\0';
			return ((ssize_t)len);
		}
		buf[len++] = c;
	}
	return (-1);
}

/*
 * Discards input until the peer closes: 1 on an orderly end of file, -1
 * on a reset or error, 0 if it is still open at the deadline.
 */
int
h_wait_eof(int fd, int timeout_ms)
{
	uint64_t	deadline = h_now_ms() + h_scale_ms(timeout_ms);
	char		buf[512];
	ssize_t		n;

	for (;;) {
		if (h_wait_fd(fd, POLLIN, deadline) != 1)
			return (0);
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0)
			return (1);
		if (n == -1 && errno != EAGAIN && errno != EINTR)
			return (-1);
	}
}

/* One request to the daemon's admin API; see harness.h. */
int
h_http(const struct h_daemon *d, const char *method, const char *path,
    const char *headers, struct h_http_response *r)
{
	char	*req;
	int	 n, rc;

	n = asprintf(&req, "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
	    "Connection: close\r\n%s\r\n", method, path, d->admin_port,
	    headers != NULL ? headers : "");
	if (n == -1) {
		memset(r, 0, sizeof(*r));
		return (-1);
	}
	rc = h_http_raw("127.0.0.1", d->admin_port, req, (size_t)n,
	    strcmp(method, "HEAD") == 0, r);
	free(req);
	return (rc);
}

/* Sends raw request bytes and reads the response up to end of file. */
int
h_http_raw(const char *ip, int port, const char *req, size_t len, int head,
    struct h_http_response *r)
{
	uint64_t	 deadline = h_now_ms() + h_scale_ms(H_TIMEOUT_MS);
	char		*buf;
	size_t		 buflen;
	int		 fd;

	memset(r, 0, sizeof(*r));
	if ((fd = h_tcp_connect(NULL, ip, port, H_TIMEOUT_MS)) == -1)
		return (-1);
	if (h_send_all(fd, req, len, H_TIMEOUT_MS) == -1) {
		close(fd);
		return (-1);
	}
	buf = h_read_all(fd, &buflen, deadline);
	close(fd);
	if (buf == NULL)
		return (-1);
	if (h_http_parse(buf, buflen, head, r) == -1) {
		h_http_response_free(r);	/* frees buf, as r->head */
		return (-1);
	}
	return (0);
}

/* The value of a response header, by case-insensitive name, or NULL. */
const char *
h_http_header(const struct h_http_response *r, const char *name)
{
	int	i;

	for (i = 0; i < r->nheaders; i++) {
		if (strcasecmp(r->headers[i].name, name) == 0)
			return (r->headers[i].value);
	}
	return (NULL);
}

/* Frees what a response holds; it may be reused. */
void
h_http_response_free(struct h_http_response *r)
{
	free(r->head);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

/*
 * GET path and parse the body as one JSON value (surrounding whitespace
 * allowed); NULL if the request failed or the body is not JSON.
 */
struct json_object *
h_get_json(const struct h_daemon *d, const char *path, int *status)
{
	struct h_http_response	 r;
	struct json_tokener	*tok;
	struct json_object	*obj = NULL;
	size_t			 end;

	if (status != NULL)
		*status = -1;
	if (h_http(d, "GET", path, NULL, &r) == -1)
		return (NULL);
	if (status != NULL)
		*status = r.status;
	if ((tok = json_tokener_new()) != NULL) {
		obj = json_tokener_parse_ex(tok, r.body, (int)r.body_len);
		end = json_tokener_get_parse_end(tok);
		if (obj != NULL && (json_tokener_get_error(tok) !=
		    json_tokener_success || strspn(r.body + end, " \t\r\n") !=
		    r.body_len - end)) {
			json_object_put(obj);
			obj = NULL;
		}
		json_tokener_free(tok);
	}
	h_http_response_free(&r);
	return (obj);
}

/*
 * A /stats number by its dotted path ("udp_invalid", "requests.peer");
 * -1 if it cannot be read.
 */
long long
h_stat(const struct h_daemon *d, const char *path)
{
	struct json_object	*root, *obj;
	char			*copy, *key, *rest;
	long long		 value = -1;

	if ((root = h_get_json(d, "/stats", NULL)) == NULL)
		return (-1);
	if ((copy = strdup(path)) == NULL) {
		json_object_put(root);
		return (-1);
	}
	obj = root;
	rest = copy;
	while (obj != NULL && (key = strsep(&rest, ".")) != NULL) {
		if (!json_object_object_get_ex(obj, key, &obj))
			obj = NULL;
	}
	if (obj != NULL && json_object_is_type(obj, json_type_int))
		value = (long long)json_object_get_int64(obj);
	free(copy);
	json_object_put(root);
	return (value);
}

/* Polls /stats until the number at path is at least want: 0, else -1. */
int
h_wait_stat(const struct h_daemon *d, const char *path, long long want,
    int timeout_ms)
{
	uint64_t	deadline = h_now_ms() + h_scale_ms(timeout_ms);

	for (;;) {
		if (h_stat(d, path) >= want)
			return (0);
		if (h_now_ms() >= deadline)
			return (-1);
		poll(NULL, 0, H_POLL_MS);
	}
}

/* Polls pred every H_POLL_MS: 1 once it holds, 0 at the deadline. */
int
h_poll_until(int (*pred)(void *), void *arg, int timeout_ms)
{
	uint64_t	deadline = h_now_ms() + h_scale_ms(timeout_ms);

	for (;;) {
		if (pred(arg))
			return (1);
		if (h_now_ms() >= deadline)
			return (0);
		poll(NULL, 0, H_POLL_MS);
	}
}

/* Fills ss from an IP literal and a port; its length, or 0 if no IP. */
static socklen_t
h_sockaddr(const char *ip, int port, struct sockaddr_storage *ss)
{
	struct cb_ip	addr;

	if (cb_ip_parse(&addr, ip) == -1)
		return (0);
	return (cb_ip_to_sockaddr(&addr, (uint16_t)port, ss));
}

/* A socket of the type bound to ip:port; IPv6 ones are IPv6 only. */
static int
h_bind(const char *ip, int type, int port)
{
	struct sockaddr_storage	ss;
	socklen_t		len;
	int			fd, on = 1;

	if ((len = h_sockaddr(ip, port, &ss)) == 0)
		return (-1);
	if ((fd = socket(ss.ss_family, type | SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	if ((ss.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &on, sizeof(on)) == -1) ||
	    bind(fd, (struct sockaddr *)&ss, len) == -1) {
		close(fd);
		return (-1);
	}
	return (fd);
}

/* 1 if TCP and UDP can bind the port on 127.0.0.1, and ::1 if present. */
static int
h_port_free(int port)
{
	static const struct {
		const char	*ip;
		int		 type;
	} probes[] = {
		{ "127.0.0.1", SOCK_STREAM }, { "127.0.0.1", SOCK_DGRAM },
		{ "::1", SOCK_STREAM }, { "::1", SOCK_DGRAM },
	};
	int	fds[4], n = 0, free_ = 1, v6 = h_have_ipv6();
	size_t	i;

	for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		if (probes[i].ip[0] == ':' && !v6)
			continue;
		if ((fds[n] = h_bind(probes[i].ip, probes[i].type,
		    port)) == -1) {
			free_ = 0;
			break;
		}
		n++;
	}
	while (n > 0)
		close(fds[--n]);
	return (free_);
}

/*
 * A port free as h_port_free() sees it, other than avoid.  It is drawn
 * below the kernel's ephemeral range: ports in that range are handed out
 * as source ports to every outgoing connection and datagram of every test
 * running alongside, and one of them may take it before the daemon binds.
 */
static int
h_pick_port(int avoid)
{
	static pid_t	seeded;
	unsigned int	low = 32768, high = 60999;
	int		attempt, port;
	FILE		*f;

	/* Each process (Check forks one per test) draws its own ports. */
	if (seeded != getpid()) {
		seeded = getpid();
		srandom((unsigned int)seeded ^ (unsigned int)h_now_ms());
	}

	if ((f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r")) !=
	    NULL) {
		if (fscanf(f, "%u %u", &low, &high) != 2)
			low = 32768;
		fclose(f);
	}
	if (low <= 2048)
		low = 32768;	/* no room below: take our chances above */
	for (attempt = 0; attempt < 200; attempt++) {
		port = 1024 + (int)((unsigned int)random() % (low - 1024));
		if (port != avoid && h_port_free(port))
			return (port);
	}
	return (-1);
}

/* One start: 0 when ready, 1 if a port was taken, -1 on failure. */
static int
h_daemon_try(struct h_daemon *d, const char *const *args)
{
	const char	*tmp = getenv("TMPDIR");
	int		 fd, taken;

	if ((d->port = h_pick_port(0)) == -1 ||
	    (d->admin_port = h_pick_port(d->port)) == -1) {
		fprintf(stderr, "harness: cannot find a free port\n");
		return (-1);
	}
	snprintf(d->log_path, sizeof(d->log_path), "%s/cb-harness-XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if ((fd = mkstemp(d->log_path)) == -1) {
		fprintf(stderr, "harness: mkstemp: %s\n", strerror(errno));
		return (-1);
	}
	d->pid = h_spawn(d, args, fd);
	close(fd);
	if (d->pid != -1 && h_daemon_wait_ready(d) == 0)
		return (0);
	if (d->pid != -1 && h_daemon_alive(d)) {
		kill(d->pid, SIGKILL);
		h_daemon_reap(d, h_scale_ms(H_STOP_TIMEOUT_MS));
	}
	taken = h_daemon_log_contains(d, "in use");
	if (!taken) {
		fprintf(stderr, "harness: the daemon did not become ready\n");
		h_daemon_log_tail(d, H_LOG_TAIL);
	}
	unlink(d->log_path);
	return (taken ? 1 : -1);
}

/*
 * Forks and runs [wrapper...] $CB_BINARY -config= -port=P
 * -admin=127.0.0.1:A args..., its output going to the log.
 */
static pid_t
h_spawn(const struct h_daemon *d, const char *const *args, int log_fd)
{
	const char	*wrapper = getenv("CB_DAEMON_WRAPPER");
	char		*argv[2 * H_MAX_ARGS + 5], *words = NULL, *w;
	char		 port_arg[32], admin_arg[48];
	pid_t		 parent = getpid(), pid;
	int		 argc = 0;

	if (wrapper != NULL && (words = strdup(wrapper)) != NULL) {
		for (w = strtok(words, " \t"); w != NULL && argc < H_MAX_ARGS;
		    w = strtok(NULL, " \t"))
			argv[argc++] = w;
	}
	snprintf(port_arg, sizeof(port_arg), "-port=%d", d->port);
	snprintf(admin_arg, sizeof(admin_arg), "-admin=127.0.0.1:%d",
	    d->admin_port);
	argv[argc++] = getenv("CB_BINARY");
	/* No installed config file may leak in; a test may name its own. */
	argv[argc++] = (char *)(uintptr_t)"-config=";
	argv[argc++] = port_arg;
	argv[argc++] = admin_arg;
	while (*args != NULL && argc < 2 * H_MAX_ARGS + 4)
		argv[argc++] = (char *)(uintptr_t)*args++;
	argv[argc] = NULL;
	if ((pid = fork()) == 0)
		h_exec(argv, log_fd, parent);
	free(words);
	return (pid);
}

/* In the child: dies with the test process; output to the log. */
static void
h_exec(char *const argv[], int log_fd, pid_t parent)
{
	int	null;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	if ((null = open("/dev/null", O_RDONLY)) != -1)
		dup2(null, STDIN_FILENO);
	if (dup2(log_fd, STDOUT_FILENO) == -1 ||
	    dup2(log_fd, STDERR_FILENO) == -1)
		_exit(126);
	signal(SIGPIPE, SIG_DFL);
	execvp(argv[0], argv);
	fprintf(stderr, "harness: cannot run %s: %s\n", argv[0],
	    strerror(errno));
	_exit(127);
}

/* 1 if process pid holds the socket with this inode number. */
static int
h_pid_has_socket(pid_t pid, unsigned long inode)
{
	struct dirent	*de;
	DIR		*dir;
	char		 path[320], link[PATH_MAX], want[64];
	ssize_t		 n;
	int		 found = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	snprintf(want, sizeof(want), "socket:[%lu]", inode);
	if ((dir = opendir(path)) == NULL)
		return (0);
	while (!found && (de = readdir(dir)) != NULL) {
		snprintf(path, sizeof(path), "/proc/%d/fd/%s", (int)pid,
		    de->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n > 0) {
			link[n] = '\0';
			found = strcmp(link, want) == 0;
		}
	}
	closedir(dir);
	return (found);
}

/* 1 if process pid holds a TCP socket listening on port (any family). */
static int
h_pid_listens(pid_t pid, int port)
{
	static const char *const tables[] = { "/proc/net/tcp",
	    "/proc/net/tcp6" };
	char		 line[512];
	unsigned int	 lport, state;
	unsigned long	 inode;
	size_t		 i;
	int		 found = 0;
	FILE		*f;

	for (i = 0; !found && i < sizeof(tables) / sizeof(*tables); i++) {
		if ((f = fopen(tables[i], "r")) == NULL)
			continue;
		while (!found && fgets(line, sizeof(line), f) != NULL) {
			if (sscanf(line, " %*d: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:"
			    "%*x %x %*s %*s %*s %*d %*d %lu", &lport, &state,
			    &inode) == 3 && (int)lport == port &&
			    state == 0x0a)
				found = h_pid_has_socket(pid, inode);
		}
		fclose(f);
	}
	return (found);
}

/*
 * Polls GET /healthz: 0 once our daemon answers 200, -1 if it exits.
 */
static int
h_daemon_wait_ready(struct h_daemon *d)
{
	struct h_http_response	r;
	uint64_t		deadline;
	int			status;

	deadline = h_now_ms() + h_scale_ms(H_START_TIMEOUT_MS);
	while (h_now_ms() < deadline) {
		if (!h_daemon_alive(d))
			return (-1);
		if (h_http(d, "GET", "/healthz", NULL, &r) == 0) {
			status = r.status;
			h_http_response_free(&r);
			/*
			 * Another test's daemon may have taken the admin port
			 * between our check and our bind; only ours counts.
			 */
			if (status == 200 && h_pid_listens(d->pid,
			    d->admin_port))
				return (0);
		}
		poll(NULL, 0, 2 * H_POLL_MS);
	}
	fprintf(stderr, "harness: no answer on /healthz in time\n");
	return (-1);
}

/*
 * Waits until deadline (an h_now_ms() time) for the child pid to exit:
 * 1 with its wait status in *status, 0 if it still runs at the deadline,
 * -1 if it cannot be waited for.
 */
int
h_reap(pid_t pid, uint64_t deadline, int *status)
{
	pid_t	got;

	for (;;) {
		got = waitpid(pid, status, WNOHANG);
		if (got == pid)
			return (1);
		if (got == -1 && errno != EINTR)
			return (-1);
		if (h_now_ms() >= deadline)
			return (0);
		poll(NULL, 0, H_POLL_MS);
	}
}

/*
 * Waits up to timeout_ms (not scaled) for the daemon to exit and records
 * its status: 0 once it has, -1 if it still runs.
 */
static int
h_daemon_reap(struct h_daemon *d, int timeout_ms)
{
	int	status, rc;

	rc = h_reap(d->pid, h_now_ms() + (uint64_t)timeout_ms, &status);
	if (rc == 0)
		return (-1);
	if (rc == -1)
		d->exit_code = -1;
	else if (WIFEXITED(status))
		d->exit_code = WEXITSTATUS(status);
	else
		d->exit_code = 128 + WTERMSIG(status);
	d->pid = -1;
	return (0);
}

/* Forks the reaper; without one, a failing test just prints less. */
static void
h_reaper_start(struct h_daemon *d)
{
	int	fds[2];
	pid_t	pid;

	if (pipe2(fds, O_CLOEXEC) == -1)
		return;
	if ((pid = fork()) == 0) {
		close(fds[1]);
		h_reaper(d, fds[0]);
	}
	close(fds[0]);
	if (pid == -1) {
		close(fds[1]);
		return;
	}
	d->reaper = pid;
	d->reaper_fd = fds[1];
}

/*
 * The reaper.  A byte on the pipe means the test stopped its daemon: the
 * log stays until the test process ends (end of file), for the test to
 * read, and is then deleted.  End of file first means the test process
 * died with the daemon running.  The reaper holds no other descriptor,
 * and leaves the test's process group so that a Check timeout killing the
 * group does not silence it.
 */
static void
h_reaper(const struct h_daemon *d, int fd)
{
	ssize_t	n;
	char	c;
	int	i;

	for (i = 3; i < 1024; i++) {
		if (i != fd)
			close(i);
	}
	setpgid(0, 0);
	do {
		n = read(fd, &c, 1);
	} while (n == -1 && errno == EINTR);
	if (n != 1) {
		kill(d->pid, SIGKILL);
		fprintf(stderr, "harness: the test ended with daemon pid %d "
		    "running\n", (int)d->pid);
		h_daemon_log_tail(d, H_LOG_TAIL);
	}
	while (n == 1 || (n == -1 && errno == EINTR))
		n = read(fd, &c, 1);
	unlink(d->log_path);
	_exit(0);
}

/*
 * Tells the reaper the daemon is stopped.  The pipe stays open: the test
 * process's end closes it, and the reaper, reparented by then, deletes
 * the log.
 */
static void
h_reaper_release(struct h_daemon *d)
{
	if (d->reaper_fd != -1 && write(d->reaper_fd, "q", 1) != 1)
		fprintf(stderr, "harness: cannot release the reaper\n");
}

/* The daemon's log, at most its last H_LOG_MAX bytes, NUL-terminated. */
static char *
h_log_read(const struct h_daemon *d, size_t *len)
{
	struct stat	 st;
	char		*buf;
	ssize_t		 n;
	off_t		 from = 0;
	int		 fd;

	if ((fd = open(d->log_path, O_RDONLY | O_CLOEXEC)) == -1)
		return (NULL);
	if (fstat(fd, &st) == 0 && st.st_size > H_LOG_MAX)
		from = st.st_size - H_LOG_MAX;
	if ((buf = malloc(H_LOG_MAX + 1)) == NULL ||
	    (n = pread(fd, buf, H_LOG_MAX, from)) < 0) {
		free(buf);
		close(fd);
		return (NULL);
	}
	close(fd);
	buf[n] = '\0';
	*len = strlen(buf);
	return (buf);
}

/* Polls one descriptor until the deadline: 1 ready, 0 timeout, -1 error. */
static int
h_wait_fd(int fd, short events, uint64_t deadline)
{
	struct pollfd	pfd;
	uint64_t	now;
	int		n;

	for (;;) {
		if ((now = h_now_ms()) >= deadline)
			return (0);
		pfd.fd = fd;
		pfd.events = events;
		n = poll(&pfd, 1, (int)(deadline - now));
		if (n == -1 && errno == EINTR)
			continue;
		return (n > 0 ? 1 : n);
	}
}

/* Reads until end of file; NULL on timeout, error or too much data. */
static char *
h_read_all(int fd, size_t *len, uint64_t deadline)
{
	char	*buf = NULL, *nbuf;
	size_t	 size = 0;
	ssize_t	 n;

	*len = 0;
	for (;;) {
		if (size - *len < 4096) {
			size = size == 0 ? 65536 : size * 2;
			if (size > H_HTTP_MAX ||
			    (nbuf = realloc(buf, size + 1)) == NULL)
				break;
			buf = nbuf;
		}
		if (h_wait_fd(fd, POLLIN, deadline) != 1)
			break;
		n = recv(fd, buf + *len, size - *len, MSG_DONTWAIT);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0) {
			if (n == 0) {
				buf[*len] = '\0';
				return (buf);
			}
			break;
		}
		*len += (size_t)n;
	}
	free(buf);
	return (NULL);
}

/*
 * Splits a response read whole into status, headers and body; the body
 * must be framed as the headers say (chunks, Content-Length or end of
 * file).  Takes buf over.
 */
static int
h_http_parse(char *buf, size_t len, int head, struct h_http_response *r)
{
	char	*end;
	size_t	 hlen;

	memset(r, 0, sizeof(*r));
	r->head = buf;
	if ((end = memmem(buf, len, "\r\n\r\n", 4)) == NULL)
		return (-1);
	*end = '\0';
	hlen = (size_t)(end - buf) + 4;
	if (sscanf(buf, "HTTP/1.%*d %d", &r->status) != 1 ||
	    h_http_headers(buf, r) == -1)
		return (-1);
	return (h_http_body(buf + hlen, len - hlen, head, r));
}

/* Splits the header lines in place. */
static int
h_http_headers(char *head, struct h_http_response *r)
{
	char	*line, *next, *colon;

	if ((line = strstr(head, "\r\n")) == NULL)
		return (0);
	for (line += 2; line != NULL; line = next) {
		if ((next = strstr(line, "\r\n")) != NULL) {
			*next = '\0';
			next += 2;
		}
		if ((colon = strchr(line, ':')) == NULL ||
		    r->nheaders == H_MAX_HEADERS)
			return (-1);
		*colon++ = '\0';
		colon += strspn(colon, " \t");
		r->headers[r->nheaders].name = line;
		r->headers[r->nheaders++].value = colon;
	}
	return (0);
}

/* Copies out the body, checking its framing. */
static int
h_http_body(const char *p, size_t len, int head, struct h_http_response *r)
{
	const char	*te = h_http_header(r, "Transfer-Encoding");
	const char	*cl = h_http_header(r, "Content-Length");

	if (!head && te != NULL && strcasecmp(te, "chunked") == 0) {
		r->chunked = 1;
		r->body = h_dechunk(p, len, &r->body_len);
		return (r->body == NULL ? -1 : 0);
	}
	if (!head && cl != NULL && strtoull(cl, NULL, 10) != len)
		return (-1);
	if ((r->body = malloc(len + 1)) == NULL)
		return (-1);
	memcpy(r->body, p, len);
	r->body[len] = '\0';
	r->body_len = len;
	return (0);
}

/* Decodes a chunked body that must end with its last chunk. */
static char *
h_dechunk(const char *p, size_t len, size_t *outlen)
{
	const char	*end = p + len, *eol;
	char		*out, *stop;
	size_t		 size;

	if ((out = malloc(len + 1)) == NULL)
		return (NULL);
	*outlen = 0;
	while ((eol = memmem(p, (size_t)(end - p), "\r\n", 2)) != NULL) {
		size = strtoul(p, &stop, 16);
		if (stop == p || (stop != eol && *stop != ';'))
			break;
		p = eol + 2;
		if (size == 0) {
			if (end - p == 2 && memcmp(p, "\r\n", 2) == 0) {
				out[*outlen] = '\0';
				return (out);
			}
			break;
		}
		if ((size_t)(end - p) < size + 2 ||
		    memcmp(p + size, "\r\n", 2) != 0)
			break;
		memcpy(out + *outlen, p, size);
		*outlen += size;
		p += size + 2;
	}
	free(out);
	return (NULL);
}
