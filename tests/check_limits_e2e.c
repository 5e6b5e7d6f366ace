/*
 * The operator's limits and the anti-hijack token, end to end against the
 * real daemon: max_leases and max_leases_per_ip (over quota dropped and
 * counted, existing leases still refreshing), max_connections, the
 * per-IP rate limits on UDP registrations and new TCP connections, their
 * reload on SIGHUP, and the Token of the contract's section 9, for
 * registrations and for TCP requests.  And the other side of the promise:
 * clients that send no token see exactly what they always saw.
 */
#include "autoconf.h"

#include <sys/socket.h>

#include <check.h>
#include <errno.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rdv.h"
#include "suite.h"
#include "util.h"

#define TOKEN_A		"correct-horse-battery-staple"
#define TOKEN_B		"another-token-of-some-length"
#define ERR_TOKEN	"invalid request: token"

static struct h_daemon	d;

static void
start(const char *flag1, const char *flag2)
{
	ck_assert_int_eq(h_daemon_start(&d, flag1, flag2, (const char *)NULL),
	    0);
}

static void
stop(void)
{
	ck_assert_int_eq(h_daemon_stop(&d), 0);
}

/* Sends a registration text from fd. */
static void
send_text(int fd, const char *text)
{
	ck_assert_int_eq(h_udp_send(fd, "127.0.0.1", d.port, text,
	    strlen(text)), 0);
}

/* Sends {"PeerPort":N} from fd, with "Token" unless token is NULL. */
static void
send_reg(int fd, long long peer_port, const char *token)
{
	char	buf[256];

	if (token != NULL)
		snprintf(buf, sizeof(buf), "{\"PeerPort\":%lld,\"Token\":"
		    "\"%s\"}", peer_port, token);
	else
		snprintf(buf, sizeof(buf), "{\"PeerPort\":%lld}", peer_port);
	send_text(fd, buf);
}

/* The UDP port the daemon records for (ip, peer_port); -1 if none. */
static long long
lease_port(const char *ip, long long peer_port)
{
	struct json_object	*obj, *v;
	char			 path[128];
	long long		 port = -1;
	int			 status;

	snprintf(path, sizeof(path), "/leases/%s/%lld", ip, peer_port);
	if ((obj = h_get_json(&d, path, &status)) == NULL)
		return (-1);
	if (status == 200 && json_object_object_get_ex(obj, "udp_port", &v))
		port = json_object_get_int64(v);
	json_object_put(obj);
	return (port);
}

struct port_probe {
	const char	*ip;
	long long	 peer_port;
	long long	 want;
};

static int
port_is(void *arg)
{
	struct port_probe	*pp = arg;

	return (lease_port(pp->ip, pp->peer_port) == pp->want);
}

/* Waits until the lease's recorded port is want. */
static void
wait_port(const char *ip, long long peer_port, long long want)
{
	struct port_probe	pp = { ip, peer_port, want };

	ck_assert_msg(h_poll_until(port_is, &pp, H_TIMEOUT_MS) == 1,
	    "lease %s/%lld at port %lld, not %lld", ip, peer_port,
	    lease_port(ip, peer_port), want);
}

/* Sends a request line with a token (NULL: none) for p. */
static void
request_token(struct rdv_peer *p, const char *type,
    const struct rdv_peer *target, const char *token)
{
	char	req[512], tok[128] = "";

	if (token != NULL)
		snprintf(tok, sizeof(tok), ",\"Token\":\"%s\"", token);
	if (target != NULL)
		snprintf(req, sizeof(req), "{\"RemoteIP\":\"%s\","
		    "\"RemotePeerPort\":%lld,\"LocalPeerPort\":%lld,"
		    "\"ConnectionType\":\"%s\"%s}\n", target->ip,
		    target->peer_port, p->peer_port, type, tok);
	else
		snprintf(req, sizeof(req), "{\"LocalPeerPort\":%lld,"
		    "\"ConnectionType\":\"%s\"%s}\n", p->peer_port, type, tok);
	rdv_send(p, &d, req);
}

