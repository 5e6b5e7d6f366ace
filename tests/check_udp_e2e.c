/*
 * End-to-end tests of UDP registration: the real daemon, real datagrams
 * from distinct loopback "public IPs" (127.0.0.2, 127.0.0.3, ..., ::1),
 * and what /leases and /stats then show.  Each test starts its own daemon
 * and ends by stopping it with SIGTERM, which must give exit status 0.
 */
#include "autoconf.h"

#include <sys/socket.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "harness.h"
#include "suite.h"
#include "util.h"

#define WAIT_MS		5000
#define TEST_TIMEOUT_MS	60000

/* A datagram the daemon must drop and count as invalid. */
struct bad_datagram {
	const char	*what;
	const char	*payload;	/* NULL: built by the test */
	size_t		 len;
};

static void	start(struct h_daemon *, const char *);
static void	stop(struct h_daemon *);
static int	udp_socket(const char *);
static void	send_text(int, const struct h_daemon *, const char *);
static void	wait_datagrams(const struct h_daemon *, long long);
static void	wait_leases(const struct h_daemon *, long long);
static struct json_object *get_lease(const struct h_daemon *, const char *,
		    long long, int *);
static long long lease_int(struct json_object *, const char *);
static const char *lease_str(struct json_object *, const char *);
static void	check_lease(const struct h_daemon *, const char *, long long,
		    int);
static long long leases_total(const struct h_daemon *, const char *);
static int	leases_gone(void *);
static Suite	*udp_suite(void);

/* Starts a daemon, with one extra flag or none. */
static void
start(struct h_daemon *d, const char *flag)
{
	ck_assert_int_eq(h_daemon_start(d, flag, (const char *)NULL), 0);
}

/* SIGTERM: the daemon must exit 0 within about a second. */
static void
stop(struct h_daemon *d)
{
	uint64_t	begin = h_now_ms();

	ck_assert_int_eq(h_daemon_stop(d), 0);
	ck_assert_uint_lt(h_now_ms() - begin, (uint64_t)h_scale_ms(1500));
}

/* A UDP socket on the "public IP" given, any port. */
static int
udp_socket(const char *ip)
{
	int	fd;

	fd = h_udp_socket(ip, 0);
	ck_assert_msg(fd != -1, "cannot bind a UDP socket on %s", ip);
	return (fd);
}

/* Sends text as it is to the daemon on 127.0.0.1. */
static void
send_text(int fd, const struct h_daemon *d, const char *text)
{
	ck_assert_int_eq(h_udp_send(fd, "127.0.0.1", d->port, text,
	    strlen(text)), 0);
}

/* Waits until the daemon has received n datagrams in all. */
static void
wait_datagrams(const struct h_daemon *d, long long n)
{
	ck_assert_msg(h_wait_stat(d, "udp_datagrams", n, WAIT_MS) == 0,
	    "udp_datagrams did not reach %lld", n);
	ck_assert_int_eq(h_stat(d, "udp_datagrams"), n);
}

/* Waits until the daemon holds n leases. */
static void
wait_leases(const struct h_daemon *d, long long n)
{
	ck_assert_msg(h_wait_stat(d, "leases", n, WAIT_MS) == 0,
	    "leases did not reach %lld", n);
	ck_assert_int_eq(h_stat(d, "leases"), n);
}

/* GET /leases/IP/PEERPORT; the object when the status is 200. */
static struct json_object *
get_lease(const struct h_daemon *d, const char *ip, long long peer_port,
    int *status)
{
	struct json_object	*obj;
	char			 path[128];

	snprintf(path, sizeof(path), "/leases/%s/%lld", ip, peer_port);
	obj = h_get_json(d, path, status);
	ck_assert_msg(obj != NULL, "GET %s: no JSON", path);
	return (obj);
}

/* An integer member of a lease object, which must be there. */
static long long
lease_int(struct json_object *obj, const char *key)
{
	struct json_object	*v;

	ck_assert_msg(json_object_object_get_ex(obj, key, &v), "no %s", key);
	ck_assert_msg(json_object_is_type(v, json_type_int), "%s: not int",
	    key);
	return ((long long)json_object_get_int64(v));
}

/* A string member of a lease object, which must be there. */
static const char *
lease_str(struct json_object *obj, const char *key)
{
	struct json_object	*v;

	ck_assert_msg(json_object_object_get_ex(obj, key, &v), "no %s", key);
	ck_assert_msg(json_object_is_type(v, json_type_string),
	    "%s: not a string", key);
	return (json_object_get_string(v));
}

