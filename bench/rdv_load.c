/*
 * TCP exchanges, --inflight at a time, each in a slot that starts a new
 * one as soon as the last has ended:
 *
 *   pairs         two Peers: a UDP registration and a TCP Peer request
 *                 on each side, both answered, the pair then closed;
 *   clientserver  a Client (UDP, then TCP) to one of --servers Servers
 *                 registered at the start, which read their notices;
 *   exchange      connect, one request line, its echo, close: what the
 *                 same client does against sink-tcp, the ceiling.
 *
 * An answer counts only if it is byte for byte the line expected (the
 * endpoints the daemon must have seen), so a fast wrong answer is a
 * failure.  Latency runs from the last request of the slot sent to the
 * answer on that connection received.  One epoll loop drives everything.
 */
#include "autoconf.h"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "util.h"

#define RDV_SLOT_TIMEOUT_NS	(5 * 1000000000ULL)
#define RDV_CLIENT_IPS		240		/* servers use the rest */
#define RDV_SERVER_BASE		1000000		/* PeerPort offset */
#define RDV_STOP_GRACE_NS	(2 * 1000000000ULL)
#define RDV_REQUEST	"{\"RemoteIP\":\"%s\",\"RemotePeerPort\":%ld," \
			"\"LocalPeerPort\":%ld,\"ConnectionType\":\"%s\"}\n"

enum rdv_kind {
	RDV_PAIRS,
	RDV_CLIENTSERVER,
	RDV_EXCHANGE,
};

struct rdv_conn {
	struct rdv_slot	*slot;
	int		 fd;		/* -1 once done */
	int		 connected;
	char		 req[BENCH_LINE_MAX];
	size_t		 reqlen;
	char		 want[BENCH_LINE_MAX];
	char		 buf[BENCH_LINE_MAX];
	size_t		 len;
	uint64_t	 sent_ns, recv_ns;
};

struct rdv_slot {
	int		 index;
	int		 nconns;
	int		 pending;	/* connections not yet answered */
	int		 idle;		/* --rate: waits for its turn */
	uint64_t	 start_ns;
	struct rdv_conn	 c[2];
};

struct rdv_run {
	const struct bench_opts	*o;
	enum rdv_kind		 kind;
	int			 efd;
	struct rdv_slot		*slots;
	int			 udp[BENCH_SRC_IPS];	/* per source IP */
	int			 udp_port[BENCH_SRC_IPS];
	struct sockaddr_storage	 to;
	socklen_t		 tolen;
	int			 srv[64];		/* Server sessions */
	uint64_t		 started, ok, bad, timeouts, notices;
	uint64_t		 start_ns, end_ns, last_ns;
	struct bench_lat	 lat;
};

static void	rdv_register(struct rdv_run *, int, long);
static int	rdv_conn_open(struct rdv_run *, struct rdv_conn *, int);
static void	rdv_conn_close(struct rdv_run *, struct rdv_conn *);
static void	rdv_endpoint_line(struct rdv_run *, char *, int, int);
static void	rdv_slot_start(struct rdv_run *, struct rdv_slot *);
static void	rdv_slot_finish(struct rdv_run *, struct rdv_slot *);
static int	rdv_running(const struct rdv_run *, uint64_t);
static int	rdv_due(const struct rdv_run *, uint64_t);
static void	rdv_conn_event(struct rdv_run *, struct rdv_conn *,
		    uint32_t);
static int	rdv_servers(struct rdv_run *);
static void	rdv_drain_server(struct rdv_run *, int);
static int	rdv_setup(struct rdv_run *);
static int	rdv_tick(struct rdv_run *, uint64_t);
static int	rdv_run(const struct bench_opts *, enum rdv_kind);

/* Sends {"PeerPort":pp} from the i-th source IP's UDP socket. */
static void
rdv_register(struct rdv_run *r, int ip, long pp)
{
	char	text[32];
	int	len;

	len = snprintf(text, sizeof(text), "{\"PeerPort\":%ld}", pp);
	sendto(r->udp[ip], text, (size_t)len, 0, (struct sockaddr *)&r->to,
	    r->tolen);
}

/* Starts c's connection from the i-th source IP. */
static int
rdv_conn_open(struct rdv_run *r, struct rdv_conn *c, int ip)
{
	struct epoll_event	ev;
	char			src[32];

	bench_src_ip(ip, src, sizeof(src));
	c->len = 0;
	c->connected = 0;
	if ((c->fd = bench_tcp_connect(src, r->o->host, r->o->port)) == -1)
		return (-1);
	ev.events = EPOLLOUT;
	ev.data.ptr = c;
	if (epoll_ctl(r->efd, EPOLL_CTL_ADD, c->fd, &ev) == -1) {
		close(c->fd);
		c->fd = -1;
		return (-1);
	}
	return (0);
}