/* Connects p's TCP from its IP without sending anything. */
static void
connect_only(struct rdv_peer *p)
{
	p->tcp = h_tcp_connect(p->ip, "127.0.0.1", d.port, H_TIMEOUT_MS);
	ck_assert_int_ne(p->tcp, -1);
}

/* Whether fd was closed by the daemon with nothing sent on it. */
static int
closed_silently(int fd, int ms)
{
	struct pollfd	pfd = { fd, POLLIN, 0 };
	char		c;
	ssize_t		n;

	if (poll(&pfd, 1, ms) != 1)
		return (0);
	n = recv(fd, &c, 1, MSG_DONTWAIT);
	return (n == 0 || (n == -1 && errno == ECONNRESET));
}

/* max_leases: new leases past it are dropped; old ones still move. */
START_TEST(test_max_leases)
{
	struct rdv_peer	a, b, c;
	int		moved;

	start("-max_leases=2", NULL);
	ck_assert_int_eq(h_stat(&d, "limits.max_leases"), 2);
	rdv_peer_init(&a, "127.0.0.2", 1);
	rdv_peer_init(&b, "127.0.0.3", 1);
	rdv_peer_init(&c, "127.0.0.4", 1);
	rdv_register(&a, &d);
	rdv_register(&b, &d);
	rdv_wait_stat(&d, "leases", 2);
	rdv_register(&c, &d);
	rdv_wait_stat(&d, "udp_over_quota", 1);
	ck_assert_int_eq(lease_port(c.ip, 1), -1);
	/* a, from a new port, still refreshes and moves its lease. */
	moved = h_udp_socket(a.ip, 0);
	ck_assert_int_ne(moved, -1);
	send_reg(moved, 1, NULL);
	wait_port(a.ip, 1, cb_local_port(moved));
	ck_assert_int_eq(h_stat(&d, "udp_over_quota"), 1);
	ck_assert_int_eq(h_stat(&d, "leases"), 2);
	close(moved);
	rdv_peer_close(&a);
	rdv_peer_close(&b);
	rdv_peer_close(&c);
	stop();
}
END_TEST

/* max_leases_per_ip: the same for one public IP; other IPs unaffected. */
START_TEST(test_max_leases_per_ip)
{
	struct rdv_peer	a1, a2, a3, b;

	start("-max_leases_per_ip=2", NULL);
	ck_assert_int_eq(h_stat(&d, "limits.max_leases_per_ip"), 2);
	rdv_peer_init(&a1, "127.0.0.2", 1);
	rdv_peer_init(&a2, "127.0.0.2", 2);
	rdv_peer_init(&a3, "127.0.0.2", 3);
	rdv_peer_init(&b, "127.0.0.3", 1);
	rdv_register(&a1, &d);
	rdv_register(&a2, &d);
	rdv_wait_stat(&d, "leases", 2);
	rdv_register(&a3, &d);
	rdv_wait_stat(&d, "udp_over_quota", 1);
	rdv_register(&b, &d);
	rdv_wait_lease(&b, &d);
	/* a2 re-registering from a3's socket moves it. */
	send_reg(a3.udp, 2, NULL);
	wait_port(a2.ip, 2, a3.udp_port);
	ck_assert_int_eq(h_stat(&d, "udp_over_quota"), 1);
	ck_assert_int_eq(h_stat(&d, "leases"), 3);
	rdv_peer_close(&a1);
	rdv_peer_close(&a2);
	rdv_peer_close(&a3);
	rdv_peer_close(&b);
	stop();
}
END_TEST

