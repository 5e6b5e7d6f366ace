/*
 * End-to-end tests of the admin HTTP API: /healthz, /stats, /metrics,
 * /leases, GET and DELETE /leases/IP/PEERPORT and the bearer token,
 * against the real daemon, over plain sockets.  The expected /stats keys
 * and /metrics gauges are listed from the contract (docs: protocol.md
 * section 8) and, besides, every counter in stat_descs[] must appear.
 * Each test starts its own daemon and stops it with SIGTERM (exit 0).
 */
#include "autoconf.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <check.h>
#include <signal.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <json-c/json.h>

#include "harness.h"
#include "rdv.h"
#include "reload.h"
#include "stats.h"
#include "suite.h"

#define WAIT_MS		10000
#define TEST_TIMEOUT_MS	120000
#define BIG_A		3000	/* leases from 127.0.0.2 in the big tests */
#define BIG_B		500	/* and from 127.0.0.3 */
#define BATCH		100	/* datagrams sent before a pause */
#define METRICS_MAX	128	/* samples a /metrics page may hold */
#define TOKEN		"s3cret-Token_0123456789"
#define TOKEN2		"second-token"
#define METRICS_TYPE	"text/plain; version=0.0.4; charset=utf-8"

/* One sample of /metrics: "name{labels}" and its value. */
struct metric {
	char		 series[160];
	long long	 value;
};

/* Every family seen in a /metrics page, with its # HELP and # TYPE. */
struct metric_family {
	char		 name[96];
	char		 type[16];
	int		 helps;
	int		 types;
	int		 samples;
};

struct metrics {
	struct metric		 samples[METRICS_MAX];
	size_t			 nsamples;
	struct metric_family	 families[METRICS_MAX];
	size_t			 nfamilies;
};

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
static void	metrics_parse(const char *, struct metrics *);
static void	metrics_line(char *, struct metrics *);
static struct metric_family *metrics_family(struct metrics *,
		    const char *, size_t);
static const char *metrics_name_end(const char *);
static long long metrics_value(const struct metrics *, const char *);
static long long stats_value(struct json_object *, const char *,
		    const char *);
static void	check_deleted(const struct h_daemon *, const char *);
static void	token_file(char *, size_t, const char *);
static void	check_unauthorized(const struct h_daemon *, const char *,
		    const char *, const char *);
static int	token_accepted(void *);
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
		{ "POST", "/metrics" }, { "DELETE", "/metrics" },
		{ "PUT", "/leases/127.0.0.2/1" },
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
	request(&d, "DELETE", "/metrics", 405, &r);
	ck_assert_str_eq(h_http_header(&r, "Allow"), "GET, HEAD");
	h_http_response_free(&r);
	request(&d, "DELETE", "/leases", 405, &r);
	ck_assert_str_eq(h_http_header(&r, "Allow"), "GET, HEAD");
	h_http_response_free(&r);
	request(&d, "POST", "/leases/127.0.0.2/1", 405, &r);
	ck_assert_str_eq(h_http_header(&r, "Allow"), "GET, HEAD, DELETE");
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

/*
 * Starts a big listing on a client socket that reads only its first line.
 * The small receive buffer and MSS are set before connecting: with
 * loopback's 64 KB MSS the kernel sizes the daemon's send buffer at
 * megabytes as the connection opens, which would swallow the whole
 * listing at once and leave no stream to cut short.
 */
static int
start_listing(const struct h_daemon *d)
{
	static const char req[] =
	    "GET /leases?limit=100000 HTTP/1.1\r\nHost: x\r\n\r\n";
	struct sockaddr_in	sin;
	char			buf[1024];
	int			fd, rcvbuf = 4096, mss = 536;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)d->admin_port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_ne(fd = socket(AF_INET, SOCK_STREAM, 0), -1);
	ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
	    sizeof(rcvbuf)), 0);
	ck_assert_int_eq(setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &mss,
	    sizeof(mss)), 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
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

/*
 * Reads a /metrics page as the Prometheus text format 0.0.4: every line a
 * "# HELP name text" or "# TYPE name counter|gauge" before the family's
 * first sample, or a sample "name{label="value",...} value".  Anything
 * else fails the test.
 */