/* Closes c's connection if it is open. */
static void
rdv_conn_close(struct rdv_run *r, struct rdv_conn *c)
{
	(void)r;
	if (c->fd != -1) {
		close(c->fd);		/* epoll forgets it by itself */
		c->fd = -1;
	}
}

/*
 * The success line the daemon owes the i-th source IP's peer when its
 * partner is the j-th's: Source is the receiver, Dest the other side.
 */
static void
rdv_endpoint_line(struct rdv_run *r, char *buf, int i, int j)
{
	char	a[32], b[32];

	bench_src_ip(i, a, sizeof(a));
	bench_src_ip(j, b, sizeof(b));
	snprintf(buf, BENCH_LINE_MAX, "{\"SourcePort\":%d,\"SourceIP\":\"%s\","
	    "\"DestPort\":%d,\"DestIP\":\"%s\",\"Error\":\"\"}\n",
	    r->udp_port[i % BENCH_SRC_IPS], a, r->udp_port[j % BENCH_SRC_IPS],
	    b);
}

/* Sets a slot's requests and expected answers up, and starts them. */
static void
rdv_slot_start(struct rdv_run *r, struct rdv_slot *s)
{
	char		 ipb[32];
	long		 pp = r->o->peer_port + 2L * s->index;
	int		 i, ip[2], srv;

	s->nconns = r->kind == RDV_PAIRS ? 2 : 1;
	s->start_ns = bench_now_ns();
	ip[0] = (2 * s->index) % BENCH_SRC_IPS;
	ip[1] = (2 * s->index + 1) % BENCH_SRC_IPS;
	if (r->kind == RDV_PAIRS) {
		for (i = 0; i < 2; i++) {
			bench_src_ip(ip[1 - i], ipb, sizeof(ipb));
			rdv_register(r, ip[i], pp + i);
			s->c[i].reqlen = (size_t)snprintf(s->c[i].req,
			    BENCH_LINE_MAX, RDV_REQUEST, ipb, pp + 1 - i,
			    pp + i, "Peer");
			rdv_endpoint_line(r, s->c[i].want, ip[i], ip[1 - i]);
		}
	} else if (r->kind == RDV_CLIENTSERVER) {
		ip[0] = s->index % RDV_CLIENT_IPS;
		srv = s->index % r->o->servers;
		bench_src_ip(RDV_CLIENT_IPS + srv, ipb, sizeof(ipb));
		rdv_register(r, ip[0], pp);
		s->c[0].reqlen = (size_t)snprintf(s->c[0].req, BENCH_LINE_MAX,
		    RDV_REQUEST, ipb, r->o->peer_port + RDV_SERVER_BASE + srv,
		    pp, "Client");
		rdv_endpoint_line(r, s->c[0].want, ip[0],
		    RDV_CLIENT_IPS + srv);
	} else {
		bench_src_ip(ip[1], ipb, sizeof(ipb));
		s->c[0].reqlen = (size_t)snprintf(s->c[0].req, BENCH_LINE_MAX,
		    RDV_REQUEST, ipb, pp + 1, pp, "Peer");
		memcpy(s->c[0].want, s->c[0].req, s->c[0].reqlen + 1);
	}
	r->started++;
	s->pending = s->nconns;
	for (i = 0; i < s->nconns; i++) {
		s->c[i].slot = s;
		if (rdv_conn_open(r, &s->c[i], ip[i]) == -1) {
			s->pending--;
			s->c[i].len = 0;
		}
	}
	if (s->pending == 0)
		rdv_slot_finish(r, s);
}

/* All of a slot's answers are in (or it timed out): check, count, go on. */
static void
rdv_slot_finish(struct rdv_run *r, struct rdv_slot *s)
{
	struct rdv_conn	*last = &s->c[0];
	int		 i, good = 1;

	for (i = 0; i < s->nconns; i++) {
		rdv_conn_close(r, &s->c[i]);
		if (s->c[i].len == 0 || strcmp(s->c[i].buf, s->c[i].want) != 0)
			good = 0;
		if (s->c[i].sent_ns > last->sent_ns)
			last = &s->c[i];
	}
	if (good) {
		r->ok++;
		bench_lat_add(&r->lat, last->recv_ns - last->sent_ns);
	} else
		r->bad++;
	r->last_ns = bench_now_ns();
	s->nconns = 0;
	if (rdv_due(r, r->last_ns))
		rdv_slot_start(r, s);
	else
		s->idle = rdv_running(r, r->last_ns);
}

