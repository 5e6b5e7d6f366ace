/*
 * End-to-end tests of the admin HTTP API: /healthz, /stats, /leases and
 * /leases/IP/PEERPORT against the real daemon, over plain sockets.  The
 * expected /stats keys are listed from the contract (docs: protocol.md
 * section 8) and, besides, every counter in stat_descs[] must appear.
 * Each test starts its own daemon and stops it with SIGTERM (exit 0).
 */
#include "autoconf.h"

#include <sys/socket.h>

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <json-c/json.h>

#include "harness.h"
#include "stats.h"

#define WAIT_MS		10000
#define TEST_TIMEOUT_MS	120000
#define BIG_A		3000	/* leases from 127.0.0.2 in the big tests */
#define BIG_B		500	/* and from 127.0.0.3 */
#define BATCH		100	/* datagrams sent before a pause */

/* A lease and the state h_poll_until() waits for it to report. */
struct state_wait {
	const struct h_daemon	*d;
	const char		*path;
	const char		*state;
};

static void	start(struct h_daemon *, const char *);
static void	stop(struct h_daemon *);
static void	request(const struct h_daemon *, const char *, const char *,
		    int, struct h_http_response *);
static struct json_object *json_reply(const struct h_http_response *);
static void	check_error(const struct h_daemon *, const char *, const char *,
		    int);
static void	register_range(const struct h_daemon *, const char *, int,
		    int, long long);
static void	register_small_set(const struct h_daemon *);
static struct json_object *listing(const struct h_daemon *, const char *,
		    long long *, size_t *);
static void	check_lease_object(struct json_object *);
static size_t	distinct_leases(struct json_object *);
static int	key_cmp(const void *, const void *);
static void	check_stats_key(struct json_object *, const char *,
		    const char *);
static int	start_listing(const struct h_daemon *);
static int	state_is(void *);
static void	wait_state(const struct h_daemon *, const char *,
		    const char *);
static int	client_left_logged(void *);
static Suite	*admin_suite(void);

/* Starts a daemon, with one extra flag or none. */
static void
start(struct h_daemon *d, const char *flag)
{
	ck_assert_int_eq(h_daemon_start(d, flag, (const char *)NULL), 0);
}

/* SIGTERM: the daemon must exit 0. */
static void
stop(struct h_daemon *d)
{
	ck_assert_int_eq(h_daemon_stop(d), 0);
}

/* One request that must get the status given. */
static void
request(const struct h_daemon *d, const char *method, const char *path,
    int status, struct h_http_response *r)
{
	ck_assert_msg(h_http(d, method, path, NULL, r) == 0,
	    "%s %s: no valid HTTP response", method, path);
	ck_assert_msg(r->status == status, "%s %s: status %d, not %d",
	    method, path, r->status, status);
}

/* The body of a JSON reply, which must say it is JSON. */
static struct json_object *
json_reply(const struct h_http_response *r)
{
	const char		*type = h_http_header(r, "Content-Type");
	struct json_object	*obj;

	ck_assert_ptr_nonnull(type);
	ck_assert_str_eq(type, "application/json");
	obj = json_tokener_parse(r->body);
	ck_assert_msg(obj != NULL, "not JSON: %.200s", r->body);
	return (obj);
}

/* A request answered with status and {"error": some text}. */
static void
check_error(const struct h_daemon *d, const char *method, const char *path,
    int status)
{
	struct h_http_response	 r;
	struct json_object	*obj, *v;

	request(d, method, path, status, &r);
	obj = json_reply(&r);
	ck_assert_msg(json_object_object_get_ex(obj, "error", &v) &&
	    json_object_is_type(v, json_type_string) &&
	    json_object_get_string_len(v) > 0, "%s %s: no error text",
	    method, path);
	ck_assert_int_eq(json_object_object_length(obj), 1);
	json_object_put(obj);
	h_http_response_free(&r);
}