static void
metrics_parse(const char *body, struct metrics *m)
{
	char	*copy, *line, *next;
	size_t	 i;

	memset(m, 0, sizeof(*m));
	ck_assert_msg(*body != '\0' && body[strlen(body) - 1] == '\n',
	    "/metrics does not end with a newline");
	ck_assert_ptr_nonnull(copy = strdup(body));
	for (line = copy; *line != '\0'; line = next) {
		next = strchr(line, '\n');
		*next++ = '\0';
		metrics_line(line, m);
	}
	free(copy);
	for (i = 0; i < m->nfamilies; i++) {
		ck_assert_msg(m->families[i].helps == 1 &&
		    m->families[i].types == 1, "%s: %d HELP, %d TYPE",
		    m->families[i].name, m->families[i].helps,
		    m->families[i].types);
		ck_assert_msg(m->families[i].samples > 0, "%s: no samples",
		    m->families[i].name);
	}
}

/* One line of /metrics. */
static void
metrics_line(char *line, struct metrics *m)
{
	struct metric_family	*f;
	struct metric		*s;
	const char		*p, *end;
	char			*stop;
	size_t			 i;

	if (strncmp(line, "# HELP ", 7) == 0 ||
	    strncmp(line, "# TYPE ", 7) == 0) {
		end = metrics_name_end(line + 7);
		ck_assert_msg(end != line + 7 && *end == ' ' && end[1] != '\0',
		    "bad comment: %s", line);
		f = metrics_family(m, line + 7, (size_t)(end - line - 7));
		ck_assert_msg(f->samples == 0, "%s after samples", line);
		if (line[2] == 'H') {
			f->helps++;
			return;
		}
		f->types++;
		snprintf(f->type, sizeof(f->type), "%s", end + 1);
		ck_assert_msg(strcmp(f->type, "counter") == 0 ||
		    strcmp(f->type, "gauge") == 0, "bad type: %s", line);
		return;
	}
	ck_assert_msg(line[0] != '#' && line[0] != '\0', "bad line: '%s'",
	    line);
	p = end = metrics_name_end(line);
	ck_assert_msg(end != line, "bad metric name: %s", line);
	f = metrics_family(m, line, (size_t)(end - line));
	ck_assert_msg(f->types == 1, "%s: sample before # TYPE", line);
	f->samples++;
	if (*p == '{') {
		do {
			p++;
			ck_assert_msg(isalpha((unsigned char)*p) || *p == '_',
			    "bad label: %s", line);
			while (isalnum((unsigned char)*p) || *p == '_')
				p++;
			ck_assert_msg(p[0] == '=' && p[1] == '"',
			    "bad label: %s", line);
			for (p += 2; *p != '"' && *p != '\0'; p++) {
				if (*p == '\\' && p[1] != '\0')
					p++;
			}
			ck_assert_msg(*p++ == '"', "bad label value: %s", line);
		} while (*p == ',');
		ck_assert_msg(*p++ == '}', "bad labels: %s", line);
	}
	ck_assert_msg(*p == ' ', "no value: %s", line);
	ck_assert_uint_lt(m->nsamples, METRICS_MAX);
	s = &m->samples[m->nsamples++];
	ck_assert_uint_lt((size_t)(p - line), sizeof(s->series));
	memcpy(s->series, line, (size_t)(p - line));
	s->series[p - line] = '\0';
	s->value = strtoll(p + 1, &stop, 10);
	ck_assert_msg(p[1] != '\0' && *stop == '\0' && s->value >= 0,
	    "bad value: %s", line);
	for (i = 0; i + 1 < m->nsamples; i++)
		ck_assert_msg(strcmp(m->samples[i].series, s->series) != 0,
		    "duplicate series %s", s->series);
}

/* The family of that name, added if new. */
static struct metric_family *
metrics_family(struct metrics *m, const char *name, size_t len)
{
	struct metric_family	*f;
	size_t			 i;

	ck_assert_uint_lt(len, sizeof(f->name));
	for (i = 0; i < m->nfamilies; i++) {
		f = &m->families[i];
		if (strncmp(f->name, name, len) == 0 && f->name[len] == '\0')
			return (f);
	}
	ck_assert_uint_lt(m->nfamilies, METRICS_MAX);
	f = &m->families[m->nfamilies++];
	memcpy(f->name, name, len);
	f->name[len] = '\0';
	return (f);
}

