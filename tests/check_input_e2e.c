/*
 * What a client may send over TCP, end to end: framing (split, coalesced,
 * byte at a time), key rules, every class of invalid request, the size
 * and time limits, and shutdown with sessions waiting.
 */
#include "autoconf.h"

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <sys/resource.h>

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rdv.h"
#include "suite.h"

static struct h_daemon	d;

static void
start(const char *a1)
{
	ck_assert_int_eq(h_daemon_start(&d, "-log_level=debug", a1,
	    (char *)NULL), 0);
}

static void
stop(void)
{
	ck_assert_int_eq(h_daemon_stop(&d), 0);
}

/* Sends text as the first request from 127.0.0.2 and expects error. */
static void
expect_rejected(const char *text, const char *error)
{
	struct rdv_peer	p;

	rdv_peer_init(&p, "127.0.0.2", 1);
	rdv_send(&p, &d, text);
	rdv_expect_error(&p, error, H_TIMEOUT_MS);
	rdv_peer_close(&p);
}

START_TEST(test_byte_at_a_time)
{
	struct rdv_peer	a, b;
	const char	*req = "{\"RemoteIP\":\"127.0.0.3\",\"RemotePeerPort\":2,"
	    "\"LocalPeerPort\":1,\"ConnectionType\":\"Peer\"}\n";
	char		one[2] = { 0, 0 };
	int		on = 1;
	size_t		i;

	start(NULL);
	rdv_peer_init(&a, "127.0.0.2", 1);
	rdv_peer_init(&b, "127.0.0.3", 2);
	rdv_register(&a, &d);
	rdv_register(&b, &d);
	rdv_send(&a, &d, "");
	setsockopt(a.tcp, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	for (i = 0; req[i] != '\0'; i++) {
		one[0] = req[i];
		rdv_send(&a, &d, one);
		if (i % 16 == 0)
			usleep(1000);	/* let the bytes go out one by one */
	}
	rdv_request(&b, &d, "Peer", &a);
	rdv_expect_pair(&a, &b);
	rdv_peer_close(&a);
	rdv_peer_close(&b);
	stop();
}
END_TEST

START_TEST(test_keys_are_case_insensitive_and_unknown_ignored)
{
	struct rdv_peer	a, b;

	start(NULL);
	rdv_peer_init(&a, "127.0.0.2", 1);
	rdv_peer_init(&b, "127.0.0.3", 2);
	rdv_register(&a, &d);
	rdv_register(&b, &d);
	rdv_send(&a, &d, "  \r\n\t{\"remoteip\":\"127.0.0.3\",\"REMOTEPEERPORT\""
	    ":2,\"localPeerPort\":1,\"connectiontype\":\"Peer\",\"Extra\":"
	    "{\"nested\":[1,2,{\"x\":\"}\"}]},\"Note\":\"a \\\"quoted\\\" }\"}");
	rdv_send(&b, &d, "{\"RemoteIP\":\"127.0.0.2\",\"RemotePeerPort\":1,"
	    "\"LocalPeerPort\":2,\"ConnectionType\":\"Peer\"}");
	rdv_expect_pair(&a, &b);
	rdv_peer_close(&a);
	rdv_peer_close(&b);
	stop();
}
END_TEST

START_TEST(test_second_request_on_a_peer_connection)
{
	struct rdv_peer	a, b;

	start(NULL);
	rdv_peer_init(&a, "127.0.0.2", 1);
	rdv_peer_init(&b, "127.0.0.3", 2);
	rdv_register(&a, &d);
	/* Two requests in one segment. */
	rdv_send(&a, &d, "{\"RemoteIP\":\"127.0.0.3\",\"RemotePeerPort\":2,"
	    "\"LocalPeerPort\":1,\"ConnectionType\":\"Peer\"}\n"
	    "{\"RemoteIP\":\"127.0.0.3\",\"RemotePeerPort\":2,"
	    "\"LocalPeerPort\":1,\"ConnectionType\":\"Peer\"}\n");
	rdv_expect_error(&a, "invalid request: one request per connection",
	    H_TIMEOUT_MS);
	rdv_wait_stat(&d, "waiting", 0);
	rdv_peer_close(&a);
	rdv_peer_close(&b);
	stop();
}
END_TEST

START_TEST(test_every_invalid_request_class)
{
	static const struct {
		const char	*text;
		const char	*error;
	} cases[] = {
		{ "[1]", "invalid request: not a JSON object" },
		{ "5\n", "invalid request: not a JSON object" },
		{ "\"Peer\"\n", "invalid request: not a JSON object" },
		{ "{\"LocalPeerPort\":1,,}", "invalid request: malformed JSON" },
		{ "{\"LocalPeerPort\":1 \"x\":2}",
		    "invalid request: malformed JSON" },
		{ "{\"ConnectionType\":\"Server\"}",
		    "invalid request: missing LocalPeerPort" },
		{ "{\"LocalPeerPort\":1}",
		    "invalid request: missing ConnectionType" },
		{ "{\"LocalPeerPort\":1,\"ConnectionType\":\"peer\"}",
		    "invalid request: unknown ConnectionType" },
		{ "{\"LocalPeerPort\":1,\"ConnectionType\":5}",
		    NULL },
		{ "{\"LocalPeerPort\":\"1\",\"ConnectionType\":\"Server\"}",
		    "invalid request: LocalPeerPort must be an integer from 0 "
		    "to 2147483647" },
		{ "{\"LocalPeerPort\":1.0,\"ConnectionType\":\"Server\"}",
		    "invalid request: LocalPeerPort must be an integer from 0 "
		    "to 2147483647" },
		{ "{\"LocalPeerPort\":1e3,\"ConnectionType\":\"Server\"}",
		    "invalid request: LocalPeerPort must be an integer from 0 "
		    "to 2147483647" },
		{ "{\"LocalPeerPort\":null,\"ConnectionType\":\"Server\"}",
		    "invalid request: LocalPeerPort must be an integer from 0 "
		    "to 2147483647" },
		{ "{\"LocalPeerPort\":true,\"ConnectionType\":\"Server\"}",
		    "invalid request: LocalPeerPort must be an integer from 0 "
		    "to 2147483647" },
		{ "{\"LocalPeerPort\":-1,\"ConnectionType\":\"Server\"}",
		    "invalid request: LocalPeerPort must be an integer from 0 "
		    "to 2147483647" },
		{ "{\"LocalPeerPort\":2147483648,\"ConnectionType\":\"Server\"}",
		    "invalid request: LocalPeerPort must be an integer from 0 "
		    "to 2147483647" },
		{ "{\"LocalPeerPort\":1,\"ConnectionType\":\"Peer\","
		    "\"RemotePeerPort\":2}", "invalid request: missing RemoteIP" },
		{ "{\"LocalPeerPort\":1,\"ConnectionType\":\"Client\","
		    "\"RemoteIP\":\"127.0.0.3\"}",
		    "invalid request: missing RemotePeerPort" },
		{ "{\"LocalPeerPort\":1,\"ConnectionType\":\"Peer\","
		    "\"RemoteIP\":\"localhost\",\"RemotePeerPort\":2}",
		    "invalid request: RemoteIP must be an IP address literal" },
		{ "{\"LocalPeerPort\":1,\"ConnectionType\":\"Peer\","
		    "\"RemoteIP\":\"<script>&\",\"RemotePeerPort\":2}",
		    "invalid request: RemoteIP must be an IP address literal" },
		{ "{\"LocalPeerPort\":1,\"ConnectionType\":\"Peer\","
		    "\"RemoteIP\":7,\"RemotePeerPort\":2}", NULL },
		{ "{\"LocalPeerPort\":1,\"ConnectionType\":\"Client\","
		    "\"RemoteIP\":\"127.0.0.3\",\"RemotePeerPort\":-2}",
		    "invalid request: RemotePeerPort must be an integer from 0 "
		    "to 2147483647" },
	};
	struct rdv_peer	p;
	const char	*prefix = "{\"SourcePort\":0,\"SourceIP\":\"\","
	    "\"DestPort\":0,\"DestIP\":\"\",\"Error\":\"invalid request: ";
	char		line[1024];
	size_t		i;
	long long	invalid = 0;

	start(NULL);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rdv_peer_init(&p, "127.0.0.2", 1);
		rdv_send(&p, &d, cases[i].text);
		if (cases[i].error != NULL) {
			rdv_expect_error(&p, cases[i].error, H_TIMEOUT_MS);
		} else {
			/* The reason is the decoder's to word; the frame is not. */
			ck_assert_int_gt(h_read_line(p.tcp, line, sizeof(line),
			    H_TIMEOUT_MS), 0);
			ck_assert_msg(strncmp(line, prefix,
			    strlen(prefix)) == 0, "case %zu: %s", i, line);
			ck_assert_int_eq(h_wait_eof(p.tcp, H_TIMEOUT_MS), 1);
		}
		rdv_peer_close(&p);
		invalid++;
	}
	ck_assert_int_eq(h_stat(&d, "requests.invalid"), invalid);
	ck_assert_int_eq(h_stat(&d, "errors.invalid_request"), invalid);
	ck_assert_int_eq(h_stat(&d, "tcp_accepted"), invalid);
	stop();
}
END_TEST