/* -max_connections: the one past it hears "too many connections". */
START_TEST(test_max_connections)
{
	struct rdv_peer	a, b, c;

	start("-max_connections=2", NULL);
	ck_assert_int_eq(h_stat(&d, "limits.max_connections"), 2);
	rdv_peer_init(&a, "127.0.0.2", 1);
	rdv_peer_init(&b, "127.0.0.3", 1);
	rdv_peer_init(&c, "127.0.0.4", 1);
	connect_only(&a);
	connect_only(&b);
	rdv_wait_stat(&d, "tcp_connections", 2);
	connect_only(&c);
	rdv_expect_error(&c, "too many connections", H_TIMEOUT_MS);
	rdv_wait_stat(&d, "errors.too_many_connections", 1);
	rdv_peer_close(&a);
	rdv_peer_close(&b);
	rdv_peer_close(&c);
	stop();
}
END_TEST

/* By default the limit comes from RLIMIT_NOFILE. */
START_TEST(test_max_connections_default)
{
	start(NULL, NULL);
	ck_assert_int_gt(h_stat(&d, "limits.max_connections"), 0);
	ck_assert_int_eq(h_stat(&d, "limits.max_leases"), 1000000);
	ck_assert_int_eq(h_stat(&d, "limits.max_leases_per_ip"), 4096);
	ck_assert_int_eq(h_stat(&d, "limits.rate_limit_udp"), 0);
	ck_assert_int_eq(h_stat(&d, "limits.rate_limit_tcp"), 0);
	ck_assert_int_eq(h_stat(&d, "udp_rate_limited"), 0);
	ck_assert_int_eq(h_stat(&d, "udp_token_mismatch"), 0);
	ck_assert_int_eq(h_stat(&d, "tcp_rate_limited"), 0);
	stop();
}
END_TEST

/* -rate_limit_udp=5: a burst of 10, then drops, counted, per IP. */
START_TEST(test_rate_limit_udp)
{
	struct rdv_peer	a, b;
	long long	limited;
	uint64_t	t0;
	int		i;

	start("-rate_limit_udp=5", NULL);
	rdv_peer_init(&a, "127.0.0.2", 1);
	rdv_peer_init(&b, "127.0.0.3", 1);
	t0 = h_now_ms();
	for (i = 0; i < 40; i++)
		rdv_register(&a, &d);
	rdv_wait_stat(&d, "udp_datagrams", 40);
	t0 = h_now_ms() - t0;
	limited = h_stat(&d, "udp_rate_limited");
	ck_assert_int_le(limited, 30);
	ck_assert_int_ge(limited, 30 - 1 - (long long)(t0 * 5 / 1000));
	rdv_wait_lease(&a, &d);
	/* Another IP has its own bucket. */
	rdv_register(&b, &d);
	rdv_wait_lease(&b, &d);
	ck_assert_int_eq(h_stat(&d, "udp_rate_limited"), limited);
	rdv_peer_close(&a);
	rdv_peer_close(&b);
	stop();
}
END_TEST

/* -rate_limit_tcp=2: past a burst of 4, closed at once without a word. */
START_TEST(test_rate_limit_tcp)
{
	struct rdv_peer	a[10], b, s;
	long long	limited;
	int		i, silent = 0;

	start("-rate_limit_tcp=2", NULL);
	for (i = 0; i < 10; i++) {
		rdv_peer_init(&a[i], "127.0.0.2", i);
		connect_only(&a[i]);
	}
	rdv_wait_stat(&d, "tcp_accepted", 10);
	limited = h_stat(&d, "tcp_rate_limited");
	ck_assert_int_ge(limited, 1);
	ck_assert_int_le(limited, 6);
	for (i = 0; i < 10; i++)
		silent += closed_silently(a[i].tcp, 200);
	ck_assert_int_eq(silent, limited);
	/* Another IP is served as ever. */
	rdv_peer_init(&b, "127.0.0.3", 1);
	rdv_peer_init(&s, "127.0.0.4", 1);
	rdv_request(&b, &d, "Client", &s);
	rdv_expect_error(&b, "no such server", H_TIMEOUT_MS);
	for (i = 0; i < 10; i++)
		rdv_peer_close(&a[i]);
	rdv_peer_close(&b);
	rdv_peer_close(&s);
	stop();
}
END_TEST

