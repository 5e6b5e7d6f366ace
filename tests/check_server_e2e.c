/*
 * Server/Client mode and KeepAlive end to end, against the real daemon
 * over real sockets, checking the exact lines each side receives.
 */
#include "autoconf.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rdv.h"
#include "suite.h"

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

/* Registers s as a Server and waits until the daemon counts it. */
static void
serve(struct rdv_peer *s, long long servers)
{
	rdv_register(s, &d);
	rdv_request(s, &d, "Server", NULL);
	rdv_wait_stat(&d, "servers", servers);
}

/* A client that registers, asks for s, and is answered. */
static void
client_matches(struct rdv_peer *c, struct rdv_peer *s)
{
	char	*line;

	rdv_register(c, &d);
	rdv_wait_lease(c, &d);
	rdv_request(c, &d, "Client", s);
	rdv_expect_match(c, s);
	line = rdv_success_line(s, c);
	rdv_expect_line(s->tcp, line, H_TIMEOUT_MS);
	free(line);
}

START_TEST(test_server_silent_then_one_line_per_client)
{
	struct rdv_peer	s, c1, c2, c3;

	start(NULL, NULL);
	rdv_peer_init(&s, "127.0.0.9", 7);
	rdv_peer_init(&c1, "127.0.0.2", 1);
	rdv_peer_init(&c2, "127.0.0.3", 1);
	rdv_peer_init(&c3, "127.0.0.3", 2);
	serve(&s, 1);
	/*
	 * Had the registration been answered, the first line the server
	 * reads would be that answer and not the notification below.
	 */
	client_matches(&c1, &s);
	client_matches(&c2, &s);
	client_matches(&c3, &s);
	ck_assert_int_eq(h_stat(&d, "matches.client"), 3);
	ck_assert_int_eq(h_stat(&d, "requests.server"), 1);
	ck_assert_int_eq(h_stat(&d, "requests.client"), 3);
	ck_assert_int_eq(h_stat(&d, "servers"), 1);
	ck_assert_int_eq(h_stat(&d, "waiting"), 0);
	rdv_peer_close(&s);
	rdv_peer_close(&c1);
	rdv_peer_close(&c2);
	rdv_peer_close(&c3);
	stop();
}
END_TEST

START_TEST(test_client_without_server_fails_at_once)
{
	struct rdv_peer	s, c;

	start(NULL, NULL);
	rdv_peer_init(&s, "127.0.0.9", 7);
	rdv_peer_init(&c, "127.0.0.2", 1);
	rdv_register(&c, &d);
	rdv_request(&c, &d, "Client", &s);
	rdv_expect_error(&c, "no such server", 1000);
	ck_assert_int_eq(h_stat(&d, "errors.no_such_server"), 1);
	rdv_peer_close(&s);
	rdv_peer_close(&c);
	stop();
}
END_TEST

START_TEST(test_server_waiting_for_udp_is_not_registered)
{
	struct rdv_peer	s, c;

	start(NULL, NULL);
	rdv_peer_init(&s, "127.0.0.9", 7);
	rdv_peer_init(&c, "127.0.0.2", 1);
	rdv_request(&s, &d, "Server", NULL);
	rdv_wait_stat(&d, "waiting", 1);
	ck_assert_int_eq(h_stat(&d, "servers"), 0);
	rdv_register(&c, &d);
	rdv_request(&c, &d, "Client", &s);
	rdv_expect_error(&c, "no such server", 1000);
	/* Its UDP arrives: now it is registered, and clients reach it. */
	rdv_register(&s, &d);
	rdv_wait_stat(&d, "servers", 1);
	client_matches(&c, &s);
	rdv_peer_close(&s);
	rdv_peer_close(&c);
	stop();
}
END_TEST

START_TEST(test_client_waits_for_its_own_udp)
{
	struct rdv_peer	s, c;
	char		*line;

	start(NULL, NULL);
	rdv_peer_init(&s, "127.0.0.9", 7);
	rdv_peer_init(&c, "127.0.0.2", 1);
	serve(&s, 1);
	rdv_request(&c, &d, "Client", &s);
	rdv_wait_stat(&d, "waiting", 1);
	rdv_register(&c, &d);
	rdv_expect_match(&c, &s);
	line = rdv_success_line(&s, &c);
	rdv_expect_line(s.tcp, line, H_TIMEOUT_MS);
	free(line);
	rdv_peer_close(&s);
	rdv_peer_close(&c);
	stop();
}
END_TEST