/* Past a metric name, [a-zA-Z_:][a-zA-Z0-9_:]*. */
static const char *
metrics_name_end(const char *p)
{
	if (!isalpha((unsigned char)*p) && *p != '_' && *p != ':')
		return (p);
	while (isalnum((unsigned char)*p) || *p == '_' || *p == ':')
		p++;
	return (p);
}

/* The value of a series ("name" or "name{...}"), which must be there. */
static long long
metrics_value(const struct metrics *m, const char *series)
{
	size_t	i;

	for (i = 0; i < m->nsamples; i++) {
		if (strcmp(m->samples[i].series, series) == 0)
			return (m->samples[i].value);
	}
	ck_abort_msg("/metrics has no %s", series);
	return (-1);
}

/* A /stats integer, in group or at the top. */
static long long
stats_value(struct json_object *stats, const char *group, const char *name)
{
	struct json_object	*obj = stats, *v;

	check_stats_key(stats, group, name);
	if (group != NULL)
		json_object_object_get_ex(stats, group, &obj);
	json_object_object_get_ex(obj, name, &v);
	return ((long long)json_object_get_int64(v));
}

/*
 * /metrics: valid Prometheus text, the contract's gauges and every
 * counter of stat_descs[] under the contract's names, each equal to its
 * /stats value, the limits in force, and nothing else but the build info.
 */
START_TEST(test_metrics)
{
	static const struct {
		const char	*stat;
		const char	*metric;
	} gauges[] = {
		{ "port", "containment_breach_port" },
		{ "lease_timeout_s", "containment_breach_lease_timeout_seconds" },
		{ "leases", "containment_breach_leases" },
		{ "servers", "containment_breach_servers" },
		{ "waiting", "containment_breach_waiting" },
		{ "tcp_connections", "containment_breach_tcp_connections" },
	};
	const struct stat_desc	*sd;
	struct h_daemon		 d;
	struct h_http_response	 r;
	struct metrics		*m;
	struct json_object	*stats;
	struct rdv_peer		 p;
	char			 series[160];
	long long		 up;
	size_t			 i;
	int			 fd;

	ck_assert_ptr_nonnull(m = malloc(sizeof(*m)));
	start(&d, "-lease_timeout=42");
	register_small_set(&d);
	ck_assert_int_ne(fd = h_udp_socket("127.0.0.4", 0), -1);
	ck_assert_int_eq(h_udp_send(fd, "127.0.0.1", d.port, "nope", 4), 0);
	close(fd);
	rdv_wait_stat(&d, "udp_invalid", 1);
	rdv_peer_init(&p, "127.0.0.5", 1);
	rdv_send(&p, &d, "{\"ConnectionType\":\"Nope\"}\n");
	rdv_wait_stat(&d, "requests.invalid", 1);
	rdv_peer_close(&p);
	rdv_wait_stat(&d, "tcp_connections", 0);

	request(&d, "GET", "/metrics", 200, &r);
	ck_assert_str_eq(h_http_header(&r, "Content-Type"), METRICS_TYPE);
	metrics_parse(r.body, m);
	h_http_response_free(&r);
	stats = h_get_json(&d, "/stats", NULL);
	ck_assert_ptr_nonnull(stats);

	ck_assert_int_eq(metrics_value(m, "containment_breach_build_info"
	    "{version=\"" PACKAGE_VERSION "\"}"), 1);
	up = metrics_value(m, "containment_breach_uptime_seconds");
	ck_assert_int_ge(stats_value(stats, NULL, "uptime_s"), up);
	ck_assert_int_le(stats_value(stats, NULL, "uptime_s"), up + 2);
	for (i = 0; i < sizeof(gauges) / sizeof(gauges[0]); i++)
		ck_assert_msg(metrics_value(m, gauges[i].metric) ==
		    stats_value(stats, NULL, gauges[i].stat), "%s",
		    gauges[i].metric);
	for (i = 0; i < STAT__MAX; i++) {
		sd = &stat_descs[i];
		if (sd->group != NULL)
			snprintf(series, sizeof(series),
			    "containment_breach_%s_total{%s=\"%s\"}",
			    sd->group, sd->label, sd->name);
		else
			snprintf(series, sizeof(series),
			    "containment_breach_%s_total", sd->name);
		ck_assert_msg(metrics_value(m, series) ==
		    stats_value(stats, sd->group, sd->name), "%s", series);
	}
	for (i = 0; i < DAEMON_NLIMITS; i++) {
		snprintf(series, sizeof(series),
		    "containment_breach_limit{name=\"%s\"}",
		    daemon_limit_names[i]);
		ck_assert_msg(metrics_value(m, series) == stats_value(stats,
		    "limits", daemon_limit_names[i]), "%s", series);
	}
	ck_assert_uint_eq(m->nsamples, 2 + sizeof(gauges) / sizeof(gauges[0]) +
	    STAT__MAX + DAEMON_NLIMITS);
	for (i = 0; i < m->nfamilies; i++) {
		ck_assert_int_eq(strncmp(m->families[i].name,
		    "containment_breach_", 19), 0);
		ck_assert_msg((strcmp(m->families[i].type, "counter") == 0) ==
		    (strstr(m->families[i].name, "_total") != NULL),
		    "%s: type %s", m->families[i].name, m->families[i].type);
	}
	/* Values that show the numbers are live, not zeros. */
	ck_assert_int_eq(metrics_value(m, "containment_breach_leases"), 10);
	ck_assert_int_eq(metrics_value(m,
	    "containment_breach_lease_timeout_seconds"), 42);
	ck_assert_int_eq(metrics_value(m,
	    "containment_breach_udp_invalid_total"), 1);
	ck_assert_int_eq(metrics_value(m,
	    "containment_breach_requests_total{type=\"invalid\"}"), 1);
	ck_assert_int_eq(metrics_value(m,
	    "containment_breach_errors_total{kind=\"invalid_request\"}"), 1);
	json_object_put(stats);
	free(m);

	request(&d, "HEAD", "/metrics", 200, &r);
	ck_assert_uint_eq(r.body_len, 0);
	ck_assert_str_eq(h_http_header(&r, "Content-Type"), METRICS_TYPE);
	h_http_response_free(&r);
	stop(&d);
}
END_TEST

