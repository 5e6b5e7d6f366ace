/*
 * Peer mode end to end: the real daemon, real UDP and TCP sockets, and
 * the exact response bytes.  127.0.0.2, 127.0.0.3, ... stand in for the
 * public IPs of peers behind different NATs.
 */
#include "autoconf.h"

#include <sys/socket.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json.h>

#include "rdv.h"
#include "suite.h"
#include "util.h"

static struct h_daemon	d;

static void
start(const char *a1, const char *a2)
{
	ck_assert_int_eq(h_daemon_start(&d, "-log_level=debug", a1, a2,
	    (char *)NULL), 0);
}

static void
stop(void)
{
	ck_assert_int_eq(h_daemon_stop(&d), 0);
}

START_TEST(test_udp_then_tcp)
{
	struct rdv_peer	a, b;

	start(NULL, NULL);
	rdv_peer_init(&a, "127.0.0.2", 1);
	rdv_peer_init(&b, "127.0.0.3", 2);
	rdv_register(&a, &d);
	rdv_register(&b, &d);
	rdv_wait_lease(&a, &d);
	rdv_wait_lease(&b, &d);
	rdv_match_peers(&a, &b, &d);
	ck_assert_int_eq(h_stat(&d, "matches.peer"), 1);
	ck_assert_int_eq(h_stat(&d, "requests.peer"), 2);
	ck_assert_int_eq(h_stat(&d, "waiting"), 0);
	rdv_peer_close(&a);
	rdv_peer_close(&b);
	stop();
}
END_TEST

START_TEST(test_tcp_then_udp_both_sides)
{
	struct rdv_peer	a, b;

	start(NULL, NULL);
	rdv_peer_init(&a, "127.0.0.2", 1);
	rdv_peer_init(&b, "127.0.0.3", 2);
	rdv_request(&a, &d, "Peer", &b);
	rdv_request(&b, &d, "Peer", &a);
	rdv_wait_stat(&d, "waiting", 2);
	rdv_register(&b, &d);
	rdv_register(&a, &d);
	rdv_expect_pair(&a, &b);
	rdv_peer_close(&a);
	rdv_peer_close(&b);
	stop();
}
END_TEST

START_TEST(test_mixed_order)
{
	struct rdv_peer	a, b;

	start(NULL, NULL);
	rdv_peer_init(&a, "127.0.0.2", 10);
	rdv_peer_init(&b, "127.0.0.3", 20);
	rdv_register(&a, &d);
	rdv_wait_lease(&a, &d);
	rdv_request(&a, &d, "Peer", &b);
	rdv_request(&b, &d, "Peer", &a);
	rdv_wait_stat(&d, "waiting", 2);
	rdv_register(&b, &d);
	rdv_expect_pair(&b, &a);
	rdv_peer_close(&a);
	rdv_peer_close(&b);
	stop();
}
END_TEST

START_TEST(test_same_ip_different_peer_ports)
{
	struct rdv_peer	a, b;

	start(NULL, NULL);
	rdv_peer_init(&a, "127.0.0.5", 100);
	rdv_peer_init(&b, "127.0.0.5", 200);
	rdv_register(&a, &d);
	rdv_register(&b, &d);
	rdv_match_peers(&a, &b, &d);
	rdv_peer_close(&a);
	rdv_peer_close(&b);
	stop();
}
END_TEST

START_TEST(test_endpoint_follows_newest_registration)
{
	struct rdv_peer	a, b;

	start(NULL, NULL);
	rdv_peer_init(&a, "127.0.0.2", 1);
	rdv_peer_init(&b, "127.0.0.3", 2);
	rdv_register(&a, &d);
	rdv_wait_lease(&a, &d);
	/* A's NAT remaps: the next registration comes from a new port. */
	close(a.udp);
	a.udp = h_udp_socket(a.ip, 0);
	a.udp_port = cb_local_port(a.udp);
	rdv_register(&a, &d);
	rdv_register(&b, &d);
	rdv_wait_lease(&b, &d);
	rdv_wait_stat(&d, "udp_datagrams", 3);
	rdv_match_peers(&a, &b, &d);
	rdv_peer_close(&a);
	rdv_peer_close(&b);
	stop();
}
END_TEST