START_TEST(test_server_closed_means_no_such_server)
{
	struct rdv_peer	s, c, c2;

	start(NULL, NULL);
	rdv_peer_init(&s, "127.0.0.9", 7);
	rdv_peer_init(&c, "127.0.0.2", 1);
	rdv_peer_init(&c2, "127.0.0.3", 1);
	serve(&s, 1);
	/* c2 waits for its own UDP when the server goes away. */
	rdv_request(&c2, &d, "Client", &s);
	rdv_wait_stat(&d, "waiting", 1);
	close(s.tcp);
	s.tcp = -1;
	rdv_expect_error(&c2, "no such server", H_TIMEOUT_MS);
	rdv_wait_stat(&d, "servers", 0);
	rdv_register(&c, &d);
	rdv_request(&c, &d, "Client", &s);
	rdv_expect_error(&c, "no such server", 1000);
	rdv_peer_close(&s);
	rdv_peer_close(&c);
	rdv_peer_close(&c2);
	stop();
}
END_TEST

START_TEST(test_keepalive_outlives_lease_timeout)
{
	struct rdv_peer	s, c;
	uint64_t	until;

	start("-lease_timeout=1", NULL);
	rdv_peer_init(&s, "127.0.0.9", 7);
	rdv_peer_init(&c, "127.0.0.2", 1);
	serve(&s, 1);
	/* Three lease lifetimes of KeepAlives and no UDP refresh at all. */
	until = h_now_ms() + 3000;
	while (h_now_ms() < until) {
		rdv_request(&s, &d, "KeepAlive", NULL);
		usleep(250 * 1000);
	}
	ck_assert_int_eq(h_stat(&d, "servers"), 1);
	ck_assert_int_ge(h_stat(&d, "requests.keepalive"), 10);
	client_matches(&c, &s);
	rdv_peer_close(&s);
	rdv_peer_close(&c);
	stop();
}
END_TEST

START_TEST(test_repeated_server_request_is_a_keepalive)
{
	struct rdv_peer	s, c;

	start(NULL, NULL);
	rdv_peer_init(&s, "127.0.0.9", 7);
	rdv_peer_init(&c, "127.0.0.2", 1);
	serve(&s, 1);
	rdv_request(&s, &d, "Server", NULL);
	rdv_wait_stat(&d, "requests.server", 2);
	client_matches(&c, &s);
	ck_assert_int_eq(h_stat(&d, "errors.invalid_request"), 0);
	rdv_peer_close(&s);
	rdv_peer_close(&c);
	stop();
}
END_TEST

START_TEST(test_missing_keepalive_times_out)
{
	struct rdv_peer	s;

	start("-lease_timeout=1", NULL);
	rdv_peer_init(&s, "127.0.0.9", 7);
	serve(&s, 1);
	rdv_expect_error(&s, "timeout", 3000);
	rdv_wait_stat(&d, "servers", 0);
	ck_assert_int_eq(h_stat(&d, "leases_expired"), 1);
	rdv_peer_close(&s);
	stop();
}
END_TEST

START_TEST(test_newer_server_replaces_older)
{
	struct rdv_peer	s1, s2, c;

	start(NULL, NULL);
	rdv_peer_init(&s1, "127.0.0.9", 7);
	rdv_peer_init(&s2, "127.0.0.9", 7);
	rdv_peer_init(&c, "127.0.0.2", 1);
	serve(&s1, 1);
	serve(&s2, 1);
	rdv_expect_error(&s1, "replaced by a newer request", H_TIMEOUT_MS);
	client_matches(&c, &s2);
	rdv_peer_close(&s1);
	rdv_peer_close(&s2);
	rdv_peer_close(&c);
	stop();
}
END_TEST