START_TEST(test_oversized_request_answered_at_once)
{
	char		*big;
	uint64_t	 t0;

	start(NULL);
	big = malloc(5001);
	memset(big, ' ', 5000);
	big[5000] = '\0';
	memcpy(big, "{\"Padding\":\"", 12);
	t0 = h_now_ms();
	expect_rejected(big, "request too large");
	ck_assert_uint_lt(h_now_ms() - t0, 5000);
	ck_assert_int_eq(h_stat(&d, "errors.request_too_large"), 1);
	ck_assert_int_eq(h_stat(&d, "requests.invalid"), 1);
	free(big);
	stop();
}
END_TEST

START_TEST(test_request_of_exactly_the_limit)
{
	struct rdv_peer	a, b;
	char		req[4097];
	int		n;

	start(NULL);
	rdv_peer_init(&a, "127.0.0.2", 1);
	rdv_peer_init(&b, "127.0.0.3", 2);
	rdv_register(&a, &d);
	rdv_register(&b, &d);
	n = snprintf(req, sizeof(req), "{\"RemoteIP\":\"127.0.0.3\","
	    "\"RemotePeerPort\":2,\"LocalPeerPort\":1,"
	    "\"ConnectionType\":\"Peer\",\"Pad\":\"");
	memset(req + n, 'x', 4096 - (size_t)n - 2);
	memcpy(req + 4094, "\"}", 3);
	ck_assert_uint_eq(strlen(req), 4096);
	rdv_send(&a, &d, req);
	rdv_request(&b, &d, "Peer", &a);
	rdv_expect_pair(&a, &b);
	rdv_peer_close(&a);
	rdv_peer_close(&b);
	stop();
}
END_TEST

