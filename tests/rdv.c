/*
 * Rendezvous helpers for the TCP end-to-end tests.  Expected response
 * lines are written out here independently of the daemon's own writer,
 * so the tests check the exact bytes on the wire.
 */
#include "autoconf.h"

#include <check.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rdv.h"
#include "util.h"

#define RDV_LINE_MAX	1024

void
rdv_peer_init(struct rdv_peer *p, const char *ip, long long peer_port)
{
	p->ip = ip;
	p->peer_port = peer_port;
	p->tcp = -1;
	p->udp = h_udp_socket(ip, 0);
	ck_assert_msg(p->udp != -1, "udp socket on %s", ip);
	p->udp_port = cb_local_port(p->udp);
	ck_assert_int_gt(p->udp_port, 0);
}

void
rdv_peer_close(struct rdv_peer *p)
{
	if (p->udp != -1)
		close(p->udp);
	if (p->tcp != -1)
		close(p->tcp);
	p->udp = p->tcp = -1;
}

/* Sends {"PeerPort":N} from the peer's UDP socket. */
void
rdv_register(struct rdv_peer *p, const struct h_daemon *d)
{
	ck_assert_int_eq(h_udp_register(p->udp, d, p->peer_port), 0);
}

struct lease_probe {
	const struct rdv_peer	*p;
	const struct h_daemon	*d;
};

static int
lease_exists(void *arg)
{
	struct lease_probe	*lp = arg;
	struct h_http_response	 resp;
	char			 path[128];
	int			 status;

	snprintf(path, sizeof(path), "/leases/%s/%lld", lp->p->ip,
	    lp->p->peer_port);
	if (h_http(lp->d, "GET", path, NULL, &resp) == -1)
		return (0);
	status = resp.status;
	h_http_response_free(&resp);
	return (status == 200);
}

/* Waits until the daemon shows the peer's lease. */
void
rdv_wait_lease(const struct rdv_peer *p, const struct h_daemon *d)
{
	struct lease_probe	lp = { p, d };

	ck_assert_msg(h_poll_until(lease_exists, &lp, H_TIMEOUT_MS) == 1,
	    "lease %s/%lld never appeared", p->ip, p->peer_port);
}

/* Sends raw bytes on the peer's TCP connection, connecting first. */
void
rdv_send(struct rdv_peer *p, const struct h_daemon *d, const char *text)
{
	if (p->tcp == -1) {
		p->tcp = h_tcp_connect(p->ip,
		    strchr(p->ip, ':') != NULL ? "::1" : "127.0.0.1", d->port,
		    H_TIMEOUT_MS);
		ck_assert_msg(p->tcp != -1, "connect from %s", p->ip);
	}
	ck_assert_int_eq(h_send_all(p->tcp, text, strlen(text),
	    H_TIMEOUT_MS), 0);
}

/* Sends one request line; target is NULL for Server and KeepAlive. */
void
rdv_request(struct rdv_peer *p, const struct h_daemon *d, const char *type,
    const struct rdv_peer *target)
{
	char	req[512];

	if (target != NULL)
		snprintf(req, sizeof(req), "{\"RemoteIP\":\"%s\","
		    "\"RemotePeerPort\":%lld,\"LocalPeerPort\":%lld,"
		    "\"ConnectionType\":\"%s\"}\n", target->ip,
		    target->peer_port, p->peer_port, type);
	else
		snprintf(req, sizeof(req), "{\"LocalPeerPort\":%lld,"
		    "\"ConnectionType\":\"%s\"}\n", p->peer_port, type);
	rdv_send(p, d, req);
}

/* The line self receives when matched with other. */
char *
rdv_success_line(const struct rdv_peer *self, const struct rdv_peer *other)
{
	char	*line;

	ck_assert_int_ne(asprintf(&line, "{\"SourcePort\":%d,"
	    "\"SourceIP\":\"%s\",\"DestPort\":%d,\"DestIP\":\"%s\","
	    "\"Error\":\"\"}", self->udp_port, self->ip, other->udp_port,
	    other->ip), -1);
	return (line);
}