/* Whether slots may still start: before the deadline and the count. */
static int
rdv_running(const struct rdv_run *r, uint64_t now)
{
	return (now < r->end_ns &&
	    (r->o->count == 0 || r->started < r->o->count));
}

/* Whether a slot may start now; at --rate, once its turn has come. */
static int
rdv_due(const struct rdv_run *r, uint64_t now)
{
	return (rdv_running(r, now) && (r->o->rate == 0 ||
	    (double)r->started < (double)(now - r->start_ns) * 1e-9 *
	    (double)r->o->rate));
}

/* A connection is writable (connected) or readable (the answer). */
static void
rdv_conn_event(struct rdv_run *r, struct rdv_conn *c, uint32_t events)
{
	struct epoll_event	 ev;
	struct rdv_slot		*s = c->slot;
	ssize_t			 n;
	int			 err = 0;
	socklen_t		 len = sizeof(err);

	if (!c->connected) {
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 ||
		    err != 0 || write(c->fd, c->req, c->reqlen) !=
		    (ssize_t)c->reqlen)
			goto done;
		c->sent_ns = bench_now_ns();
		c->connected = 1;
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		epoll_ctl(r->efd, EPOLL_CTL_MOD, c->fd, &ev);
		return;
	}
	(void)events;
	n = read(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
	if (n == -1 && errno == EAGAIN)
		return;
	if (n > 0) {
		c->len += (size_t)n;
		c->buf[c->len] = '\0';
		if (memchr(c->buf, '\n', c->len) == NULL &&
		    c->len < sizeof(c->buf) - 1)
			return;
		c->recv_ns = bench_now_ns();
	}
done:
	rdv_conn_close(r, c);
	if (--s->pending == 0)
		rdv_slot_finish(r, s);
}

/* clientserver: registers the Servers and waits until all hold. */
static int
rdv_servers(struct rdv_run *r)
{
	struct epoll_event	ev;
	struct pollfd		pfd;
	char			src[32], req[128];
	long			pp;
	int			i, len;

	for (i = 0; i < r->o->servers; i++) {
		pp = r->o->peer_port + RDV_SERVER_BASE + i;
		rdv_register(r, RDV_CLIENT_IPS + i, pp);
		bench_src_ip(RDV_CLIENT_IPS + i, src, sizeof(src));
		r->srv[i] = bench_tcp_connect(src, r->o->host, r->o->port);
		len = snprintf(req, sizeof(req), "{\"ConnectionType\":"
		    "\"Server\",\"LocalPeerPort\":%ld}\n", pp);
		pfd.fd = r->srv[i];
		pfd.events = POLLOUT;
		if (r->srv[i] == -1 || poll(&pfd, 1, 2000) != 1 ||
		    write(r->srv[i], req, (size_t)len) != len)
			return (-1);
		ev.events = EPOLLIN;
		ev.data.ptr = NULL;
		ev.data.u64 = (uint64_t)i << 32 | 1;
		epoll_ctl(r->efd, EPOLL_CTL_ADD, r->srv[i], &ev);
	}
	return (bench_wait_stat(r->o, "servers", r->o->servers, 5.0));
}

/* A Server's notices: read and count the lines. */
static void
rdv_drain_server(struct rdv_run *r, int i)
{
	char	buf[16384];
	ssize_t	n, k;

	while ((n = read(r->srv[i], buf, sizeof(buf))) > 0) {
		for (k = 0; k < n; k++)
			r->notices += buf[k] == '\n';
	}
}

/* The epoll set, the UDP sockets and the slots. */
static int
rdv_setup(struct rdv_run *r)
{
	char	ip[32];
	int	i;

	if ((r->efd = epoll_create1(0)) == -1 ||
	    (r->tolen = bench_sockaddr(r->o->host, r->o->port, &r->to)) == 0 ||
	    bench_lat_init(&r->lat) == -1 ||
	    (r->slots = calloc((size_t)r->o->inflight,
	    sizeof(*r->slots))) == NULL)
		return (-1);
	for (i = 0; i < BENCH_SRC_IPS; i++) {
		bench_src_ip(i, ip, sizeof(ip));
		if ((r->udp[i] = bench_udp_socket(ip, 0)) == -1)
			return (-1);
		r->udp_port[i] = cb_local_port(r->udp[i]);
	}
	for (i = 0; i < r->o->inflight; i++)
		r->slots[i].index = i;
	return (0);
}

/*
 * Starts the idle slots whose turn has come and ends those that took too
 * long; how many slots are still busy or waiting for their turn.
 */