/* The lease (ip, peer_port) exists with the endpoint ip:udp_port. */
static void
check_lease(const struct h_daemon *d, const char *ip, long long peer_port,
    int udp_port)
{
	struct json_object	*obj;
	int			 status;

	obj = get_lease(d, ip, peer_port, &status);
	ck_assert_int_eq(status, 200);
	ck_assert_str_eq(lease_str(obj, "ip"), ip);
	ck_assert_int_eq(lease_int(obj, "peer_port"), peer_port);
	ck_assert_str_eq(lease_str(obj, "udp_ip"), ip);
	ck_assert_int_eq(lease_int(obj, "udp_port"), udp_port);
	ck_assert_int_ge(lease_int(obj, "age_s"), 0);
	ck_assert_int_ge(lease_int(obj, "expires_in_s"), 0);
	ck_assert_str_eq(lease_str(obj, "state"), "idle");
	json_object_put(obj);
}

/* "total" of GET /leases with the query given ("" for none). */
static long long
leases_total(const struct h_daemon *d, const char *query)
{
	struct json_object	*obj, *v;
	char			 path[128];
	long long		 total = -1;
	int			 status;

	snprintf(path, sizeof(path), "/leases%s", query);
	obj = h_get_json(d, path, &status);
	ck_assert_msg(obj != NULL && status == 200, "GET %s failed", path);
	if (json_object_object_get_ex(obj, "total", &v))
		total = (long long)json_object_get_int64(v);
	json_object_put(obj);
	return (total);
}

/* For h_poll_until(): the daemon holds no lease. */
static int
leases_gone(void *arg)
{
	return (h_stat(arg, "leases") == 0);
}

/* Registrations from three public IPs are three leases with their ports. */
START_TEST(test_several_ips)
{
	static const char *const ips[] = {
		"127.0.0.2", "127.0.0.3", "127.0.0.4"
	};
	struct h_daemon	d;
	struct json_object *obj, *list, *l;
	int		fds[3], i, n;

	start(&d, NULL);
	for (i = 0; i < 3; i++) {
		fds[i] = udp_socket(ips[i]);
		ck_assert_int_eq(h_udp_register(fds[i], &d, 1000 * (i + 1)),
		    0);
	}
	wait_leases(&d, 3);
	for (i = 0; i < 3; i++)
		check_lease(&d, ips[i], 1000 * (i + 1), cb_local_port(fds[i]));

	obj = h_get_json(&d, "/leases", &n);
	ck_assert_ptr_nonnull(obj);
	ck_assert_int_eq(n, 200);
	ck_assert(json_object_object_get_ex(obj, "leases", &list));
	ck_assert_int_eq(json_object_array_length(list), 3);
	for (n = 0; n < 3; n++) {
		l = json_object_array_get_idx(list, (size_t)n);
		for (i = 0; i < 3; i++) {
			if (strcmp(lease_str(l, "ip"), ips[i]) == 0)
				break;
		}
		ck_assert_int_lt(i, 3);
		ck_assert_int_eq(lease_int(l, "peer_port"), 1000 * (i + 1));
		ck_assert_int_eq(lease_int(l, "udp_port"),
		    cb_local_port(fds[i]));
		ck_assert_int_le(lease_int(l, "expires_in_s"), 90);
		ck_assert_int_ge(lease_int(l, "expires_in_s"), 80);
	}
	json_object_put(obj);
	for (i = 0; i < 3; i++)
		close(fds[i]);
	stop(&d);
}
END_TEST

/* A refresh from a new source port moves the lease's endpoint there. */
START_TEST(test_refresh_moves_port)
{
	struct h_daemon	d;
	int		a, b;

	start(&d, NULL);
	a = udp_socket("127.0.0.2");
	b = udp_socket("127.0.0.2");
	ck_assert_int_eq(h_udp_register(a, &d, 42), 0);
	wait_leases(&d, 1);
	check_lease(&d, "127.0.0.2", 42, cb_local_port(a));
	ck_assert_int_eq(h_udp_register(b, &d, 42), 0);
	wait_datagrams(&d, 2);
	check_lease(&d, "127.0.0.2", 42, cb_local_port(b));
	ck_assert_int_eq(leases_total(&d, ""), 1);
	close(a);
	close(b);
	stop(&d);
}
END_TEST