char *
rdv_error_line(const char *error)
{
	char	*line;

	ck_assert_int_ne(asprintf(&line, "{\"SourcePort\":0,"
	    "\"SourceIP\":\"\",\"DestPort\":0,\"DestIP\":\"\","
	    "\"Error\":\"%s\"}", error), -1);
	return (line);
}

/*
 * Reads one line within timeout_ms and compares it byte for byte.  The
 * expected text has no newline: h_read_line() returns only on one, and
 * strips it.
 */
void
rdv_expect_line(int fd, const char *expected, int timeout_ms)
{
	char	line[RDV_LINE_MAX];
	ssize_t	n;

	n = h_read_line(fd, line, sizeof(line), timeout_ms);
	ck_assert_msg(n > 0, "no line within %d ms (expected %s)",
	    timeout_ms, expected);
	ck_assert_str_eq(line, expected);
}

/* The final line, then the daemon closes the connection. */
void
rdv_expect_final(struct rdv_peer *p, const char *expected, int timeout_ms)
{
	rdv_expect_line(p->tcp, expected, timeout_ms);
	ck_assert_msg(h_wait_eof(p->tcp, H_TIMEOUT_MS) == 1,
	    "connection not closed after the final line");
	close(p->tcp);
	p->tcp = -1;
}

void
rdv_expect_match(struct rdv_peer *self, const struct rdv_peer *other)
{
	char	*line = rdv_success_line(self, other);

	rdv_expect_final(self, line, H_TIMEOUT_MS);
	free(line);
}

/* Both sides of a pair receive their match and are closed. */
void
rdv_expect_pair(struct rdv_peer *a, struct rdv_peer *b)
{
	rdv_expect_match(a, b);
	rdv_expect_match(b, a);
}

/* a and b ask for each other and are matched. */
void
rdv_match_peers(struct rdv_peer *a, struct rdv_peer *b,
    const struct h_daemon *d)
{
	rdv_request(a, d, "Peer", b);
	rdv_request(b, d, "Peer", a);
	rdv_expect_pair(a, b);
}

/* Two fresh peers on these IPs register, ask for each other and match. */
void
rdv_match_fresh_pair(const struct h_daemon *d, const char *ip_a,
    const char *ip_b)
{
	struct rdv_peer	a, b;

	rdv_peer_init(&a, ip_a, 1);
	rdv_peer_init(&b, ip_b, 2);
	rdv_register(&a, d);
	rdv_register(&b, d);
	rdv_match_peers(&a, &b, d);
	rdv_peer_close(&a);
	rdv_peer_close(&b);
}

void
rdv_expect_error(struct rdv_peer *p, const char *error, int timeout_ms)
{
	char	*line = rdv_error_line(error);

	rdv_expect_final(p, line, timeout_ms);
	free(line);
}

/*
 * Asserts nothing arrives on fd for ms milliseconds.  Only used where the
 * contract promises silence and no later event can show it instead.
 */
void
rdv_expect_silence(int fd, int ms)
{
	struct pollfd	pfd = { fd, POLLIN, 0 };

	ck_assert_int_eq(poll(&pfd, 1, ms), 0);
}

struct stat_probe {
	const struct h_daemon	*d;
	const char		*path;
	long long		 want;
};

static int
stat_equals(void *arg)
{
	struct stat_probe	*sp = arg;

	return (h_stat(sp->d, sp->path) == sp->want);
}

/* Waits until the /stats number at path is exactly want. */
void
rdv_wait_stat(const struct h_daemon *d, const char *path, long long want)
{
	struct stat_probe	sp = { d, path, want };

	ck_assert_msg(h_poll_until(stat_equals, &sp, H_TIMEOUT_MS) == 1,
	    "%s is %lld, not %lld", path, h_stat(d, path), want);
}