START_TEST(test_idle_connection_times_out)
{
	struct rdv_peer	p;
	uint64_t	t0;

	start(NULL);
	rdv_peer_init(&p, "127.0.0.2", 1);
	t0 = h_now_ms();
	/* Whitespace and half an object do not count as a request. */
	rdv_send(&p, &d, "\n\n   {\"LocalPeerPort\":1,");
	rdv_expect_error(&p, "timeout", h_scale_ms(13000));
	ck_assert_uint_ge(h_now_ms() - t0, 9500);
	ck_assert_int_eq(h_stat(&d, "errors.timeout"), 1);
	rdv_peer_close(&p);
	stop();
}
END_TEST

START_TEST(test_response_survives_unread_client_bytes)
{
	struct rdv_peer	p;
	char		junk[65536];

	start(NULL);
	/*
	 * The client keeps sending after its bad request: the lingering
	 * close must still deliver the line rather than reset.
	 */
	memset(junk, 'x', sizeof(junk));
	junk[sizeof(junk) - 1] = '\0';
	rdv_peer_init(&p, "127.0.0.2", 1);
	rdv_send(&p, &d, "[]");
	rdv_send(&p, &d, junk);
	rdv_expect_error(&p, "invalid request: not a JSON object",
	    H_TIMEOUT_MS);
	rdv_peer_close(&p);
	stop();
}
END_TEST

