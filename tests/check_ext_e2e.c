/*
 * The contract's section 9 extensions end to end: the UDP acknowledgement
 * ("Ack": true) and the private endpoint exchange (LocalIP/LocalPort in,
 * DestLocalIP/DestLocalPort out), against the real daemon, with exact
 * bytes.  And the other side of the promise: a client that sends neither
 * key never receives a datagram and sees the same response lines as ever.
 *
 * "Nothing came back" is shown without sleeping: the daemon answers
 * datagrams from one socket in order, so after the datagrams under test a
 * last registration asks for an Ack, and the first datagram the socket
 * then holds must be that Ack.
 */
#include "autoconf.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rdv.h"
#include "suite.h"

#define ACK_PAD		128	/* clients pad Ack requests to this */
#define BARRIER_PORT	999999	/* PeerPort of the closing Ack */

static struct h_daemon	d;

static void
start(const char *flag)
{
	ck_assert_int_eq(h_daemon_start(&d, flag, (const char *)NULL), 0);
}

static void
stop(void)
{
	ck_assert_int_eq(h_daemon_stop(&d), 0);
}

/*
 * Sends text from fd to the daemon at dst (NULL: 127.0.0.1 or ::1 after
 * the socket's family), padded with spaces to pad bytes.
 */
static void
send_reg_to(int fd, const char *dst, const char *text, size_t pad)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	char			 buf[512];
	size_t			 n = strlen(text);

	ck_assert_uint_lt(n, sizeof(buf));
	memcpy(buf, text, n);
	while (n < pad && n < sizeof(buf))
		buf[n++] = ' ';
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	if (dst == NULL)
		dst = ss.ss_family == AF_INET6 ? "::1" : "127.0.0.1";
	ck_assert_int_eq(h_udp_send(fd, dst, d.port, buf, n), 0);
}

static void
send_reg(int fd, const char *text, size_t pad)
{
	send_reg_to(fd, NULL, text, pad);
}

/*
 * Receives one datagram within ms, and its sender's address and port
 * into from_ip and from_port unless from_ip is NULL; returns its length,
 * -1 if none.
 */
static ssize_t
recv_dgram(int fd, char *buf, size_t size, int ms, char *from_ip,
    int *from_port)
{
	struct pollfd		 pfd = { fd, POLLIN, 0 };
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t		 len = sizeof(ss);
	ssize_t			 n;

	if (poll(&pfd, 1, h_scale_ms(ms)) != 1)
		return (-1);
	if ((n = recvfrom(fd, buf, size - 1, 0, (struct sockaddr *)&ss,
	    &len)) >= 0)
		buf[n] = '\0';
	if (n >= 0 && from_ip != NULL) {
		if (ss.ss_family == AF_INET6) {
			inet_ntop(AF_INET6, &sin6->sin6_addr, from_ip,
			    INET6_ADDRSTRLEN);
			*from_port = ntohs(sin6->sin6_port);
		} else {
			inet_ntop(AF_INET, &sin->sin_addr, from_ip,
			    INET6_ADDRSTRLEN);
			*from_port = ntohs(sin->sin_port);
		}
	}
	return (n);
}

/* The exact Ack a peer expects. */
static char *
ack_line(const struct rdv_peer *p, long long peer_port, int lease_timeout)
{
	char	*line;

	ck_assert_int_ne(asprintf(&line, "{\"PeerPort\":%lld,\"SourceIP\":"
	    "\"%s\",\"SourcePort\":%d,\"LeaseTimeout\":%d}", peer_port, p->ip,
	    p->udp_port, lease_timeout), -1);
	return (line);
}

/*
 * Expects the exact Ack next on the peer's socket, sent from the daemon's
 * port at address from (NULL: any).
 */
static void
expect_ack_from(const struct rdv_peer *p, long long peer_port,
    int lease_timeout, const char *from)
{
	char	 buf[512], ip[INET6_ADDRSTRLEN];
	char	*want = ack_line(p, peer_port, lease_timeout);
	int	 port;

	ck_assert_msg(recv_dgram(p->udp, buf, sizeof(buf), H_TIMEOUT_MS, ip,
	    &port) > 0, "no Ack for %s", p->ip);
	ck_assert_str_eq(buf, want);
	ck_assert_int_eq(port, d.port);
	if (from != NULL)
		ck_assert_str_eq(ip, from);
	free(want);
}

