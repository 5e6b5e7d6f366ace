/*
 * What every mode of cb_bench needs: the clock, pacing, CPU pinning,
 * loopback source addresses and sockets, and latency percentiles.
 */
#include "autoconf.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "util.h"

static int	lat_cmp(const void *, const void *);

/* Nanoseconds of the monotonic clock. */
uint64_t
bench_now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec);
}

/* Sleeps for ns nanoseconds. */
void
bench_sleep_ns(uint64_t ns)
{
	struct timespec	ts;

	ts.tv_sec = (time_t)(ns / 1000000000);
	ts.tv_nsec = (long)(ns % 1000000000);
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Prints a warning prefixed with the program's name. */
void
bench_warnx(const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "%s: ", bench_progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Pins the calling process to one CPU. */
int
bench_pin(int cpu)
{
	cpu_set_t	set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) == -1) {
		bench_warnx("cannot pin to CPU %d: %s", cpu, strerror(errno));
		return (-1);
	}
	return (0);
}

/* The i-th "public IP": 127.0.0.2 .. 127.0.0.254, then round again. */
void
bench_src_ip(int i, char *buf, size_t len)
{
	snprintf(buf, len, "127.0.0.%d", 2 + i % BENCH_SRC_IPS);
}

/*
 * The i-th source of the closed loops: 127.1.0.0 + i, so that each of
 * many simulated clients has its own address, and its own share of the
 * daemon's per-IP limits.
 */
void
bench_wide_src(uint64_t i, struct in_addr *a)
{
	a->s_addr = htonl((uint32_t)(0x7f010000U + i));
}

/*
 * Makes m leave from src whatever the socket is bound to: an IP_PKTINFO
 * control message in cbuf, BENCH_PKTINFO_SPACE bytes.
 */
void
bench_pktinfo(struct msghdr *m, void *cbuf, struct in_addr src)
{
	struct cmsghdr		*c;
	struct in_pktinfo	*pi;

	m->msg_control = cbuf;
	m->msg_controllen = BENCH_PKTINFO_SPACE;
	c = CMSG_FIRSTHDR(m);
	c->cmsg_level = IPPROTO_IP;
	c->cmsg_type = IP_PKTINFO;
	c->cmsg_len = CMSG_LEN(sizeof(*pi));
	pi = (struct in_pktinfo *)(void *)CMSG_DATA(c);
	memset(pi, 0, sizeof(*pi));
	pi->ipi_spec_dst = src;
}

/* Fills ss with ip:port; its length, or 0 if ip is no IP literal. */
socklen_t
bench_sockaddr(const char *ip, int port, struct sockaddr_storage *ss)
{
	struct cb_ip	addr;

	if (cb_ip_parse(&addr, ip) == -1)
		return (0);
	return (cb_ip_to_sockaddr(&addr, (uint16_t)port, ss));
}

/*
 * 1 if ip is in 127.0.0.0/8 or is ::1: the only places cb_bench sends
 * to, so that no load ever leaves the machine.
 */
int
bench_loopback(const char *ip)
{
	struct sockaddr_storage	 ss;

	if (bench_sockaddr(ip, 0, &ss) == 0)
		return (0);
	if (ss.ss_family == AF_INET)
		return ((ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr) >>
		    24) == 127);
	return (IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)&ss)->
	    sin6_addr));
}

/* A non-blocking UDP socket bound to ip:port; -1 on failure. */
int
bench_udp_socket(const char *ip, int port)
{
	struct sockaddr_storage	ss;
	socklen_t		len;
	int			fd, size = 1 << 20;

	if ((len = bench_sockaddr(ip, port, &ss)) == 0)
		return (-1);
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (fd == -1)
		return (-1);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	if (bind(fd, (struct sockaddr *)&ss, len) == -1) {
		close(fd);
		return (-1);
	}
	return (fd);
}

/* Makes fd non-blocking. */
int
bench_set_nonblock(int fd)
{
	int	flags = fcntl(fd, F_GETFL);

	return (flags == -1 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK));
}

/*
 * Starts a non-blocking connect from src (any port) to host:port; the fd,
 * or -1.  The source port is chosen at connect time
 * (IP_BIND_ADDRESS_NO_PORT), so every 4-tuple is usable and tens of
 * thousands of short connections a second do not run out of ports.
 */
int
bench_tcp_connect(const char *src, const char *host, int port)
{
	struct sockaddr_storage	ss;
	socklen_t		len;
	int			fd, one = 1;

	if ((len = bench_sockaddr(host, port, &ss)) == 0)
		return (-1);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd == -1)
		return (-1);
	if (src != NULL) {
		struct sockaddr_storage	ls;
		socklen_t		llen = bench_sockaddr(src, 0, &ls);

		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
		    sizeof(one));
		if (llen == 0 ||
		    bind(fd, (struct sockaddr *)&ls, llen) == -1) {
			close(fd);
			return (-1);
		}
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&ss, len) == -1 &&
	    errno != EINPROGRESS) {
		close(fd);
		return (-1);
	}
	return (fd);
}

/* When a run that started at start_ns must stop. */
uint64_t
bench_deadline(const struct bench_opts *o, uint64_t start_ns)
{
	return (start_ns + (uint64_t)(o->duration * 1e9));
}

/*
 * At rate per second, sleeps until the sent-th operation is due; with no
 * rate, returns at once.
 */
void
bench_pace(uint64_t rate, uint64_t start_ns, uint64_t sent)
{
	uint64_t	due, now;

	if (rate == 0)
		return;
	due = start_ns + (uint64_t)((double)sent * 1e9 / (double)rate);
	now = bench_now_ns();
	if (due > now)
		bench_sleep_ns(due - now);
}

/* An empty latency record. */
int
bench_lat_init(struct bench_lat *l)
{
	memset(l, 0, sizeof(*l));
	l->rng = 0x9e3779b97f4a7c15ULL;
	if ((l->v = calloc(BENCH_SAMPLES_MAX, sizeof(*l->v))) == NULL)
		return (-1);
	return (0);
}

/* Adds a sample; past the cap, each replaces a random one (reservoir). */
void
bench_lat_add(struct bench_lat *l, uint64_t ns)
{
	uint64_t	r;

	l->seen++;
	if (l->n < BENCH_SAMPLES_MAX) {
		l->v[l->n++] = ns;
		return;
	}
	l->rng ^= l->rng << 13;
	l->rng ^= l->rng >> 7;
	l->rng ^= l->rng << 17;
	r = l->rng % l->seen;
	if (r < BENCH_SAMPLES_MAX)
		l->v[r] = ns;
}

/* Orders samples for qsort(). */
static int
lat_cmp(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x < y ? -1 : x > y);
}

/* The p-th percentile (0..100) in nanoseconds; 0 with no samples. */
uint64_t
bench_lat_pct(struct bench_lat *l, double p)
{
	size_t	i;

	if (l->n == 0)
		return (0);
	qsort(l->v, l->n, sizeof(*l->v), lat_cmp);
	i = (size_t)(p / 100.0 * (double)(l->n - 1) + 0.5);
	return (l->v[i < l->n ? i : l->n - 1]);
}

/* Frees the samples. */
void
bench_lat_free(struct bench_lat *l)
{
	free(l->v);
	l->v = NULL;
}