/* The lease at path is gone: GET and DELETE are both 404. */
static void
check_deleted(const struct h_daemon *d, const char *path)
{
	check_error(d, "GET", path, 404);
	check_error(d, "DELETE", path, 404);
}

/* DELETE of idle leases: 204 with no body, gone after, others kept. */
START_TEST(test_delete_idle)
{
	static const char *const bad[] = {
		"/leases/bad/1", "/leases/127.0.0.2/abc", "/leases/127.0.0.2/",
		"/leases/127.0.0.2/-1", "/leases/127.0.0.2/1/2",
		"/leases/1.2.3/1",
	};
	struct h_daemon		 d;
	struct h_http_response	 r;
	struct json_object	*obj;
	long long		 total;
	size_t			 count, i;

	start(&d, NULL);
	register_small_set(&d);
	request(&d, "DELETE", "/leases/127.0.0.2/3", 204, &r);
	ck_assert_uint_eq(r.body_len, 0);
	h_http_response_free(&r);
	check_deleted(&d, "/leases/127.0.0.2/3");
	ck_assert_int_eq(h_stat(&d, "leases"), 9);

	/* The IPv4-mapped spelling names the same lease. */
	request(&d, "DELETE", "/leases/::ffff:127.0.0.3/4", 204, &r);
	h_http_response_free(&r);
	check_deleted(&d, "/leases/127.0.0.3/4");

	check_error(&d, "DELETE", "/leases/127.0.0.9/1", 404);
	check_error(&d, "DELETE", "/leases/1.2.3.4", 404);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check_error(&d, "DELETE", bad[i], 400);

	obj = listing(&d, "", &total, &count);
	ck_assert_int_eq(total, 8);
	ck_assert_uint_eq(distinct_leases(obj), 8);
	json_object_put(obj);
	request(&d, "GET", "/leases/127.0.0.2/2", 200, &r);
	h_http_response_free(&r);
	ck_assert_int_eq(h_stat(&d, "errors.evicted"), 0);
	ck_assert_int_eq(h_stat(&d, "leases_expired"), 0);
	stop(&d);
}
END_TEST