/*
 * Registers PeerPorts first..first+count-1 from ip until the daemon holds
 * total leases, in batches that give its socket buffer time to drain, and
 * again if any datagram was lost on the way.
 */
static void
register_range(const struct h_daemon *d, const char *ip, int first,
    int count, long long total)
{
	long long	base, sent = 0;
	int		fd, i, round;

	ck_assert_int_ne(fd = h_udp_socket(ip, 0), -1);
	base = h_stat(d, "udp_datagrams");
	for (round = 0; round < 5; round++) {
		for (i = 0; i < count; i++) {
			ck_assert_int_eq(h_udp_register(fd, d, first + i), 0);
			if (++sent % BATCH == 0)
				h_wait_stat(d, "udp_datagrams", base + sent,
				    500);
		}
		if (h_wait_stat(d, "leases", total, 1000) == 0)
			break;
	}
	close(fd);
	ck_assert_int_eq(h_stat(d, "leases"), total);
}

/* Ten leases: PeerPorts 1-6 from 127.0.0.2, 1-4 from 127.0.0.3. */
static void
register_small_set(const struct h_daemon *d)
{
	register_range(d, "127.0.0.2", 1, 6, 6);
	register_range(d, "127.0.0.3", 1, 4, 10);
}

/* GET /leases with the query; checks its shape, gives total and count. */
static struct json_object *
listing(const struct h_daemon *d, const char *query, long long *total,
    size_t *count)
{
	struct h_http_response	 r;
	struct json_object	*obj, *v, *list;
	char			 path[256];
	size_t			 i;

	snprintf(path, sizeof(path), "/leases%s", query);
	request(d, "GET", path, 200, &r);
	obj = json_reply(&r);
	h_http_response_free(&r);
	ck_assert_int_eq(json_object_object_length(obj), 2);
	ck_assert(json_object_object_get_ex(obj, "total", &v));
	ck_assert(json_object_is_type(v, json_type_int));
	*total = (long long)json_object_get_int64(v);
	ck_assert(json_object_object_get_ex(obj, "leases", &list));
	ck_assert(json_object_is_type(list, json_type_array));
	*count = json_object_array_length(list);
	for (i = 0; i < *count; i++)
		check_lease_object(json_object_array_get_idx(list, i));
	return (obj);
}

/* A lease object has exactly the contract's seven keys and types. */
static void
check_lease_object(struct json_object *l)
{
	static const struct {
		const char	*key;
		json_type	 type;
	} keys[] = {
		{ "ip", json_type_string }, { "peer_port", json_type_int },
		{ "udp_ip", json_type_string }, { "udp_port", json_type_int },
		{ "age_s", json_type_int }, { "expires_in_s", json_type_int },
		{ "state", json_type_string },
	};
	struct json_object	*v, *ip;
	size_t			 i;

	ck_assert_int_eq(json_object_object_length(l), 7);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		ck_assert_msg(json_object_object_get_ex(l, keys[i].key, &v) &&
		    json_object_is_type(v, keys[i].type), "lease key %s",
		    keys[i].key);
	}
	json_object_object_get_ex(l, "ip", &ip);
	json_object_object_get_ex(l, "udp_ip", &v);
	ck_assert_str_eq(json_object_get_string(ip), json_object_get_string(v));
	json_object_object_get_ex(l, "state", &v);
	ck_assert_str_eq(json_object_get_string(v), "idle");
}