/* One public IP with two PeerPorts (two peers behind one NAT). */
START_TEST(test_two_peer_ports)
{
	struct h_daemon	d;
	int		a, b;

	start(&d, NULL);
	a = udp_socket("127.0.0.2");
	b = udp_socket("127.0.0.2");
	ck_assert_int_eq(h_udp_register(a, &d, 1), 0);
	ck_assert_int_eq(h_udp_register(b, &d, 2), 0);
	wait_leases(&d, 2);
	check_lease(&d, "127.0.0.2", 1, cb_local_port(a));
	check_lease(&d, "127.0.0.2", 2, cb_local_port(b));
	ck_assert_int_eq(leases_total(&d, "?ip=127.0.0.2"), 2);
	ck_assert_int_eq(leases_total(&d, "?ip=127.0.0.3"), 0);
	close(a);
	close(b);
	stop(&d);
}
END_TEST

/* With -lease_timeout=1 a lease is gone within a few seconds, counted. */
START_TEST(test_expiry)
{
	struct h_daemon	d;
	int		fd;

	start(&d, "-lease_timeout=1");
	ck_assert_int_eq(h_stat(&d, "lease_timeout_s"), 1);
	fd = udp_socket("127.0.0.2");
	ck_assert_int_eq(h_udp_register(fd, &d, 7), 0);
	wait_datagrams(&d, 1);
	ck_assert_int_eq(h_stat(&d, "udp_invalid"), 0);
	ck_assert_msg(h_poll_until(leases_gone, &d, WAIT_MS),
	    "the lease did not expire");
	ck_assert_int_eq(h_stat(&d, "leases_expired"), 1);
	ck_assert_int_eq(leases_total(&d, ""), 0);
	close(fd);
	stop(&d);
}
END_TEST

/* Keys match case-insensitively; trailing whitespace is allowed. */
START_TEST(test_key_case)
{
	struct h_daemon	d;
	int		fd;

	start(&d, NULL);
	fd = udp_socket("127.0.0.2");
	send_text(fd, &d, "{\"peerport\":77}");
	send_text(fd, &d, "{\"PEERPORT\":78}");
	send_text(fd, &d, "{\"PeerPort\":79} \r\n\t");
	send_text(fd, &d, "{\"Other\":\"x\",\"PeerPort\":80,\"More\":[1]}");
	wait_leases(&d, 4);
	check_lease(&d, "127.0.0.2", 77, cb_local_port(fd));
	check_lease(&d, "127.0.0.2", 78, cb_local_port(fd));
	check_lease(&d, "127.0.0.2", 79, cb_local_port(fd));
	check_lease(&d, "127.0.0.2", 80, cb_local_port(fd));
	ck_assert_int_eq(h_stat(&d, "udp_invalid"), 0);
	close(fd);
	stop(&d);
}
END_TEST

/*
 * Every kind of invalid datagram is counted in udp_datagrams and
 * udp_invalid, makes no lease and leaves the daemon running.
 */
START_TEST(test_invalid_datagrams)
{
	static const struct bad_datagram bad[] = {
		{ "not JSON", "hello", 0 },
		{ "array", "[1,2]", 0 },
		{ "string", "\"PeerPort\"", 0 },
		{ "string PeerPort", "{\"PeerPort\":\"5\"}", 0 },
		{ "5.0", "{\"PeerPort\":5.0}", 0 },
		{ "1e3", "{\"PeerPort\":1e3}", 0 },
		{ "-1", "{\"PeerPort\":-1}", 0 },
		{ "2147483648", "{\"PeerPort\":2147483648}", 0 },
		{ "null", "{\"PeerPort\":null}", 0 },
		{ "true", "{\"PeerPort\":true}", 0 },
		{ "missing key", "{\"Port\":5}", 0 },
		{ "trailing garbage", "{\"PeerPort\":5}x", 0 },
		{ "two objects", "{\"PeerPort\":5}{\"PeerPort\":6}", 0 },
		{ "truncated", "{\"PeerPort\":5", 0 },
		{ "empty datagram", "", 0 },
		{ "513 bytes", NULL, 513 },
		{ "64 KiB", NULL, 65000 },
	};
	struct h_daemon	d;
	char		*big;
	size_t		 i, len;
	long long	 n = 0;
	int		 fd;

	start(&d, NULL);
	fd = udp_socket("127.0.0.2");
	ck_assert_ptr_nonnull(big = malloc(65000));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char	*p = bad[i].payload;

		len = p != NULL ? strlen(p) : bad[i].len;
		if (p == NULL) {
			/* A valid registration padded past 512 bytes. */
			memset(big, ' ', len);
			memcpy(big, "{\"PeerPort\":5}", 14);
			p = big;
		}
		ck_assert_int_eq(h_udp_send(fd, "127.0.0.1", d.port, p, len),
		    0);
		wait_datagrams(&d, ++n);
		ck_assert_msg(h_stat(&d, "udp_invalid") == n,
		    "%s was not counted as invalid", bad[i].what);
		ck_assert_msg(h_stat(&d, "leases") == 0,
		    "%s made a lease", bad[i].what);
	}
	ck_assert(h_daemon_alive(&d));

	/* Exactly 512 bytes is still a registration. */
	memset(big, ' ', 512);
	memcpy(big, "{\"PeerPort\":5}", 14);
	ck_assert_int_eq(h_udp_send(fd, "127.0.0.1", d.port, big, 512), 0);
	wait_leases(&d, 1);
	ck_assert_int_eq(h_stat(&d, "udp_invalid"), n);
	ck_assert_int_eq(h_stat(&d, "udp_datagrams"), n + 1);
	ck_assert_int_eq(h_udp_pending(fd), 0);
	free(big);
	close(fd);
	stop(&d);
}
END_TEST