/*
 * DELETE of a lease a Peer request waits on and of one a Server is
 * registered on: each receives the "evicted" line and is closed, and
 * errors.evicted counts both.  The lease can be registered again.
 */
START_TEST(test_delete_evicts_sessions)
{
	static const char evicted[] = "{\"SourcePort\":0,\"SourceIP\":\"\","
	    "\"DestPort\":0,\"DestIP\":\"\",\"Error\":\"evicted\"}";
	struct h_daemon		d;
	struct h_http_response	r;
	struct rdv_peer		a, s, absent;

	start(&d, NULL);
	rdv_peer_init(&a, "127.0.0.2", 1);
	rdv_peer_init(&s, "127.0.0.3", 2);
	rdv_peer_init(&absent, "127.0.0.9", 9);
	rdv_register(&a, &d);
	rdv_register(&s, &d);
	rdv_wait_lease(&a, &d);
	rdv_wait_lease(&s, &d);
	rdv_request(&a, &d, "Peer", &absent);
	rdv_request(&s, &d, "Server", NULL);
	wait_state(&d, "/leases/127.0.0.2/1", "waiting");
	wait_state(&d, "/leases/127.0.0.3/2", "server");

	request(&d, "DELETE", "/leases/127.0.0.2/1", 204, &r);
	h_http_response_free(&r);
	rdv_expect_final(&a, evicted, h_scale_ms(H_TIMEOUT_MS));
	request(&d, "DELETE", "/leases/127.0.0.3/2", 204, &r);
	h_http_response_free(&r);
	rdv_expect_final(&s, evicted, h_scale_ms(H_TIMEOUT_MS));

	ck_assert_int_eq(h_stat(&d, "errors.evicted"), 2);
	rdv_wait_stat(&d, "tcp_connections", 0);
	ck_assert_int_eq(h_stat(&d, "waiting"), 0);
	ck_assert_int_eq(h_stat(&d, "servers"), 0);
	ck_assert_int_eq(h_stat(&d, "leases"), 0);
	check_deleted(&d, "/leases/127.0.0.2/1");

	rdv_register(&s, &d);
	rdv_wait_lease(&s, &d);
	wait_state(&d, "/leases/127.0.0.3/2", "idle");
	stop(&d);
	rdv_peer_close(&a);
	rdv_peer_close(&s);
	rdv_peer_close(&absent);
}
END_TEST

/* Writes text to a fresh temporary file; its name goes to path. */
static void
token_file(char *path, size_t len, const char *text)
{
	int	fd;

	snprintf(path, len, "/tmp/cb_admin_token.XXXXXX");
	ck_assert_int_ne(fd = mkstemp(path), -1);
	ck_assert_int_eq(write(fd, text, strlen(text)),
	    (ssize_t)strlen(text));
	close(fd);
}

/* A request answered 401, WWW-Authenticate: Bearer, {"error":...}. */
static void
check_unauthorized(const struct h_daemon *d, const char *method,
    const char *path, const char *headers)
{
	struct h_http_response	r;

	ck_assert_int_eq(h_http(d, method, path, headers, &r), 0);
	ck_assert_msg(r.status == 401, "%s %s with %s: status %d", method,
	    path, headers != NULL ? headers : "no header", r.status);
	ck_assert_ptr_nonnull(h_http_header(&r, "WWW-Authenticate"));
	ck_assert_str_eq(h_http_header(&r, "WWW-Authenticate"), "Bearer");
	ck_assert_str_eq(h_http_header(&r, "Content-Type"), "application/json");
	ck_assert_str_eq(r.body, "{\"error\":\"unauthorized\"}\n");
	h_http_response_free(&r);
}

/* For h_poll_until(): GET /stats with the second token is 200. */
static int
token_accepted(void *arg)
{
	struct h_http_response	r;
	int			ok;

	if (h_http(arg, "GET", "/stats", "Authorization: Bearer " TOKEN2
	    "\r\n", &r) == -1)
		return (0);
	ok = r.status == 200;
	h_http_response_free(&r);
	return (ok);
}

/*
 * -admin_token_file: every path but /healthz needs the bearer token, even
 * to learn it does not exist; the token is in neither the log nor /stats;
 * a reload that changes it applies to the next request.
 */