/* How many distinct (ip, peer_port) the listing's leases hold. */
static size_t
distinct_leases(struct json_object *obj)
{
	struct json_object	*list, *l, *v;
	uint64_t		*keys;
	size_t			 i, n, distinct = 0;

	ck_assert(json_object_object_get_ex(obj, "leases", &list));
	n = json_object_array_length(list);
	ck_assert_ptr_nonnull(keys = calloc(n + 1, sizeof(*keys)));
	for (i = 0; i < n; i++) {
		l = json_object_array_get_idx(list, i);
		json_object_object_get_ex(l, "ip", &v);
		/* 127.0.0.x: the last octet tells the IPs apart. */
		keys[i] = (uint64_t)atoi(strrchr(json_object_get_string(v),
		    '.') + 1) << 32;
		json_object_object_get_ex(l, "peer_port", &v);
		keys[i] |= (uint64_t)json_object_get_int64(v);
	}
	qsort(keys, n, sizeof(*keys), key_cmp);
	for (i = 0; i < n; i++) {
		if (i == 0 || keys[i] != keys[i - 1])
			distinct++;
	}
	free(keys);
	return (distinct);
}

/* qsort() order of lease keys. */
static int
key_cmp(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x < y ? -1 : x > y);
}

/* /stats has the key (in group, or at the top), an integer. */
static void
check_stats_key(struct json_object *stats, const char *group,
    const char *name)
{
	struct json_object	*obj = stats, *v;

	if (group != NULL)
		ck_assert_msg(json_object_object_get_ex(stats, group, &obj) &&
		    json_object_is_type(obj, json_type_object),
		    "/stats has no object %s", group);
	ck_assert_msg(json_object_object_get_ex(obj, name, &v) &&
	    json_object_is_type(v, json_type_int) &&
	    json_object_get_int64(v) >= 0, "/stats has no integer %s%s%s",
	    group != NULL ? group : "", group != NULL ? "." : "", name);
}

/* /healthz: 200 "ok\n" as text/plain; HEAD gets the headers alone. */
START_TEST(test_healthz)
{
	struct h_daemon		d;
	struct h_http_response	r;
	const char		*type;

	start(&d, NULL);
	request(&d, "GET", "/healthz", 200, &r);
	ck_assert_str_eq(r.body, "ok\n");
	ck_assert_ptr_nonnull(type = h_http_header(&r, "Content-Type"));
	ck_assert_int_eq(strncmp(type, "text/plain", 10), 0);
	h_http_response_free(&r);

	request(&d, "HEAD", "/healthz", 200, &r);
	ck_assert_uint_eq(r.body_len, 0);
	ck_assert_ptr_nonnull(h_http_header(&r, "Content-Length"));
	ck_assert_str_eq(h_http_header(&r, "Content-Length"), "3");
	h_http_response_free(&r);

	request(&d, "GET", "/healthz?verbose=1", 200, &r);
	h_http_response_free(&r);
	stop(&d);
}
END_TEST