/* Writes a configuration file. */
static void
write_conf(const char *path, const char *text)
{
	FILE	*fp;

	ck_assert_ptr_nonnull(fp = fopen(path, "w"));
	ck_assert_int_ge(fputs(text, fp), 0);
	ck_assert_int_eq(fclose(fp), 0);
}

/* The limits are read again on SIGHUP and apply to what comes next. */
START_TEST(test_limits_reload)
{
	struct rdv_peer		 a, b;
	struct h_http_response	 r;
	char			 path[] = "/tmp/cb_limits_XXXXXX", flag[64];
	int			 fd;

	ck_assert_int_ne(fd = mkstemp(path), -1);
	close(fd);
	write_conf(path, "max_leases = 1\nrate_limit_udp = 100\n");
	snprintf(flag, sizeof(flag), "-config=%s", path);
	start(flag, NULL);
	ck_assert_int_eq(h_stat(&d, "limits.max_leases"), 1);
	ck_assert_int_eq(h_stat(&d, "limits.rate_limit_udp"), 100);
	rdv_peer_init(&a, "127.0.0.2", 1);
	rdv_peer_init(&b, "127.0.0.3", 1);
	rdv_register(&a, &d);
	rdv_wait_lease(&a, &d);
	rdv_register(&b, &d);
	rdv_wait_stat(&d, "udp_over_quota", 1);

	write_conf(path, "max_leases = 3\nmax_connections = 77\n"
	    "rate_limit_tcp = 9\n");
	ck_assert_int_eq(kill(d.pid, SIGHUP), 0);
	rdv_wait_stat(&d, "limits.max_leases", 3);
	ck_assert_int_eq(h_stat(&d, "limits.max_connections"), 77);
	ck_assert_int_eq(h_stat(&d, "limits.rate_limit_tcp"), 9);
	ck_assert_int_eq(h_stat(&d, "limits.rate_limit_udp"), 0);
	rdv_register(&b, &d);
	rdv_wait_lease(&b, &d);
	ck_assert_int_eq(h_stat(&d, "leases"), 2);

	ck_assert_int_eq(h_http(&d, "GET", "/metrics", NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body,
	    "containment_breach_limit{name=\"max_leases\"} 3\n"));
	ck_assert_ptr_nonnull(strstr(r.body,
	    "containment_breach_udp_over_quota_total 1\n"));
	ck_assert_ptr_nonnull(strstr(r.body,
	    "containment_breach_udp_token_mismatch_total 0\n"));
	h_http_response_free(&r);
	rdv_peer_close(&a);
	rdv_peer_close(&b);
	stop();
	unlink(path);
}
END_TEST

/*
 * A lease made with a token moves only for the same token; without it or
 * with another, the registration is dropped and counted.
 */
START_TEST(test_token_registration)
{
	struct rdv_peer	a;
	int		fd2, fd3;

	start(NULL, NULL);
	rdv_peer_init(&a, "127.0.0.2", 1);
	send_reg(a.udp, 1, TOKEN_A);
	wait_port(a.ip, 1, a.udp_port);
	fd2 = h_udp_socket(a.ip, 0);
	fd3 = h_udp_socket(a.ip, 0);
	ck_assert_int_ne(fd2, -1);
	ck_assert_int_ne(fd3, -1);
	send_reg(fd2, 1, TOKEN_A);
	wait_port(a.ip, 1, cb_local_port(fd2));
	send_reg(fd3, 1, NULL);
	rdv_wait_stat(&d, "udp_token_mismatch", 1);
	send_reg(fd3, 1, TOKEN_B);
	rdv_wait_stat(&d, "udp_token_mismatch", 2);
	/* Key names are case-insensitive here too. */
	send_text(fd3, "{\"peerport\":1,\"token\":\"" TOKEN_B "\"}");
	rdv_wait_stat(&d, "udp_token_mismatch", 3);
	ck_assert_int_eq(lease_port(a.ip, 1), cb_local_port(fd2));
	ck_assert_int_eq(h_stat(&d, "udp_invalid"), 0);
	/* The owner, again, still moves it. */
	send_text(a.udp, "{\"TOKEN\":\"" TOKEN_A "\",\"PeerPort\":1}");
	wait_port(a.ip, 1, a.udp_port);
	close(fd2);
	close(fd3);
	rdv_peer_close(&a);
	stop();
}
END_TEST