START_TEST(test_token)
{
	static const char *const paths[] = {
		"/stats", "/metrics", "/leases", "/leases/127.0.0.2/1",
		"/nope", "/healthzz",
	};
	static const char *const wrong[] = {
		"Authorization: Bearer wrong\r\n",
		"Authorization: Bearer " TOKEN "x\r\n",
		"Authorization: Bearer s3cret\r\n",
		"Authorization: Bearer S3CRET-TOKEN_0123456789\r\n",
		"Authorization: Bearer \r\n",
		"Authorization: Bearer " TOKEN "\"\r\n",
		"Authorization: Bearer \"" TOKEN "\"\r\n",
		"Authorization: " TOKEN "\r\n",
		"Authorization: Basic dXNlcjpwYXNz\r\n",
		"X-Token: " TOKEN "\r\n",
	};
	static const char good[] = "Authorization: Bearer " TOKEN "\r\n";
	struct h_daemon		d;
	struct h_http_response	r;
	FILE			*fp;
	char			path[64], flag[128];
	size_t			i, j;
	int			reloaded;

	token_file(path, sizeof(path), TOKEN "\n");
	snprintf(flag, sizeof(flag), "-admin_token_file=%s", path);
	start(&d, flag);
	unlink(path);	/* read at start; written again for the reload */

	request(&d, "GET", "/healthz", 200, &r);
	ck_assert_str_eq(r.body, "ok\n");
	h_http_response_free(&r);
	request(&d, "HEAD", "/healthz?x=1", 200, &r);
	h_http_response_free(&r);

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		check_unauthorized(&d, "GET", paths[i], NULL);
		for (j = 0; j < sizeof(wrong) / sizeof(wrong[0]); j++)
			check_unauthorized(&d, "GET", paths[i], wrong[j]);
	}
	check_unauthorized(&d, "DELETE", "/leases/127.0.0.2/1", NULL);
	check_unauthorized(&d, "POST", "/stats", NULL);

	ck_assert_int_eq(h_http(&d, "GET", "/stats", good, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_null(strstr(r.body, TOKEN));
	h_http_response_free(&r);
	ck_assert_int_eq(h_http(&d, "GET", "/metrics", good, &r), 0);
	ck_assert_int_eq(r.status, 200);
	h_http_response_free(&r);
	ck_assert_int_eq(h_http(&d, "GET", "/leases",
	    "authorization: bearer  " TOKEN "\r\n", &r), 0);
	ck_assert_int_eq(r.status, 200);
	h_http_response_free(&r);
	ck_assert_int_eq(h_http(&d, "DELETE", "/leases/127.0.0.2/1", good,
	    &r), 0);
	ck_assert_int_eq(r.status, 404);
	h_http_response_free(&r);
	ck_assert_int_eq(h_http(&d, "GET", "/nope", good, &r), 0);
	ck_assert_int_eq(r.status, 404);
	h_http_response_free(&r);
	ck_assert_int_eq(h_http(&d, "POST", "/stats", good, &r), 0);
	ck_assert_int_eq(r.status, 405);
	h_http_response_free(&r);

	/* SIGHUP reads the file again: the new token is in force at once. */
	ck_assert_ptr_nonnull(fp = fopen(path, "w"));
	ck_assert_int_ge(fputs(TOKEN2 "\n", fp), 0);
	ck_assert_int_eq(fclose(fp), 0);
	ck_assert_int_eq(kill(d.pid, SIGHUP), 0);
	reloaded = h_poll_until(token_accepted, &d, WAIT_MS);
	unlink(path);
	ck_assert_msg(reloaded, "the new token is not accepted after SIGHUP");
	check_unauthorized(&d, "GET", "/stats", good);
	request(&d, "GET", "/healthz", 200, &r);
	h_http_response_free(&r);
	stop(&d);
	ck_assert_msg(!h_daemon_log_contains(&d, TOKEN), "token in the log");
	ck_assert_msg(!h_daemon_log_contains(&d, TOKEN2), "token in the log");
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
	tcase_add_test(tc, test_metrics);
	tcase_add_test(tc, test_delete_idle);
	tcase_add_test(tc, test_delete_evicts_sessions);
	tcase_add_test(tc, test_token);
	suite_add_tcase(s, tc);
	return (s);
}

/* Runs the suite; fails if any test did. */
int
main(void)
{
	return (suite_run(admin_suite()));
}