START_TEST(test_sigterm_tells_every_session)
{
	struct rdv_peer	a, b, s, idle;
	uint64_t	t0;
	char		*line;
	int		status;

	start(NULL);
	rdv_peer_init(&a, "127.0.0.2", 1);
	rdv_peer_init(&b, "127.0.0.3", 2);
	rdv_peer_init(&s, "127.0.0.9", 7);
	rdv_peer_init(&idle, "127.0.0.4", 4);
	rdv_request(&a, &d, "Peer", &b);
	rdv_register(&s, &d);
	rdv_request(&s, &d, "Server", NULL);
	rdv_send(&idle, &d, "{");
	rdv_wait_stat(&d, "servers", 1);
	rdv_wait_stat(&d, "tcp_connections", 3);
	t0 = h_now_ms();
	ck_assert_int_eq(kill(d.pid, SIGTERM), 0);
	line = rdv_error_line("server shutting down");
	rdv_expect_final(&a, line, 1000);
	rdv_expect_final(&s, line, 1000);
	rdv_expect_final(&idle, line, 1000);
	free(line);
	status = h_daemon_stop(&d);
	ck_assert_int_eq(status, 0);
	ck_assert_uint_lt(h_now_ms() - t0, (uint64_t)h_scale_ms(1000));
	rdv_peer_close(&a);
	rdv_peer_close(&b);
	rdv_peer_close(&s);
	rdv_peer_close(&idle);
}
END_TEST

/* Clock ticks of CPU the process has used (utime + stime). */
static long
cpu_ticks(pid_t pid)
{
	char		 path[64], buf[1024], *p;
	unsigned long	 utime, stime;
	FILE		*f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(buf, sizeof(buf), f));
	fclose(f);
	p = strrchr(buf, ')');
	ck_assert_int_eq(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u "
	    "%*u %*u %lu %lu", &utime, &stime), 2);
	return ((long)(utime + stime));
}

enum { FD_TEST_CONNECTIONS = 80 };

/* Every connection is either held or was refused with a line. */
static int
all_answered(void *arg)
{
	(void)arg;
	return (h_stat(&d, "errors.too_many_connections") +
	    h_stat(&d, "tcp_connections") == FD_TEST_CONNECTIONS);
}

START_TEST(test_out_of_descriptors_does_not_spin)
{
	enum { N = FD_TEST_CONNECTIONS };
	struct rlimit	 saved, low = { 96, 96 };
	struct rdv_peer	 conns[N];
	long		 before;
	int		 i;

	/* The daemon inherits a limit it will run into. */
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &saved), 0);
	low.rlim_max = saved.rlim_max;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
	start(NULL);
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &saved), 0);
	for (i = 0; i < N; i++) {
		rdv_peer_init(&conns[i], "127.0.0.4", i);
		rdv_send(&conns[i], &d, "{");
	}
	/* Those over the limit are told so; the admin API stays reachable. */
	ck_assert_int_eq(h_wait_stat(&d, "errors.too_many_connections",
	    1, H_TIMEOUT_MS), 0);
	ck_assert_int_le(h_stat(&d, "tcp_connections"), 48);
	before = cpu_ticks(d.pid);
	usleep(500 * 1000);
	/* A spinning accept loop would burn the whole half second. */
	ck_assert_int_lt(cpu_ticks(d.pid) - before,
	    sysconf(_SC_CLK_TCK) / 5);
	ck_assert_int_eq(h_poll_until(all_answered, NULL, H_TIMEOUT_MS), 1);
	for (i = 0; i < N; i++)
		rdv_peer_close(&conns[i]);
	rdv_wait_stat(&d, "tcp_connections", 0);
	rdv_match_fresh_pair(&d, "127.0.0.2", "127.0.0.3");
	stop();
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("input_e2e");
	TCase	*tc = tcase_create("input");

	tcase_set_timeout(tc, h_scale_ms(30000) / 1000);
	tcase_add_test(tc, test_byte_at_a_time);
	tcase_add_test(tc, test_keys_are_case_insensitive_and_unknown_ignored);
	tcase_add_test(tc, test_second_request_on_a_peer_connection);
	tcase_add_test(tc, test_every_invalid_request_class);
	tcase_add_test(tc, test_oversized_request_answered_at_once);
	tcase_add_test(tc, test_request_of_exactly_the_limit);
	tcase_add_test(tc, test_idle_connection_times_out);
	tcase_add_test(tc, test_response_survives_unread_client_bytes);
	tcase_add_test(tc, test_sigterm_tells_every_session);
	tcase_add_test(tc, test_out_of_descriptors_does_not_spin);
	suite_add_tcase(s, tc);
	return (suite_run(s));
}