/* /stats: every key of the contract, with its type. */
START_TEST(test_stats_keys)
{
	static const char *const top[] = {
		"uptime_s", "port", "lease_timeout_s", "leases", "servers",
		"waiting", "tcp_connections", "udp_datagrams", "udp_invalid",
		"tcp_accepted", "leases_expired",
	};
	static const char *const requests[] = {
		"peer", "server", "client", "keepalive", "invalid",
	};
	static const char *const matches[] = { "peer", "client" };
	static const char *const errors[] = {
		"timeout", "no_such_server", "no_udp_registration",
		"replaced", "request_too_large", "invalid_request",
		"too_many_connections", "evicted",
	};
	struct h_daemon		 d;
	struct h_http_response	 r;
	struct json_object	*stats, *v;
	size_t			 i;

	start(&d, "-lease_timeout=33");
	request(&d, "GET", "/stats", 200, &r);
	ck_assert_msg(strstr(r.body, "\\/") == NULL, "escaped slash");
	ck_assert_msg(strchr(r.body, ' ') == NULL, "not compact");
	stats = json_reply(&r);
	h_http_response_free(&r);

	ck_assert(json_object_object_get_ex(stats, "version", &v));
	ck_assert(json_object_is_type(v, json_type_string));
	ck_assert_str_eq(json_object_get_string(v), PACKAGE_VERSION);
	for (i = 0; i < sizeof(top) / sizeof(top[0]); i++)
		check_stats_key(stats, NULL, top[i]);
	for (i = 0; i < sizeof(requests) / sizeof(requests[0]); i++)
		check_stats_key(stats, "requests", requests[i]);
	for (i = 0; i < sizeof(matches) / sizeof(matches[0]); i++)
		check_stats_key(stats, "matches", matches[i]);
	for (i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
		check_stats_key(stats, "errors", errors[i]);
	for (i = 0; i < STAT__MAX; i++)
		check_stats_key(stats, stat_descs[i].group, stat_descs[i].name);

	ck_assert_int_eq(h_stat(&d, "port"), d.port);
	ck_assert_int_eq(h_stat(&d, "lease_timeout_s"), 33);
	ck_assert_int_eq(h_stat(&d, "leases"), 0);
	ck_assert_int_eq(h_stat(&d, "servers"), 0);
	ck_assert_int_eq(h_stat(&d, "waiting"), 0);
	ck_assert_int_ge(h_stat(&d, "uptime_s"), 0);
	json_object_put(stats);

	request(&d, "HEAD", "/stats", 200, &r);
	ck_assert_uint_eq(r.body_len, 0);
	ck_assert_str_eq(h_http_header(&r, "Content-Type"), "application/json");
	ck_assert_ptr_nonnull(h_http_header(&r, "Content-Length"));
	ck_assert_int_gt(atoi(h_http_header(&r, "Content-Length")), 100);
	h_http_response_free(&r);
	stop(&d);
}
END_TEST

/* /leases: total, limit, offset, the ip filter, and pages that add up. */
START_TEST(test_leases_paging)
{
	struct h_daemon		 d;
	struct json_object	*obj, *all, *list;
	long long		 total;
	size_t			 count, off;
	char			 query[64];

	start(&d, NULL);
	register_small_set(&d);

	obj = listing(&d, "", &total, &count);
	ck_assert_int_eq(total, 10);
	ck_assert_uint_eq(count, 10);
	ck_assert_uint_eq(distinct_leases(obj), 10);
	json_object_put(obj);

	/* Pages of three: 3, 3, 3, 1, together every lease once. */
	ck_assert_ptr_nonnull(all = json_object_new_object());
	ck_assert_ptr_nonnull(list = json_object_new_array());
	json_object_object_add(all, "leases", list);
	for (off = 0; off < 12; off += 3) {
		struct json_object	*page, *pl;
		size_t			 i;

		snprintf(query, sizeof(query), "?limit=3&offset=%zu", off);
		page = listing(&d, query, &total, &count);
		ck_assert_int_eq(total, 10);
		ck_assert_uint_eq(count, off < 9 ? 3 : off == 9 ? 1 : 0);
		json_object_object_get_ex(page, "leases", &pl);
		for (i = 0; i < count; i++)
			json_object_array_add(list, json_object_get(
			    json_object_array_get_idx(pl, i)));
		json_object_put(page);
	}
	ck_assert_uint_eq(json_object_array_length(list), 10);
	ck_assert_uint_eq(distinct_leases(all), 10);
	json_object_put(all);

	obj = listing(&d, "?offset=11", &total, &count);
	ck_assert_int_eq(total, 10);
	ck_assert_uint_eq(count, 0);
	json_object_put(obj);
	obj = listing(&d, "?limit=0", &total, &count);
	ck_assert_int_eq(total, 10);
	ck_assert_uint_eq(count, 0);
	json_object_put(obj);
	obj = listing(&d, "?limit=100000", &total, &count);
	ck_assert_uint_eq(count, 10);
	json_object_put(obj);

	obj = listing(&d, "?ip=127.0.0.3", &total, &count);
	ck_assert_int_eq(total, 4);
	ck_assert_uint_eq(count, 4);
	ck_assert_uint_eq(distinct_leases(obj), 4);
	ck_assert_ptr_nonnull(strstr(json_object_to_json_string(obj),
	    "127.0.0.3"));
	ck_assert_ptr_null(strstr(json_object_to_json_string(obj),
	    "127.0.0.2"));
	json_object_put(obj);
	obj = listing(&d, "?ip=::ffff:127.0.0.3&limit=2&offset=1", &total,
	    &count);
	ck_assert_int_eq(total, 4);
	ck_assert_uint_eq(count, 2);
	json_object_put(obj);
	obj = listing(&d, "?ip=127.0.0.2&offset=5&limit=9", &total, &count);
	ck_assert_int_eq(total, 6);
	ck_assert_uint_eq(count, 1);
	json_object_put(obj);
	obj = listing(&d, "?ip=127.0.0.9", &total, &count);
	ck_assert_int_eq(total, 0);
	ck_assert_uint_eq(count, 0);
	json_object_put(obj);
	stop(&d);
}
END_TEST

/* Bad query values are 400 with an error object. */
START_TEST(test_leases_bad_query)
{
	static const char *const bad[] = {
		"/leases?limit=100001", "/leases?limit=abc", "/leases?limit=-1",
		"/leases?limit=", "/leases?limit=1.5", "/leases?limit=0x10",
		"/leases?offset=abc", "/leases?offset=-1", "/leases?ip=bad",
		"/leases?ip=1.2.3", "/leases?ip=", "/leases?ip=%5B::1%5D",
		"/leases?ip=example.com", "/leases?limit=99999999999999999999",
	};
	struct h_daemon	d;
	size_t		i;

	start(&d, NULL);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check_error(&d, "GET", bad[i], 400);
	stop(&d);
}
END_TEST

/* /leases/IP/PEERPORT: 200 with the lease, 404 if absent, 400 if bad. */
START_TEST(test_lease_by_key)
{
	static const char *const bad[] = {
		"/leases/bad/1", "/leases/127.0.0.2/abc",
		"/leases/127.0.0.2/-1", "/leases/127.0.0.2/2147483648",
		"/leases/127.0.0.2/", "/leases/127.0.0.2/1.0",
		"/leases/1.2.3/1", "/leases//1", "/leases/%5B::1%5D/1",
		"/leases/127.0.0.2/1/2",
	};
	struct h_daemon		 d;
	struct h_http_response	 r;
	struct json_object	*obj, *v;
	size_t			 i;

	start(&d, NULL);
	register_small_set(&d);
	request(&d, "GET", "/leases/127.0.0.2/6", 200, &r);
	obj = json_reply(&r);
	check_lease_object(obj);
	json_object_object_get_ex(obj, "ip", &v);
	ck_assert_str_eq(json_object_get_string(v), "127.0.0.2");
	json_object_object_get_ex(obj, "peer_port", &v);
	ck_assert_int_eq(json_object_get_int64(v), 6);
	json_object_object_get_ex(obj, "expires_in_s", &v);
	ck_assert_int_ge(json_object_get_int64(v), 80);
	json_object_object_get_ex(obj, "age_s", &v);
	ck_assert_int_le(json_object_get_int64(v), 10);
	json_object_put(obj);
	h_http_response_free(&r);

	request(&d, "HEAD", "/leases/127.0.0.3/4", 200, &r);
	ck_assert_uint_eq(r.body_len, 0);
	h_http_response_free(&r);

	check_error(&d, "GET", "/leases/127.0.0.2/7", 404);
	check_error(&d, "GET", "/leases/127.0.0.4/1", 404);
	check_error(&d, "GET", "/leases/::1/5", 404);
	check_error(&d, "GET", "/leases/%3A%3A1/5", 404);
	check_error(&d, "GET", "/leases/2001:db8::1/2147483647", 404);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check_error(&d, "GET", bad[i], 400);
	stop(&d);
}
END_TEST

/* Unknown paths are 404 {"error":"not found"}. */
START_TEST(test_not_found)
{
	static const char *const paths[] = {
		"/", "/nope", "/stats/", "/healthzz", "/leasesx", "/Stats",
		"/stats/x", "/leases/1.2.3.4",
	};
	struct h_daemon		d;
	struct h_http_response	r;
	size_t			i;

	start(&d, NULL);
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		request(&d, "GET", paths[i], 404, &r);
		ck_assert_str_eq(h_http_header(&r, "Content-Type"),
		    "application/json");
		ck_assert_str_eq(r.body, "{\"error\":\"not found\"}\n");
		h_http_response_free(&r);
	}
	/* A path that decodes to a NUL byte is not a path at all. */
	check_error(&d, "GET", "/%00", 400);
	stop(&d);
}
END_TEST