START_TEST(test_keepalive_without_registration)
{
	struct rdv_peer	s;

	start(NULL, NULL);
	rdv_peer_init(&s, "127.0.0.9", 7);
	rdv_register(&s, &d);
	rdv_request(&s, &d, "KeepAlive", NULL);
	rdv_expect_error(&s, "invalid request: KeepAlive without a Server "
	    "registration", H_TIMEOUT_MS);
	ck_assert_int_eq(h_stat(&d, "requests.keepalive"), 1);
	ck_assert_int_eq(h_stat(&d, "errors.invalid_request"), 1);
	rdv_peer_close(&s);
	stop();
}
END_TEST

START_TEST(test_other_requests_on_a_server_connection)
{
	struct rdv_peer	s, t;

	start(NULL, NULL);
	rdv_peer_init(&s, "127.0.0.9", 7);
	rdv_peer_init(&t, "127.0.0.9", 8);
	serve(&s, 1);
	rdv_send(&s, &d, "{\"LocalPeerPort\":8,"
	    "\"ConnectionType\":\"KeepAlive\"}\n");
	rdv_expect_error(&s, "invalid request: LocalPeerPort differs from "
	    "the Server registration", H_TIMEOUT_MS);
	serve(&t, 1);
	rdv_request(&t, &d, "Peer", &s);
	rdv_expect_error(&t, "invalid request: only KeepAlive may follow a "
	    "Server registration", H_TIMEOUT_MS);
	rdv_wait_stat(&d, "servers", 0);
	rdv_peer_close(&s);
	rdv_peer_close(&t);
	stop();
}
END_TEST

START_TEST(test_requests_queued_behind_registration)
{
	struct rdv_peer	s, c;

	start(NULL, NULL);
	rdv_peer_init(&s, "127.0.0.9", 7);
	rdv_peer_init(&c, "127.0.0.2", 1);
	/* Server and KeepAlive in one segment, before the UDP arrives. */
	rdv_send(&s, &d, "{\"LocalPeerPort\":7,\"ConnectionType\":\"Server\"}"
	    "{\"LocalPeerPort\":7,\"ConnectionType\":\"KeepAlive\"}\n");
	rdv_wait_stat(&d, "waiting", 1);
	ck_assert_int_eq(h_stat(&d, "requests.keepalive"), 0);
	rdv_register(&s, &d);
	rdv_wait_stat(&d, "requests.keepalive", 1);
	ck_assert_int_eq(h_stat(&d, "servers"), 1);
	client_matches(&c, &s);
	rdv_peer_close(&s);
	rdv_peer_close(&c);
	stop();
}
END_TEST

START_TEST(test_leases_show_server_state)
{
	struct rdv_peer		 s;
	struct h_http_response	 r;

	start(NULL, NULL);
	rdv_peer_init(&s, "127.0.0.9", 7);
	serve(&s, 1);
	ck_assert_int_eq(h_http(&d, "GET", "/leases/127.0.0.9/7", NULL, &r),
	    0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body, "\"state\":\"server\""));
	h_http_response_free(&r);
	rdv_peer_close(&s);
	stop();
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("server_e2e");
	TCase	*tc = tcase_create("server");

	tcase_set_timeout(tc, h_scale_ms(30000) / 1000);
	tcase_add_test(tc, test_server_silent_then_one_line_per_client);
	tcase_add_test(tc, test_client_without_server_fails_at_once);
	tcase_add_test(tc, test_server_waiting_for_udp_is_not_registered);
	tcase_add_test(tc, test_client_waits_for_its_own_udp);
	tcase_add_test(tc, test_server_closed_means_no_such_server);
	tcase_add_test(tc, test_keepalive_outlives_lease_timeout);
	tcase_add_test(tc, test_repeated_server_request_is_a_keepalive);
	tcase_add_test(tc, test_missing_keepalive_times_out);
	tcase_add_test(tc, test_newer_server_replaces_older);
	tcase_add_test(tc, test_keepalive_without_registration);
	tcase_add_test(tc, test_other_requests_on_a_server_connection);
	tcase_add_test(tc, test_requests_queued_behind_registration);
	tcase_add_test(tc, test_leases_show_server_state);
	suite_add_tcase(s, tc);
	return (suite_run(s));
}