START_TEST(test_lease_serves_later_matches)
{
	struct rdv_peer	a, b;
	int		i;

	start(NULL, NULL);
	rdv_peer_init(&a, "127.0.0.2", 1);
	rdv_peer_init(&b, "127.0.0.3", 2);
	rdv_register(&a, &d);
	rdv_register(&b, &d);
	for (i = 0; i < 3; i++) {
		rdv_match_peers(&a, &b, &d);
	}
	ck_assert_int_eq(h_stat(&d, "matches.peer"), 3);
	rdv_peer_close(&a);
	rdv_peer_close(&b);
	stop();
}
END_TEST

START_TEST(test_mismatched_targets_time_out)
{
	struct rdv_peer	a, b, c;

	start("-lease_timeout=1", NULL);
	rdv_peer_init(&a, "127.0.0.2", 1);
	rdv_peer_init(&b, "127.0.0.3", 2);
	rdv_peer_init(&c, "127.0.0.4", 3);
	rdv_register(&a, &d);
	rdv_register(&b, &d);
	rdv_request(&a, &d, "Peer", &b);
	rdv_request(&b, &d, "Peer", &c);
	rdv_expect_error(&a, "timeout", 3000);
	rdv_expect_error(&b, "timeout", 3000);
	ck_assert_int_eq(h_stat(&d, "errors.timeout"), 2);
	ck_assert_int_eq(h_stat(&d, "matches.peer"), 0);
	rdv_peer_close(&a);
	rdv_peer_close(&b);
	rdv_peer_close(&c);
	stop();
}
END_TEST

START_TEST(test_newer_request_replaces_older)
{
	struct rdv_peer	a1, a2, b;

	start(NULL, NULL);
	rdv_peer_init(&a1, "127.0.0.2", 1);
	rdv_peer_init(&a2, "127.0.0.2", 1);
	rdv_peer_init(&b, "127.0.0.3", 2);
	rdv_request(&a1, &d, "Peer", &b);
	rdv_wait_stat(&d, "waiting", 1);
	rdv_request(&a2, &d, "Peer", &b);
	rdv_expect_error(&a1, "replaced by a newer request", H_TIMEOUT_MS);
	ck_assert_int_eq(h_stat(&d, "errors.replaced"), 1);
	/* The newer one is the one that matches, from a2's UDP socket. */
	rdv_register(&a2, &d);
	rdv_register(&b, &d);
	rdv_request(&b, &d, "Peer", &a2);
	rdv_expect_pair(&a2, &b);
	rdv_peer_close(&a1);
	rdv_peer_close(&a2);
	rdv_peer_close(&b);
	stop();
}
END_TEST

START_TEST(test_never_arriving_udp)
{
	struct rdv_peer	a, b;
	uint64_t	t0;

	start("-udp_grace=1", NULL);
	rdv_peer_init(&a, "127.0.0.2", 1);
	rdv_peer_init(&b, "127.0.0.3", 2);
	t0 = h_now_ms();
	rdv_request(&a, &d, "Peer", &b);
	rdv_expect_error(&a, "no UDP registration", 3000);
	ck_assert_uint_ge(h_now_ms() - t0, 900);
	ck_assert_int_eq(h_stat(&d, "errors.no_udp_registration"), 1);
	ck_assert_int_eq(h_stat(&d, "waiting"), 0);
	rdv_peer_close(&a);
	rdv_peer_close(&b);
	stop();
}
END_TEST