/* A known path with a method it does not take: 405 and Allow. */
START_TEST(test_wrong_method)
{
	static const struct {
		const char	*method;
		const char	*path;
	} cases[] = {
		{ "POST", "/stats" }, { "PUT", "/healthz" },
		{ "DELETE", "/leases" }, { "POST", "/leases" },
		{ "PATCH", "/leases/127.0.0.2/1" },
		{ "OPTIONS", "/leases/127.0.0.2/1" },
	};
	struct h_daemon		d;
	struct h_http_response	r;
	const char		*allow;
	size_t			i;

	start(&d, NULL);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		check_error(&d, cases[i].method, cases[i].path, 405);
		request(&d, cases[i].method, cases[i].path, 405, &r);
		allow = h_http_header(&r, "Allow");
		ck_assert_msg(allow != NULL, "%s %s: no Allow header",
		    cases[i].method, cases[i].path);
		ck_assert_ptr_nonnull(strstr(allow, "GET"));
		ck_assert_ptr_nonnull(strstr(allow, "HEAD"));
		ck_assert_ptr_null(strstr(allow, cases[i].method));
		h_http_response_free(&r);
	}
	request(&d, "POST", "/stats", 405, &r);
	ck_assert_str_eq(h_http_header(&r, "Allow"), "GET, HEAD");
	h_http_response_free(&r);
	/* An unknown path stays 404 whatever the method. */
	check_error(&d, "POST", "/nope", 404);
	stop(&d);
}
END_TEST