/* A TCP request on a lease with a token must carry it. */
START_TEST(test_token_request)
{
	struct rdv_peer	a, b;

	start(NULL, NULL);
	rdv_peer_init(&a, "127.0.0.2", 1);
	rdv_peer_init(&b, "127.0.0.3", 2);
	send_reg(a.udp, 1, TOKEN_A);
	rdv_wait_lease(&a, &d);
	rdv_register(&b, &d);
	rdv_wait_lease(&b, &d);
	request_token(&a, "Peer", &b, NULL);
	rdv_expect_error(&a, ERR_TOKEN, H_TIMEOUT_MS);
	request_token(&a, "Peer", &b, TOKEN_B);
	rdv_expect_error(&a, ERR_TOKEN, H_TIMEOUT_MS);
	rdv_wait_stat(&d, "errors.invalid_request", 2);
	/* b has no token: a token it sends changes nothing. */
	request_token(&a, "Peer", &b, TOKEN_A);
	request_token(&b, "Peer", &a, TOKEN_B);
	rdv_expect_pair(&a, &b);
	rdv_peer_close(&a);
	rdv_peer_close(&b);
	stop();
}
END_TEST

/* The lease appears after the request: checked then. */
START_TEST(test_token_request_before_lease)
{
	struct rdv_peer	a, b, c;

	start(NULL, NULL);
	rdv_peer_init(&a, "127.0.0.2", 1);
	rdv_peer_init(&b, "127.0.0.3", 2);
	rdv_peer_init(&c, "127.0.0.4", 3);
	request_token(&a, "Peer", &b, TOKEN_B);
	rdv_wait_stat(&d, "waiting", 1);
	send_reg(a.udp, 1, TOKEN_A);
	rdv_expect_error(&a, ERR_TOKEN, H_TIMEOUT_MS);
	/* With the right token, a match as usual. */
	request_token(&c, "Peer", &b, TOKEN_A);
	request_token(&b, "Peer", &c, NULL);
	rdv_wait_stat(&d, "waiting", 2);
	send_reg(c.udp, 3, TOKEN_A);
	rdv_register(&b, &d);
	rdv_expect_pair(&b, &c);
	rdv_peer_close(&a);
	rdv_peer_close(&b);
	rdv_peer_close(&c);
	stop();
}
END_TEST

/* A Server with a token; its clients need only their own. */
START_TEST(test_token_server)
{
	struct rdv_peer	s, c;

	start(NULL, NULL);
	rdv_peer_init(&s, "127.0.0.9", 7);
	rdv_peer_init(&c, "127.0.0.2", 1);
	send_reg(s.udp, 7, TOKEN_A);
	rdv_wait_lease(&s, &d);
	request_token(&s, "Server", NULL, NULL);
	rdv_expect_error(&s, ERR_TOKEN, H_TIMEOUT_MS);
	request_token(&s, "Server", NULL, TOKEN_A);
	rdv_wait_stat(&d, "servers", 1);
	rdv_register(&c, &d);
	rdv_wait_lease(&c, &d);
	request_token(&c, "Client", &s, NULL);
	rdv_expect_match(&c, &s);
	rdv_peer_close(&s);
	rdv_peer_close(&c);
	stop();
}
END_TEST

/*
 * Without tokens, as before; and a token sent to a lease made without one
 * neither locks it nor is needed afterwards.
 */