static int
rdv_tick(struct rdv_run *r, uint64_t now)
{
	struct rdv_slot	*s;
	int		 k, busy = 0;

	for (k = 0; k < r->o->inflight; k++) {
		s = &r->slots[k];
		if (s->idle && rdv_due(r, now)) {
			s->idle = 0;
			rdv_slot_start(r, s);
		} else if (s->idle && !rdv_running(r, now))
			s->idle = 0;
		busy += s->idle;
		if (s->nconns == 0)
			continue;
		busy++;
		if (s->start_ns + RDV_SLOT_TIMEOUT_NS > now)
			continue;
		r->timeouts++;
		rdv_slot_finish(r, s);
	}
	return (busy);
}

/* Runs the slots until the deadline or the count, then reports. */
static int
rdv_run(const struct bench_opts *o, enum rdv_kind kind)
{
	static const char	*names[] = { "pairs", "clientserver",
				    "exchange" };
	static const char	*stat[] = { "matches.peer", "matches.client",
				    NULL };
	struct epoll_event	 evs[256];
	struct rdv_run		 r;
	uint64_t		 start, now, i, cpu0, cpu1;
	long long		 m0 = 0, m1 = 0;
	int			 n, k, busy;

	memset(&r, 0, sizeof(r));
	r.o = o;
	r.kind = kind;
	if (rdv_setup(&r) == -1 || (kind == RDV_CLIENTSERVER &&
	    rdv_servers(&r) == -1)) {
		bench_warnx("%s: cannot set up: %s", names[kind],
		    strerror(errno));
		return (-1);
	}
	if (stat[kind] != NULL)
		bench_stat(o, stat[kind], &m0);
	cpu0 = o->pid != 0 ? bench_cpu_ns(o->pid) : 0;
	start = r.start_ns = r.last_ns = bench_now_ns();
	r.end_ns = bench_deadline(o, start);
	for (k = 0; k < o->inflight; k++)
		r.slots[k].idle = 1;
	do {
		n = epoll_wait(r.efd, evs, 256, o->rate != 0 ? 1 : 10);
		for (k = 0; k < n; k++) {
			if (evs[k].data.u64 & 1)
				rdv_drain_server(&r, (int)(evs[k].data.u64 >>
				    32));
			else
				rdv_conn_event(&r, evs[k].data.ptr,
				    evs[k].events);
		}
		now = bench_now_ns();
		busy = rdv_tick(&r, now);
	} while (busy > 0 && now < r.end_ns + RDV_STOP_GRACE_NS);
	cpu1 = o->pid != 0 ? bench_cpu_ns(o->pid) : 0;
	if (stat[kind] != NULL)
		bench_stat(o, stat[kind], &m1);
	printf("mode=%s started=%llu ok=%llu bad=%llu timeouts=%llu "
	    "secs=%.2f rate=%.0f p50_us=%.1f p99_us=%.1f p999_us=%.1f",
	    names[kind], (unsigned long long)r.started,
	    (unsigned long long)r.ok, (unsigned long long)r.bad,
	    (unsigned long long)r.timeouts, (double)(r.last_ns - start) / 1e9,
	    (double)r.ok * 1e9 / (double)(r.last_ns - start),
	    bench_lat_pct(&r.lat, 50) / 1e3, bench_lat_pct(&r.lat, 99) / 1e3,
	    bench_lat_pct(&r.lat, 99.9) / 1e3);
	if (stat[kind] != NULL)
		printf(" daemon_matches=%lld", m1 - m0);
	if (kind == RDV_CLIENTSERVER)
		printf(" notices=%llu", (unsigned long long)r.notices);
	if (o->pid != 0 && r.ok != 0)
		printf(" rx_cpu_us_per=%.1f", (double)(cpu1 - cpu0) / 1e3 /
		    (double)r.ok);
	printf("\n");
	for (i = 0; i < BENCH_SRC_IPS; i++)
		close(r.udp[i]);
	bench_lat_free(&r.lat);
	free(r.slots);
	close(r.efd);
	return (r.ok > 0 && r.bad == 0 ? 0 : -1);
}

/* pairs: see the top of the file. */
int
bench_pairs(const struct bench_opts *o)
{
	return (rdv_run(o, RDV_PAIRS));
}

/* clientserver: see the top of the file. */
int
bench_clientserver(const struct bench_opts *o)
{
	return (rdv_run(o, RDV_CLIENTSERVER));
}

/* exchange: see the top of the file. */
int
bench_exchange(const struct bench_opts *o)
{
	return (rdv_run(o, RDV_EXCHANGE));
}