static void
expect_ack(const struct rdv_peer *p, long long peer_port, int lease_timeout)
{
	expect_ack_from(p, peer_port, lease_timeout, NULL);
}

/* Shows that nothing but the barrier's Ack reached the peer's socket. */
static void
expect_nothing_before_barrier(const struct rdv_peer *p, int lease_timeout)
{
	char	req[64];

	snprintf(req, sizeof(req), "{\"PeerPort\":%d,\"Ack\":true}",
	    BARRIER_PORT);
	send_reg(p->udp, req, ACK_PAD);
	expect_ack(p, BARRIER_PORT, lease_timeout);
}

START_TEST(test_ack_exact_bytes)
{
	struct rdv_peer	a, b;

	start("-lease_timeout=33");
	rdv_peer_init(&a, "127.0.0.2", 7);
	send_reg(a.udp, "{\"PeerPort\":7,\"Ack\":true}", ACK_PAD);
	expect_ack(&a, 7, 33);
	/* Key names are case-insensitive, as everywhere. */
	send_reg(a.udp, "{\"peerport\":8,\"ACK\":true}", ACK_PAD);
	expect_ack(&a, 8, 33);
	rdv_wait_stat(&d, "udp_acks", 2);
	rdv_wait_stat(&d, "leases", 2);
	if (h_have_ipv6()) {
		rdv_peer_init(&b, "::1", 2147483647);
		send_reg(b.udp, "{\"PeerPort\":2147483647,\"Ack\":true}",
		    ACK_PAD);
		expect_ack(&b, 2147483647, 33);
		rdv_peer_close(&b);
	}
	rdv_peer_close(&a);
	stop();
}
END_TEST

