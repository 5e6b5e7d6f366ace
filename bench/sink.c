/*
 * The reference receivers: the machine's own ceiling, measured under the
 * same generator in the same run, so the daemon's figures are reported
 * as ratios to them rather than as bare numbers.
 *
 * sink-udp reads datagrams with recvmmsg() in batches and does nothing
 * else; its count lives in a counter that udp --sink reads from shared
 * memory.  sink-tcp is the smallest libevent line server: accept, read a
 * line, write it back, close once it is out.  Both stop by themselves
 * after --duration (plus --drain for the UDP one).
 */
#include "autoconf.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "bench.h"

#define SINK_RCVBUF	(4 << 20)	/* what the daemon asks for */
#define SINK_DGRAM_MAX	513		/* the daemon's limit plus one */

struct sink_tcp {
	struct event_base	*base;
	uint64_t		 exchanges;
};

static void	sink_accept_cb(struct evconnlistener *, evutil_socket_t,
		    struct sockaddr *, int, void *);
static void	sink_read_cb(struct bufferevent *, void *);
static void	sink_flushed_cb(struct bufferevent *, void *);
static void	sink_event_cb(struct bufferevent *, short, void *);
static void	sink_signal_cb(evutil_socket_t, short, void *);

/*
 * Drains the socket on --host:--port until the deadline, storing the
 * running count in *counter after every batch (*ready once bound); 0,
 * or -1 if it cannot bind.  A blocking recvmmsg() with MSG_WAITFORONE
 * returns as soon as one datagram is there, with all that were queued,
 * up to the batch size.
 */
int
bench_sink_udp_loop(const struct bench_opts *o, volatile uint64_t *counter,
    volatile int *ready)
{
	static char		 bufs[BENCH_MAX_BATCH][SINK_DGRAM_MAX];
	struct mmsghdr		 msgs[BENCH_MAX_BATCH];
	struct iovec		 iov[BENCH_MAX_BATCH];
	struct timeval		 tv = { 0, 100 * 1000 };
	uint64_t		 end, total = 0;
	int			 fd, i, n, size = SINK_RCVBUF;

	if ((fd = bench_udp_socket(o->host, o->port)) == -1) {
		bench_warnx("sink-udp: cannot bind %s:%d", o->host, o->port);
		return (-1);
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	fcntl(fd, F_SETFL, 0);		/* blocking, with the timeout above */
	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < o->batch; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = sizeof(bufs[i]);
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	*ready = 1;
	end = bench_deadline(o, bench_now_ns()) +
	    (uint64_t)((o->drain + 1) * 1e9);
	while (bench_now_ns() < end) {
		n = recvmmsg(fd, msgs, (unsigned int)o->batch, MSG_WAITFORONE,
		    NULL);
		if (n <= 0)
			continue;
		total += (uint64_t)n;
		__atomic_store_n(counter, total, __ATOMIC_RELAXED);
	}
	close(fd);
	return (0);
}

/* sink-udp on its own: drains for --duration and prints its count. */
int
bench_sink_udp(const struct bench_opts *o)
{
	uint64_t	count = 0, start = bench_now_ns();
	int		ready = 0;

	if (bench_sink_udp_loop(o, &count, &ready) == -1)
		return (-1);
	printf("mode=sink-udp received=%llu secs=%.2f\n",
	    (unsigned long long)count, (double)(bench_now_ns() - start) / 1e9);
	return (0);
}

/* A new connection: read lines from it. */
static void
sink_accept_cb(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct sink_tcp		*s = arg;
	struct bufferevent	*bev;

	(void)lev;
	(void)sa;
	(void)salen;
	bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		evutil_closesocket(fd);
		return;
	}
	bufferevent_setcb(bev, sink_read_cb, NULL, sink_event_cb, s);
	bufferevent_enable(bev, EV_READ);
}

/* One line in, the same line out, then close once it is written. */
static void
sink_read_cb(struct bufferevent *bev, void *arg)
{
	struct sink_tcp	*s = arg;
	char		*line;
	size_t		 len;

	line = evbuffer_readln(bufferevent_get_input(bev), &len,
	    EVBUFFER_EOL_LF);
	if (line == NULL)
		return;
	line[len] = '\n';
	bufferevent_write(bev, line, len + 1);
	free(line);
	s->exchanges++;
	bufferevent_disable(bev, EV_READ);
	bufferevent_setcb(bev, NULL, sink_flushed_cb, sink_event_cb, s);
}

/* The echo is out: close. */
static void
sink_flushed_cb(struct bufferevent *bev, void *arg)
{
	(void)arg;
	bufferevent_free(bev);
}

/* End of file or an error: close. */
static void
sink_event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)what;
	(void)arg;
	bufferevent_free(bev);
}

/* SIGTERM or SIGINT: stop and report, so a profiler can write its data. */
static void
sink_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	event_base_loopexit(arg, NULL);
}

/* sink-tcp: serves line echo on --host:--port for --duration seconds. */
int
bench_sink_tcp(const struct bench_opts *o)
{
	struct sink_tcp		 s;
	struct evconnlistener	*lev;
	struct event		*sigs[2];
	struct sockaddr_storage	 ss;
	struct timeval		 tv;
	socklen_t		 len;

	memset(&s, 0, sizeof(s));
	if ((len = bench_sockaddr(o->host, o->port, &ss)) == 0 ||
	    (s.base = event_base_new()) == NULL)
		return (-1);
	lev = evconnlistener_new_bind(s.base, sink_accept_cb, &s,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 4096,
	    (struct sockaddr *)&ss, (int)len);
	if (lev == NULL) {
		bench_warnx("sink-tcp: cannot listen on %s:%d: %s", o->host,
		    o->port, strerror(errno));
		event_base_free(s.base);
		return (-1);
	}
	tv.tv_sec = (time_t)o->duration;
	tv.tv_usec = (suseconds_t)((o->duration - (double)tv.tv_sec) * 1e6);
	event_base_loopexit(s.base, &tv);
	sigs[0] = evsignal_new(s.base, SIGTERM, sink_signal_cb, s.base);
	sigs[1] = evsignal_new(s.base, SIGINT, sink_signal_cb, s.base);
	evsignal_add(sigs[0], NULL);
	evsignal_add(sigs[1], NULL);
	event_base_dispatch(s.base);
	event_free(sigs[0]);
	event_free(sigs[1]);
	printf("mode=sink-tcp exchanges=%llu\n",
	    (unsigned long long)s.exchanges);
	evconnlistener_free(lev);
	event_base_free(s.base);
	return (0);
}