START_TEST(test_tokenless_unchanged)
{
	struct rdv_peer	a, b;
	int		fd2;

	start(NULL, NULL);
	rdv_peer_init(&a, "127.0.0.2", 1);
	rdv_peer_init(&b, "127.0.0.3", 2);
	rdv_register(&a, &d);
	rdv_register(&b, &d);
	rdv_match_peers(&a, &b, &d);
	fd2 = h_udp_socket(a.ip, 0);
	ck_assert_int_ne(fd2, -1);
	send_reg(fd2, 1, TOKEN_A);
	wait_port(a.ip, 1, cb_local_port(fd2));
	rdv_register(&a, &d);
	wait_port(a.ip, 1, a.udp_port);
	rdv_match_peers(&a, &b, &d);
	ck_assert_int_eq(h_stat(&d, "udp_token_mismatch"), 0);
	ck_assert_int_eq(h_stat(&d, "errors.invalid_request"), 0);
	close(fd2);
	rdv_peer_close(&a);
	rdv_peer_close(&b);
	stop();
}
END_TEST

/* Tokens of the wrong type or length: dropped, or an invalid request. */
START_TEST(test_token_invalid)
{
	static const char *const regs[] = {
		"{\"PeerPort\":1,\"Token\":\"0123456789abcde\"}",
		"{\"PeerPort\":1,\"Token\":\"0123456789abcdef0123456789abcdef"
		    "0123456789abcdef0123456789abcdef0\"}",
		"{\"PeerPort\":1,\"Token\":1234567890123456789}",
		"{\"PeerPort\":1,\"Token\":null}",
		"{\"PeerPort\":1,\"Token\":[\"0123456789abcdef\"]}",
		"{\"PeerPort\":1,\"Token\":\"\"}",
	};
	static const char *const toks[] = {
		"\"0123456789abcde\"", "17", "null", "true",
		"{\"a\":\"0123456789abcdef\"}",
	};
	struct rdv_peer	a, b;
	char		req[256];
	size_t		i;

	start(NULL, NULL);
	rdv_peer_init(&a, "127.0.0.2", 1);
	rdv_peer_init(&b, "127.0.0.3", 2);
	for (i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
		send_text(a.udp, regs[i]);
	rdv_wait_stat(&d, "udp_invalid", (long long)i);
	ck_assert_int_eq(h_stat(&d, "leases"), 0);
	/* 16 and 64 bytes are fine. */
	send_text(a.udp, "{\"PeerPort\":1,\"Token\":\"0123456789abcdef\"}");
	send_text(b.udp, "{\"PeerPort\":2,\"Token\":\"0123456789abcdef"
	    "0123456789abcdef0123456789abcdef0123456789abcdef\"}");
	rdv_wait_stat(&d, "leases", 2);
	for (i = 0; i < sizeof(toks) / sizeof(toks[0]); i++) {
		snprintf(req, sizeof(req), "{\"LocalPeerPort\":1,"
		    "\"ConnectionType\":\"Server\",\"Token\":%s}\n", toks[i]);
		rdv_send(&a, &d, req);
		rdv_expect_error(&a, "invalid request: Token must be a string "
		    "of 16 to 64 bytes", H_TIMEOUT_MS);
	}
	rdv_wait_stat(&d, "requests.invalid", (long long)i);
	rdv_peer_close(&a);
	rdv_peer_close(&b);
	stop();
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("limits_e2e");
	TCase	*tc = tcase_create("limits");

	tcase_set_timeout(tc, h_scale_ms(30000) / 1000);
	tcase_add_test(tc, test_max_leases);
	tcase_add_test(tc, test_max_leases_per_ip);
	tcase_add_test(tc, test_max_connections);
	tcase_add_test(tc, test_max_connections_default);
	tcase_add_test(tc, test_rate_limit_udp);
	tcase_add_test(tc, test_rate_limit_tcp);
	tcase_add_test(tc, test_limits_reload);
	tcase_add_test(tc, test_token_registration);
	tcase_add_test(tc, test_token_request);
	tcase_add_test(tc, test_token_request_before_lease);
	tcase_add_test(tc, test_token_server);
	tcase_add_test(tc, test_tokenless_unchanged);
	tcase_add_test(tc, test_token_invalid);
	suite_add_tcase(s, tc);
	return (suite_run(s));
}