/* Nothing is ever sent back to a registering socket, valid or not. */
START_TEST(test_no_reply)
{
	struct h_daemon	d;
	int		fd;

	start(&d, NULL);
	fd = udp_socket("127.0.0.2");
	ck_assert_int_eq(h_udp_register(fd, &d, 9), 0);
	send_text(fd, &d, "{\"PeerPort\":9,\"Ack\":false}");
	send_text(fd, &d, "nonsense");
	/* A round trip through /stats: the daemon has handled all three. */
	wait_datagrams(&d, 3);
	wait_leases(&d, 1);
	ck_assert_int_eq(h_udp_pending(fd), 0);
	close(fd);
	stop(&d);
}
END_TEST

/* A registration from ::1 on the dual-stack socket is an IPv6 lease. */
START_TEST(test_ipv6)
{
	struct h_daemon	 d;
	struct json_object *obj;
	int		 fd, status;

	if (!h_have_ipv6())
		return;		/* no ::1 on this host; nothing to test */
	start(&d, NULL);
	fd = udp_socket("::1");
	ck_assert_int_eq(h_udp_register(fd, &d, 5), 0);
	wait_leases(&d, 1);
	check_lease(&d, "::1", 5, cb_local_port(fd));
	ck_assert_int_eq(leases_total(&d, "?ip=::1"), 1);
	ck_assert_int_eq(leases_total(&d, "?ip=0:0::1"), 1);

	/* The same lease named in other spellings of ::1. */
	obj = get_lease(&d, "%3A%3A1", 5, &status);
	ck_assert_int_eq(status, 200);
	ck_assert_str_eq(lease_str(obj, "ip"), "::1");
	json_object_put(obj);
	obj = get_lease(&d, "0:0:0:0:0:0:0:1", 5, &status);
	ck_assert_int_eq(status, 200);
	json_object_put(obj);
	ck_assert_int_eq(h_udp_pending(fd), 0);
	close(fd);
	stop(&d);
}
END_TEST

/* An IPv4 peer is reported dotted, never as ::ffff:a.b.c.d. */
START_TEST(test_ipv4_form)
{
	struct h_daemon	 d;
	struct json_object *obj;
	int		 fd, status;

	start(&d, NULL);
	fd = udp_socket("127.0.0.5");
	ck_assert_int_eq(h_udp_register(fd, &d, 2147483647), 0);
	wait_leases(&d, 1);
	check_lease(&d, "127.0.0.5", 2147483647, cb_local_port(fd));
	obj = get_lease(&d, "::ffff:127.0.0.5", 2147483647, &status);
	ck_assert_int_eq(status, 200);
	ck_assert_str_eq(lease_str(obj, "ip"), "127.0.0.5");
	json_object_put(obj);
	ck_assert_int_eq(leases_total(&d, "?ip=::ffff:127.0.0.5"), 1);
	close(fd);
	stop(&d);
}
END_TEST

/* One daemon per test; timeouts stretched under valgrind. */
static Suite *
udp_suite(void)
{
	Suite	*s = suite_create("udp_e2e");
	TCase	*tc = tcase_create("registration");

	tcase_set_timeout(tc, h_scale_ms(TEST_TIMEOUT_MS) / 1000.0);
	tcase_add_test(tc, test_several_ips);
	tcase_add_test(tc, test_refresh_moves_port);
	tcase_add_test(tc, test_two_peer_ports);
	tcase_add_test(tc, test_expiry);
	tcase_add_test(tc, test_key_case);
	tcase_add_test(tc, test_invalid_datagrams);
	tcase_add_test(tc, test_no_reply);
	tcase_add_test(tc, test_ipv6);
	tcase_add_test(tc, test_ipv4_form);
	suite_add_tcase(s, tc);
	return (s);
}

/* Runs the suite; fails if any test did. */
int
main(void)
{
	return (suite_run(udp_suite()));
}