/* HEAD /leases: the headers of the listing, without a body. */
START_TEST(test_head_leases)
{
	struct h_daemon		d;
	struct h_http_response	r;

	start(&d, NULL);
	register_small_set(&d);
	request(&d, "HEAD", "/leases", 200, &r);
	ck_assert_uint_eq(r.body_len, 0);
	ck_assert_str_eq(h_http_header(&r, "Content-Type"), "application/json");
	h_http_response_free(&r);
	request(&d, "HEAD", "/leases?limit=abc", 400, &r);
	ck_assert_uint_eq(r.body_len, 0);
	ck_assert_str_eq(h_http_header(&r, "Content-Type"), "application/json");
	h_http_response_free(&r);
	stop(&d);
}
END_TEST

/* A listing of thousands of leases: streamed, complete, valid JSON. */
START_TEST(test_big_listing)
{
	static const char req10[] =
	    "GET /leases?limit=100000 HTTP/1.0\r\n\r\n";
	struct h_daemon		 d;
	struct h_http_response	 r;
	struct json_object	*obj;
	long long		 total;
	size_t			 count;

	start(&d, NULL);
	register_range(&d, "127.0.0.2", 1, BIG_A, BIG_A);
	register_range(&d, "127.0.0.3", 1, BIG_B, BIG_A + BIG_B);

	request(&d, "GET", "/leases?limit=100000", 200, &r);
	ck_assert_int_eq(r.chunked, 1);
	h_http_response_free(&r);
	obj = listing(&d, "?limit=100000", &total, &count);
	ck_assert_int_eq(total, BIG_A + BIG_B);
	ck_assert_uint_eq(count, BIG_A + BIG_B);
	ck_assert_uint_eq(distinct_leases(obj), BIG_A + BIG_B);
	json_object_put(obj);

	obj = listing(&d, "", &total, &count);
	ck_assert_int_eq(total, BIG_A + BIG_B);
	ck_assert_uint_eq(count, 1000);
	ck_assert_uint_eq(distinct_leases(obj), 1000);
	json_object_put(obj);

	/* Mostly filtered out: the stream must carry on past empty slices. */
	obj = listing(&d, "?ip=127.0.0.3&limit=100000", &total, &count);
	ck_assert_int_eq(total, BIG_B);
	ck_assert_uint_eq(count, BIG_B);
	ck_assert_uint_eq(distinct_leases(obj), BIG_B);
	json_object_put(obj);
	obj = listing(&d, "?offset=3400&limit=100000", &total, &count);
	ck_assert_uint_eq(count, BIG_A + BIG_B - 3400);
	json_object_put(obj);

	/* HTTP/1.0: no chunks; the body ends when the connection does. */
	ck_assert_int_eq(h_http_raw("127.0.0.1", d.admin_port, req10,
	    sizeof(req10) - 1, 0, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(r.chunked, 0);
	obj = json_reply(&r);
	ck_assert_uint_eq(distinct_leases(obj), BIG_A + BIG_B);
	json_object_put(obj);
	h_http_response_free(&r);
	stop(&d);
}
END_TEST

/* Starts a big listing on a client socket that reads only its first line. */
static int
start_listing(const struct h_daemon *d)
{
	static const char req[] =
	    "GET /leases?limit=100000 HTTP/1.1\r\nHost: x\r\n\r\n";
	char	buf[1024];
	int	fd, rcvbuf = 4096;

	fd = h_tcp_connect(NULL, "127.0.0.1", d->admin_port, 2000);
	ck_assert_int_ne(fd, -1);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	ck_assert_int_eq(h_send_all(fd, req, sizeof(req) - 1, 2000), 0);
	ck_assert_int_ge(h_read_line(fd, buf, sizeof(buf), 5000), 0);
	ck_assert_int_eq(strncmp(buf, "HTTP/1.1 200", 12), 0);
	return (fd);
}

/* For h_poll_until(): the daemon logged a stream cut short. */
static int
client_left_logged(void *arg)
{
	return (h_daemon_log_contains(arg, "/leases client left"));
}

/*
 * Clients that read a little of a big listing and close, one of them
 * with a reset: the daemon drops the stream and carries on (and, under
 * ASan or valgrind, without touching freed memory).
 */
START_TEST(test_client_leaves_midstream)
{
	struct h_daemon		 d;
	struct h_http_response	 r;
	struct linger		 lg = { 1, 0 };
	int			 fd, i;

	start(&d, "-log_level=debug");
	register_range(&d, "127.0.0.2", 1, BIG_A, BIG_A);
	for (i = 0; i < 3; i++) {
		fd = start_listing(&d);
		if (i == 1)
			setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(fd);
	}
	ck_assert_msg(h_poll_until(client_left_logged, &d, WAIT_MS),
	    "no stream was cut short");
	request(&d, "GET", "/healthz", 200, &r);
	h_http_response_free(&r);
	request(&d, "GET", "/leases?limit=100000", 200, &r);
	h_http_response_free(&r);
	stop(&d);
}
END_TEST

/* SIGTERM while a listing streams to a client that does not read. */
START_TEST(test_shutdown_midstream)
{
	struct h_daemon	d;
	int		fd;

	start(&d, "-log_level=debug");
	register_range(&d, "127.0.0.2", 1, BIG_A, BIG_A);
	fd = start_listing(&d);
	stop(&d);
	ck_assert(h_daemon_log_contains(&d, "stream ended by shutdown"));
	close(fd);
}
END_TEST

/* For h_poll_until(): the lease reports the state awaited. */
static int
state_is(void *arg)
{
	struct state_wait	*w = arg;
	struct json_object	*obj, *v;
	int			 status, same = 0;

	if ((obj = h_get_json(w->d, w->path, &status)) == NULL)
		return (0);
	if (status == 200 && json_object_object_get_ex(obj, "state", &v))
		same = strcmp(json_object_get_string(v), w->state) == 0;
	json_object_put(obj);
	return (same);
}

/* Waits until the lease at path reports the state. */
static void
wait_state(const struct h_daemon *d, const char *path, const char *state)
{
	struct state_wait	w = { d, path, state };

	ck_assert_msg(h_poll_until(state_is, &w, WAIT_MS),
	    "%s never became %s", path, state);
}

/*
 * A lease's state follows the TCP side: "waiting" while a Peer request
 * waits on it, "server" while a Server is registered on it, "idle" again
 * once their connections close; the gauges agree.
 */
START_TEST(test_lease_states)
{
	static const char peer[] = "{\"ConnectionType\":\"Peer\","
	    "\"LocalPeerPort\":1,\"RemoteIP\":\"127.0.0.9\","
	    "\"RemotePeerPort\":9}\n";
	static const char server[] = "{\"ConnectionType\":\"Server\","
	    "\"LocalPeerPort\":2}\n";
	struct h_daemon	d;
	int		a, b;

	start(&d, NULL);
	register_range(&d, "127.0.0.2", 1, 1, 1);
	register_range(&d, "127.0.0.3", 2, 1, 2);
	wait_state(&d, "/leases/127.0.0.2/1", "idle");

	a = h_tcp_connect("127.0.0.2", "127.0.0.1", d.port, 2000);
	b = h_tcp_connect("127.0.0.3", "127.0.0.1", d.port, 2000);
	ck_assert(a != -1 && b != -1);
	ck_assert_int_eq(h_send_all(a, peer, sizeof(peer) - 1, 2000), 0);
	ck_assert_int_eq(h_send_all(b, server, sizeof(server) - 1, 2000), 0);
	wait_state(&d, "/leases/127.0.0.2/1", "waiting");
	wait_state(&d, "/leases/127.0.0.3/2", "server");
	ck_assert_int_eq(h_stat(&d, "waiting"), 1);
	ck_assert_int_eq(h_stat(&d, "servers"), 1);
	ck_assert_int_eq(h_stat(&d, "tcp_connections"), 2);

	close(a);
	close(b);
	wait_state(&d, "/leases/127.0.0.2/1", "idle");
	wait_state(&d, "/leases/127.0.0.3/2", "idle");
	ck_assert_int_eq(h_wait_stat(&d, "tcp_accepted", 2, WAIT_MS), 0);
	ck_assert_int_eq(h_stat(&d, "waiting"), 0);
	ck_assert_int_eq(h_stat(&d, "servers"), 0);
	stop(&d);
}
END_TEST

/* One daemon per test; timeouts stretched under valgrind. */
static Suite *
admin_suite(void)
{
	Suite	*s = suite_create("admin_e2e");
	TCase	*tc = tcase_create("admin");

	tcase_set_timeout(tc, h_scale_ms(TEST_TIMEOUT_MS) / 1000.0);
	tcase_add_test(tc, test_healthz);
	tcase_add_test(tc, test_stats_keys);
	tcase_add_test(tc, test_leases_paging);
	tcase_add_test(tc, test_leases_bad_query);
	tcase_add_test(tc, test_lease_by_key);
	tcase_add_test(tc, test_not_found);
	tcase_add_test(tc, test_wrong_method);
	tcase_add_test(tc, test_head_leases);
	tcase_add_test(tc, test_lease_states);
	tcase_add_test(tc, test_big_listing);
	tcase_add_test(tc, test_client_leaves_midstream);
	tcase_add_test(tc, test_shutdown_midstream);
	suite_add_tcase(s, tc);
	return (s);
}

/* Runs the suite; fails if any test did. */
int
main(void)
{
	SRunner	*sr = srunner_create(admin_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