/* Without "Ack": true, valid or not, nothing ever comes back. */
START_TEST(test_no_reply_without_ack)
{
	static const char *const regs[] = {
		"{\"PeerPort\":1}",
		"{\"PeerPort\":1,\"Ack\":false}",
		"{\"PeerPort\":1,\"Ack\":\"true\"}",
		"{\"PeerPort\":1,\"Ack\":1}",
		"{\"PeerPort\":1,\"Ack\":null}",
		"{\"PeerPort\":1,\"LocalIP\":\"10.0.0.2\",\"LocalPort\":5}",
		"{\"PeerPort\":\"1\",\"Ack\":true}",
		"{\"PeerPort\":1,\"Ack\":true,\"LocalIP\":\"x\","
		    "\"LocalPort\":5}",
		"[{\"PeerPort\":1,\"Ack\":true}]",
	};
	struct rdv_peer	a;
	size_t		i;

	start(NULL);
	rdv_peer_init(&a, "127.0.0.2", 1);
	for (i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
		send_reg(a.udp, regs[i], ACK_PAD);
	expect_nothing_before_barrier(&a, 90);
	ck_assert_int_eq(h_stat(&d, "udp_invalid"), 3);
	ck_assert_int_eq(h_stat(&d, "udp_acks"), 1);
	rdv_peer_close(&a);
	stop();
}
END_TEST

/* An Ack larger than its request is not sent, but the lease is made. */
START_TEST(test_no_reply_when_larger)
{
	struct rdv_peer	 a;
	char		*ack;
	size_t		 len;

	start(NULL);
	rdv_peer_init(&a, "127.0.0.2", 5);
	ack = ack_line(&a, 5, 90);
	len = strlen(ack);
	free(ack);
	send_reg(a.udp, "{\"PeerPort\":5,\"Ack\":true}", 0);
	send_reg(a.udp, "{\"PeerPort\":5,\"Ack\":true}", len - 1);
	rdv_wait_lease(&a, &d);
	expect_nothing_before_barrier(&a, 90);
	ck_assert_int_eq(h_stat(&d, "udp_acks_too_large"), 2);
	/* Exactly as large as the reply is enough. */
	send_reg(a.udp, "{\"PeerPort\":5,\"Ack\":true}", len);
	expect_ack(&a, 5, 90);
	rdv_peer_close(&a);
	stop();
}
END_TEST

/* A burst of 20 per IP, then drops, counted; other IPs unaffected. */
START_TEST(test_ack_rate_limit)
{
	struct rdv_peer	a, b;
	char		buf[512];
	int		i, got = 0;
	uint64_t	t0;

	start(NULL);
	rdv_peer_init(&a, "127.0.0.2", 1);
	rdv_peer_init(&b, "127.0.0.3", 1);
	t0 = h_now_ms();
	for (i = 0; i < 40; i++)
		send_reg(a.udp, "{\"PeerPort\":1,\"Ack\":true}", ACK_PAD);
	rdv_wait_stat(&d, "udp_datagrams", 40);
	t0 = h_now_ms() - t0;
	while (recv_dgram(a.udp, buf, sizeof(buf), 300, NULL, NULL) > 0)
		got++;
	/* 20 at once, and at 10/s a few more if the burst took a while. */
	ck_assert_int_ge(got, 20);
	ck_assert_int_le(got, 21 + (int)(t0 / 100));
	ck_assert_int_eq(h_stat(&d, "udp_acks"), got);
	ck_assert_int_eq(h_stat(&d, "udp_acks_rate_limited"), 40 - got);
	/* Every registration still refreshed the lease. */
	ck_assert_int_eq(h_stat(&d, "udp_invalid"), 0);
	send_reg(b.udp, "{\"PeerPort\":1,\"Ack\":true}", ACK_PAD);
	expect_ack(&b, 1, 90);
	rdv_peer_close(&a);
	rdv_peer_close(&b);
	stop();
}
END_TEST

/*
 * The Ack leaves from the address the registration was sent to, not the
 * route's preferred source (the daemon listens on the wildcard address):
 * a client that connect()ed its socket to one of the daemon's addresses,
 * or its firewall, takes nothing from another.
 */
START_TEST(test_ack_from_arrival_address)
{
	static const char *const dst[] = { "127.0.0.1", "127.0.0.7", "::1" };
	struct rdv_peer		 p;
	size_t			 i;

	start(NULL);
	for (i = 0; i < sizeof(dst) / sizeof(dst[0]); i++) {
		rdv_peer_init(&p, strchr(dst[i], ':') != NULL ? "::1" :
		    "127.0.0.2", (long long)i + 1);
		send_reg_to(p.udp, dst[i], "{\"PeerPort\":1,\"Ack\":true}",
		    ACK_PAD);
		expect_ack_from(&p, 1, 90, dst[i]);
		rdv_peer_close(&p);
	}
	stop();
}
END_TEST

/*
 * Many Acks queued while the daemon is stopped arrive in one read and go
 * out together: each is exact and reaches its own client, in order, and
 * one too small to be answered in their midst changes nothing for them.
 */
START_TEST(test_ack_one_batch)
{
	static const char	*ips[] = { "127.0.0.10", "127.0.0.11",
				    "127.0.0.12", "127.0.0.13", "127.0.0.14",
				    "127.0.0.15", "127.0.0.16", "127.0.0.17" };
	struct rdv_peer		 p[8];
	char			 req[64];
	int			 i, k;

	start(NULL);
	for (i = 0; i < 8; i++)
		rdv_peer_init(&p[i], ips[i], 1);
	ck_assert_int_eq(kill(d.pid, SIGSTOP), 0);
	for (k = 0; k < 3; k++) {
		for (i = 0; i < 8; i++) {
			snprintf(req, sizeof(req),
			    "{\"PeerPort\":%d,\"Ack\":true}", 100 * k + i);
			send_reg(p[i].udp, req, ACK_PAD);
		}
		send_reg(p[0].udp, "{\"PeerPort\":7,\"Ack\":true}", 0);
	}
	ck_assert_int_eq(kill(d.pid, SIGCONT), 0);
	for (i = 0; i < 8; i++) {
		for (k = 0; k < 3; k++)
			expect_ack(&p[i], 100 * k + i, 90);
	}
	rdv_wait_stat(&d, "udp_acks", 24);
	ck_assert_int_eq(h_stat(&d, "udp_acks_too_large"), 3);
	ck_assert_int_eq(h_stat(&d, "udp_acks_dropped"), 0);
	expect_nothing_before_barrier(&p[0], 90);
	for (i = 0; i < 8; i++)
		rdv_peer_close(&p[i]);
	stop();
}
END_TEST

/* Registers p with or without a local endpoint and waits for its Ack. */
static void
register_local(struct rdv_peer *p, const char *local_ip, int local_port)
{
	char	req[256];

	if (local_ip != NULL)
		snprintf(req, sizeof(req), "{\"PeerPort\":%lld,\"Ack\":true,"
		    "\"LocalIP\":\"%s\",\"LocalPort\":%d}", p->peer_port,
		    local_ip, local_port);
	else
		snprintf(req, sizeof(req), "{\"PeerPort\":%lld,"
		    "\"Ack\":true}", p->peer_port);
	send_reg(p->udp, req, ACK_PAD);
	expect_ack(p, p->peer_port, 90);
}

/* The success line self expects, with other's LAN endpoint if given. */
static char *
local_line(const struct rdv_peer *self, const struct rdv_peer *other,
    const char *local_ip, int local_port)
{
	char	*base = rdv_success_line(self, other), *line;

	if (local_ip == NULL)
		return (base);
	base[strlen(base) - 1] = '\0';
	ck_assert_int_ne(asprintf(&line, "%s,\"DestLocalIP\":\"%s\","
	    "\"DestLocalPort\":%d}", base, local_ip, local_port), -1);
	free(base);
	return (line);
}

/* Peer A and B match; each sees the other's LAN endpoint iff both sent one. */
static void
peer_pair(const char *la, int pa, const char *lb, int pb, int both)
{
	struct rdv_peer	 a, b;
	char		*line;

	start(NULL);
	rdv_peer_init(&a, "127.0.0.2", 1);
	rdv_peer_init(&b, "127.0.0.3", 2);
	register_local(&a, la, pa);
	register_local(&b, lb, pb);
	rdv_request(&a, &d, "Peer", &b);
	rdv_request(&b, &d, "Peer", &a);
	line = local_line(&a, &b, both ? lb : NULL, pb);
	rdv_expect_final(&a, line, H_TIMEOUT_MS);
	free(line);
	line = local_line(&b, &a, both ? la : NULL, pa);
	rdv_expect_final(&b, line, H_TIMEOUT_MS);
	free(line);
	rdv_peer_close(&a);
	rdv_peer_close(&b);
	stop();
}

START_TEST(test_local_both)
{
	peer_pair("192.168.1.20", 40001, "fd00::1:2", 50002, 1);
}
END_TEST

START_TEST(test_local_only_a)
{
	peer_pair("192.168.1.20", 40001, NULL, 0, 0);
}
END_TEST

START_TEST(test_local_only_b)
{
	peer_pair(NULL, 0, "10.1.2.3", 3, 0);
}
END_TEST

/* A later registration without a local endpoint withdraws it. */
START_TEST(test_local_withdrawn)
{
	struct rdv_peer	 a, b;
	char		*line;

	start(NULL);
	rdv_peer_init(&a, "127.0.0.2", 1);
	rdv_peer_init(&b, "127.0.0.3", 2);
	register_local(&a, "::ffff:10.0.0.9", 9);
	register_local(&a, "fd00::9", 9);
	register_local(&a, NULL, 0);
	register_local(&b, "10.0.0.8", 8);
	rdv_request(&a, &d, "Peer", &b);
	rdv_request(&b, &d, "Peer", &a);
	rdv_expect_match(&a, &b);
	rdv_expect_match(&b, &a);
	/* And given again, in the mapped form, it reads as plain IPv4. */
	register_local(&a, "::ffff:10.0.0.9", 9);
	rdv_request(&a, &d, "Peer", &b);
	rdv_request(&b, &d, "Peer", &a);
	line = local_line(&a, &b, "10.0.0.8", 8);
	rdv_expect_final(&a, line, H_TIMEOUT_MS);
	free(line);
	line = local_line(&b, &a, "10.0.0.9", 9);
	rdv_expect_final(&b, line, H_TIMEOUT_MS);
	free(line);
	rdv_peer_close(&a);
	rdv_peer_close(&b);
	stop();
}
END_TEST

/* Server notification and Client response both carry the LAN endpoint. */
START_TEST(test_local_server_client)
{
	struct rdv_peer	 s, c;
	char		*line;

	start(NULL);
	rdv_peer_init(&s, "127.0.0.9", 7);
	rdv_peer_init(&c, "127.0.0.2", 1);
	register_local(&s, "192.168.0.7", 7007);
	rdv_request(&s, &d, "Server", NULL);
	rdv_wait_stat(&d, "servers", 1);
	register_local(&c, "192.168.0.2", 2002);
	rdv_request(&c, &d, "Client", &s);
	line = local_line(&c, &s, "192.168.0.7", 7007);
	rdv_expect_final(&c, line, H_TIMEOUT_MS);
	free(line);
	line = local_line(&s, &c, "192.168.0.2", 2002);
	rdv_expect_line(s.tcp, line, H_TIMEOUT_MS);
	free(line);
	rdv_peer_close(&s);
	rdv_peer_close(&c);
	stop();
}
END_TEST

/* A bad LocalIP or LocalPort drops the whole registration. */
START_TEST(test_local_invalid_dropped)
{
	static const char *const regs[] = {
		"{\"PeerPort\":1,\"LocalIP\":\"10.0.0.1\"}",
		"{\"PeerPort\":1,\"LocalPort\":5}",
		"{\"PeerPort\":1,\"LocalIP\":\"10.0.0.1\",\"LocalPort\":0}",
		"{\"PeerPort\":1,\"LocalIP\":\"10.0.0.1\",\"LocalPort\":65536}",
		"{\"PeerPort\":1,\"LocalIP\":\"10.0.0.1\",\"LocalPort\":\"5\"}",
		"{\"PeerPort\":1,\"LocalIP\":\"host.lan\",\"LocalPort\":5}",
		"{\"PeerPort\":1,\"LocalIP\":null,\"LocalPort\":5}",
		"{\"PeerPort\":1,\"LocalIP\":\"[::1]\",\"LocalPort\":5}",
	};
	struct rdv_peer	a;
	size_t		i;

	start(NULL);
	rdv_peer_init(&a, "127.0.0.2", 1);
	for (i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
		send_reg(a.udp, regs[i], 0);
	rdv_wait_stat(&d, "udp_invalid", (long long)i);
	ck_assert_int_eq(h_stat(&d, "leases"), 0);
	/* Unknown keys next to them are still ignored. */
	send_reg(a.udp, "{\"PeerPort\":1,\"localip\":\"10.0.0.1\","
	    "\"LOCALPORT\":5,\"Other\":[1]}", 0);
	rdv_wait_lease(&a, &d);
	rdv_peer_close(&a);
	stop();
}
END_TEST

/*
 * A client of the original protocol: same lines as ever, and no datagram
 * on its socket, before or after the match.
 */
START_TEST(test_legacy_client_sees_nothing_new)
{
	struct rdv_peer	a, b, s, c;

	start(NULL);
	rdv_peer_init(&a, "127.0.0.2", 1);
	rdv_peer_init(&b, "127.0.0.3", 2);
	rdv_register(&a, &d);
	rdv_register(&b, &d);
	rdv_request(&a, &d, "Peer", &b);
	rdv_request(&b, &d, "Peer", &a);
	rdv_expect_match(&a, &b);
	rdv_expect_match(&b, &a);
	rdv_peer_init(&s, "127.0.0.4", 4);
	rdv_peer_init(&c, "127.0.0.5", 5);
	rdv_register(&s, &d);
	rdv_request(&s, &d, "Server", NULL);
	rdv_wait_stat(&d, "servers", 1);
	rdv_register(&c, &d);
	rdv_register(&c, &d);
	rdv_request(&c, &d, "Client", &s);
	rdv_expect_match(&c, &s);
	ck_assert_int_eq(h_stat(&d, "udp_acks"), 0);
	expect_nothing_before_barrier(&a, 90);
	expect_nothing_before_barrier(&b, 90);
	expect_nothing_before_barrier(&s, 90);
	expect_nothing_before_barrier(&c, 90);
	rdv_peer_close(&a);
	rdv_peer_close(&b);
	rdv_peer_close(&s);
	rdv_peer_close(&c);
	stop();
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("ext_e2e");
	TCase	*tc = tcase_create("ext");

	tcase_set_timeout(tc, h_scale_ms(30000) / 1000);
	tcase_add_test(tc, test_ack_exact_bytes);
	tcase_add_test(tc, test_no_reply_without_ack);
	tcase_add_test(tc, test_no_reply_when_larger);
	tcase_add_test(tc, test_ack_rate_limit);
	tcase_add_test(tc, test_ack_from_arrival_address);
	tcase_add_test(tc, test_ack_one_batch);
	tcase_add_test(tc, test_local_both);
	tcase_add_test(tc, test_local_only_a);
	tcase_add_test(tc, test_local_only_b);
	tcase_add_test(tc, test_local_withdrawn);
	tcase_add_test(tc, test_local_server_client);
	tcase_add_test(tc, test_local_invalid_dropped);
	tcase_add_test(tc, test_legacy_client_sees_nothing_new);
	suite_add_tcase(s, tc);
	return (suite_run(s));
}