START_TEST(test_disconnect_while_waiting_is_forgotten)
{
	struct rdv_peer	a, b;
	struct linger	lg = { 1, 0 };

	start(NULL, NULL);
	rdv_peer_init(&a, "127.0.0.2", 1);
	rdv_peer_init(&b, "127.0.0.3", 2);
	rdv_register(&a, &d);
	rdv_register(&b, &d);
	rdv_request(&a, &d, "Peer", &b);
	rdv_wait_stat(&d, "waiting", 1);
	/* A resets its connection while it waits. */
	setsockopt(a.tcp, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(a.tcp);
	a.tcp = -1;
	rdv_wait_stat(&d, "waiting", 0);
	rdv_wait_stat(&d, "tcp_connections", 0);
	/* B must not be matched against the departed A. */
	rdv_request(&b, &d, "Peer", &a);
	rdv_wait_stat(&d, "waiting", 1);
	ck_assert_int_eq(h_stat(&d, "matches.peer"), 0);
	/* A comes back and both match. */
	rdv_request(&a, &d, "Peer", &b);
	rdv_expect_pair(&a, &b);
	rdv_peer_close(&a);
	rdv_peer_close(&b);
	stop();
}
END_TEST

START_TEST(test_ipv6_and_mapped_remote_ip)
{
	struct rdv_peer	a, b;
	char		req[256];

	if (!h_have_ipv6())
		return;
	start(NULL, NULL);
	rdv_peer_init(&a, "::1", 1);
	rdv_peer_init(&b, "127.0.0.3", 2);
	rdv_register(&a, &d);
	rdv_register(&b, &d);
	/* A names B in its IPv4-mapped form; B names A as 0:0::1. */
	snprintf(req, sizeof(req), "{\"RemoteIP\":\"::ffff:127.0.0.3\","
	    "\"RemotePeerPort\":2,\"LocalPeerPort\":1,"
	    "\"ConnectionType\":\"Peer\"}\n");
	rdv_send(&a, &d, req);
	rdv_send(&b, &d, "{\"RemoteIP\":\"0:0::1\",\"RemotePeerPort\":1,"
	    "\"LocalPeerPort\":2,\"ConnectionType\":\"Peer\"}\n");
	rdv_expect_pair(&a, &b);
	rdv_peer_close(&a);
	rdv_peer_close(&b);
	stop();
}
END_TEST

START_TEST(test_leases_show_waiting_state)
{
	struct rdv_peer		 a, b;
	struct json_object	*j, *state;
	int			 status;
	char			 path[64];

	start(NULL, NULL);
	rdv_peer_init(&a, "127.0.0.2", 1);
	rdv_peer_init(&b, "127.0.0.3", 2);
	rdv_register(&a, &d);
	rdv_wait_lease(&a, &d);
	rdv_request(&a, &d, "Peer", &b);
	rdv_wait_stat(&d, "waiting", 1);
	snprintf(path, sizeof(path), "/leases/127.0.0.2/1");
	j = h_get_json(&d, path, &status);
	ck_assert_int_eq(status, 200);
	ck_assert(json_object_object_get_ex(j, "state", &state));
	ck_assert_str_eq(json_object_get_string(state), "waiting");
	json_object_put(j);
	rdv_peer_close(&a);
	rdv_peer_close(&b);
	stop();
}
END_TEST

/* 500 pairs in flight at once, every one matched to its own partner. */
START_TEST(test_500_concurrent_pairs)
{
	enum { N = 500 };
	static struct rdv_peer	a[N], b[N];
	static char		ips[N][16];
	int			i;

	start("-log_level=warn", NULL);
	for (i = 0; i < N; i++) {
		snprintf(ips[i], sizeof(ips[i]), "127.0.%d.%d", 10 + i / 200,
		    2 + i % 200);
		rdv_peer_init(&a[i], ips[i], i);
		rdv_peer_init(&b[i], "127.0.0.2", 100000 + i);
		rdv_register(&a[i], &d);
		rdv_request(&a[i], &d, "Peer", &b[i]);
	}
	for (i = 0; i < N; i++) {
		rdv_request(&b[i], &d, "Peer", &a[i]);
		rdv_register(&b[i], &d);
	}
	for (i = 0; i < N; i++) {
		rdv_expect_match(&a[i], &b[i]);
		rdv_expect_match(&b[i], &a[i]);
		rdv_peer_close(&a[i]);
		rdv_peer_close(&b[i]);
	}
	ck_assert_int_eq(h_stat(&d, "matches.peer"), N);
	stop();
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("peer_e2e");
	TCase	*tc = tcase_create("peer");

	tcase_set_timeout(tc, h_scale_ms(30000) / 1000);
	tcase_add_test(tc, test_udp_then_tcp);
	tcase_add_test(tc, test_tcp_then_udp_both_sides);
	tcase_add_test(tc, test_mixed_order);
	tcase_add_test(tc, test_same_ip_different_peer_ports);
	tcase_add_test(tc, test_endpoint_follows_newest_registration);
	tcase_add_test(tc, test_lease_serves_later_matches);
	tcase_add_test(tc, test_mismatched_targets_time_out);
	tcase_add_test(tc, test_newer_request_replaces_older);
	tcase_add_test(tc, test_never_arriving_udp);
	tcase_add_test(tc, test_disconnect_while_waiting_is_forgotten);
	tcase_add_test(tc, test_ipv6_and_mapped_remote_ip);
	tcase_add_test(tc, test_leases_show_waiting_state);
	tcase_add_test(tc, test_500_concurrent_pairs);
	suite_add_tcase(s, tc);
	return (suite_run(s));
}
