/*
 * Unit tests for the lease registry on a real event base.  Expiry is
 * driven through lease_expire_due() with explicit times, and once through
 * the real timers, so no test sleeps for a lease's lifetime.
 */
#include "autoconf.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "lease.h"
#include "suite.h"

struct observed {
	int			 created;
	int			 expired;
	int			 evicted;
	int			 freed;
	struct lease_key	 last;
};

static struct lease_registry	*reg;

/* Counts what the registry tells; the hash it passes must be the key's. */
static void
observe(void *arg, const struct lease *l, uint64_t hash,
    enum lease_event ev)
{
	struct observed	*o = arg;

	ck_assert_uint_eq(hash, lease_key_hash(reg, lease_key(l)));
	o->last = *lease_key(l);
	switch (ev) {
	case LEASE_CREATED:
		o->created++;
		break;
	case LEASE_EXPIRED:
		o->expired++;
		break;
	case LEASE_EVICTED:
		o->evicted++;
		break;
	case LEASE_FREED:
		o->freed++;
		break;
	}
}

static struct lease_key
key_of(const char *ip, uint32_t peer_port)
{
	struct lease_key	k;

	memset(&k, 0, sizeof(k));
	ck_assert_int_eq(cb_ip_parse(&k.ip, ip), 0);
	k.peer_port = peer_port;
	return (k);
}

static struct event_base	*base;
static struct observed		 obs;

static void
setup(void)
{
	memset(&obs, 0, sizeof(obs));
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	reg = lease_registry_new(base, 90, observe, &obs);
	ck_assert_ptr_nonnull(reg);
}

static void
teardown(void)
{
	lease_registry_free(reg);
	event_base_free(base);
}

START_TEST(test_insert_and_lookup)
{
	struct lease_key	 k = key_of("198.51.100.2", 1234);
	struct lease		*l;

	ck_assert_int_eq(lease_upsert(reg, &k, 40001, 1000),
	    LEASE_UPSERT_CREATED);
	ck_assert_int_eq(obs.created, 1);
	l = lease_lookup(reg, &k);
	ck_assert_ptr_nonnull(l);
	ck_assert_uint_eq(lease_udp_port(l), 40001);
	ck_assert_uint_eq(lease_created_ms(l), 1000);
	ck_assert_uint_eq(lease_expires_ms(l), 91000);
	ck_assert_uint_eq(lease_count(reg), 1);
	k.peer_port = 1235;
	ck_assert_ptr_null(lease_lookup(reg, &k));
}
END_TEST

START_TEST(test_refresh_moves_endpoint)
{
	struct lease_key	 k = key_of("203.0.113.7", 5);
	struct lease		*l;

	lease_upsert(reg, &k, 1000, 0);
	ck_assert_int_eq(lease_upsert(reg, &k, 2000, 5000),
	    LEASE_UPSERT_REFRESHED);
	ck_assert_int_eq(obs.created, 1);
	l = lease_lookup(reg, &k);
	ck_assert_uint_eq(lease_udp_port(l), 2000);
	ck_assert_uint_eq(lease_created_ms(l), 0);
	ck_assert_uint_eq(lease_expires_ms(l), 95000);
	ck_assert_uint_eq(lease_count(reg), 1);
}
END_TEST

START_TEST(test_mapped_and_plain_ipv4_are_one_key)
{
	struct lease_key	a = key_of("192.0.2.1", 9);
	struct lease_key	b = key_of("::ffff:192.0.2.1", 9);

	lease_upsert(reg, &a, 1, 0);
	ck_assert_int_eq(lease_upsert(reg, &b, 2, 0), LEASE_UPSERT_REFRESHED);
	ck_assert_uint_eq(lease_count(reg), 1);
}
END_TEST

START_TEST(test_expiry_fires_once)
{
	struct lease_key	k = key_of("::1", 7);

	lease_upsert(reg, &k, 1, 0);
	ck_assert_int_eq(lease_expire_due(reg, 89999), 0);
	ck_assert_int_eq(lease_expire_due(reg, 90000), 1);
	ck_assert_int_eq(obs.expired, 1);
	ck_assert_int_eq(lease_expire_due(reg, 200000), 0);
	ck_assert_int_eq(obs.expired, 1);
	ck_assert_ptr_null(lease_lookup(reg, &k));
	ck_assert_uint_eq(lease_count(reg), 0);
	ck_assert_uint_eq(lease_count_ip(reg, &k.ip), 0);
}
END_TEST

START_TEST(test_refresh_postpones_expiry)
{
	struct lease_key	a = key_of("10.0.0.1", 1);
	struct lease_key	b = key_of("10.0.0.2", 1);

	lease_upsert(reg, &a, 1, 0);
	lease_upsert(reg, &b, 1, 10);
	ck_assert_int_eq(lease_refresh(reg, &a, 50000), 0);
	ck_assert_int_eq(lease_expire_due(reg, 90010), 1);
	ck_assert_uint_eq(obs.last.ip.bytes[15], 2);
	ck_assert_ptr_nonnull(lease_lookup(reg, &a));
	ck_assert_int_eq(lease_expire_due(reg, 140000), 1);
	ck_assert_int_eq(lease_refresh(reg, &a, 0), -1);
}
END_TEST

START_TEST(test_ttl_change_keeps_order_per_duration)
{
	struct lease_key	a = key_of("10.0.0.1", 1);
	struct lease_key	b = key_of("10.0.0.2", 1);

	lease_upsert(reg, &a, 1, 0);		/* expires at 90 s */
	lease_registry_set_ttl(reg, 10);
	lease_upsert(reg, &b, 1, 1000);		/* expires at 11 s */
	ck_assert_int_eq(lease_expire_due(reg, 11000), 1);
	ck_assert_ptr_nonnull(lease_lookup(reg, &a));
	ck_assert_int_eq(lease_expire_due(reg, 90000), 1);
}
END_TEST

START_TEST(test_evict)
{
	struct lease_key	k = key_of("10.1.1.1", 3);

	lease_upsert(reg, &k, 1, 0);
	ck_assert_int_eq(lease_evict(reg, &k), 0);
	ck_assert_int_eq(obs.evicted, 1);
	ck_assert_int_eq(lease_evict(reg, &k), -1);
	ck_assert_uint_eq(lease_count(reg), 0);
}
END_TEST

START_TEST(test_max_leases)
{
	struct lease_key	a = key_of("10.1.1.1", 1);
	struct lease_key	b = key_of("10.1.1.1", 2);

	lease_registry_set_max(reg, 1);
	ck_assert_int_eq(lease_upsert(reg, &a, 1, 0), LEASE_UPSERT_CREATED);
	ck_assert_int_eq(lease_upsert(reg, &b, 1, 0), LEASE_UPSERT_FULL);
	ck_assert_int_eq(lease_upsert(reg, &a, 2, 0), LEASE_UPSERT_REFRESHED);
}
END_TEST

/* The per-IP limit: one IP full, others not; going below frees a slot. */
START_TEST(test_max_leases_per_ip)
{
	struct lease_key	a = key_of("10.1.1.1", 1);
	struct lease_key	b = key_of("10.1.1.1", 2);
	struct lease_key	c = key_of("10.1.1.1", 3);
	struct lease_key	d = key_of("10.2.2.2", 1);

	lease_registry_set_max_per_ip(reg, 2);
	ck_assert_int_eq(lease_upsert(reg, &a, 1, 0), LEASE_UPSERT_CREATED);
	ck_assert_int_eq(lease_upsert(reg, &b, 1, 0), LEASE_UPSERT_CREATED);
	ck_assert_int_eq(lease_upsert(reg, &c, 1, 0), LEASE_UPSERT_FULL);
	ck_assert_int_eq(lease_upsert(reg, &d, 1, 0), LEASE_UPSERT_CREATED);
	ck_assert_int_eq(lease_upsert(reg, &b, 2, 0), LEASE_UPSERT_REFRESHED);
	ck_assert_int_eq(lease_evict(reg, &a), 0);
	ck_assert_int_eq(lease_upsert(reg, &c, 1, 0), LEASE_UPSERT_CREATED);
	lease_registry_set_max_per_ip(reg, 0);
	ck_assert_int_eq(lease_upsert(reg, &a, 1, 0), LEASE_UPSERT_CREATED);
}
END_TEST

/*
 * A token is fixed at creation: the same token moves the lease, another
 * or none does not; a lease made without one ignores tokens.  The LAN
 * endpoint after the token's hash keeps its value through resizes.
 */
START_TEST(test_token)
{
	struct lease_key	 k = key_of("198.51.100.2", 1);
	struct lease_key	 plain = key_of("198.51.100.2", 2);
	struct lease_token	 t1, t2, none = { 0, 0 };
	struct lease_local	 v4, v6, out;
	struct lease		*l;

	lease_token_make(reg, "0123456789abcdef", 16, &t1);
	lease_token_make(reg, "0123456789abcdeg", 16, &t2);
	ck_assert(t1.hash != t2.hash);
	ck_assert_int_eq(cb_ip_parse(&v4.ip, "10.0.0.2"), 0);
	v4.port = 4000;
	ck_assert_int_eq(cb_ip_parse(&v6.ip, "fd00::2"), 0);
	v6.port = 6000;
	ck_assert_int_eq(lease_upsert_token(reg, &k, 1, &v4, &t1, 0),
	    LEASE_UPSERT_CREATED);
	ck_assert_int_eq(lease_upsert_token(reg, &k, 2, NULL, &t2, 0),
	    LEASE_UPSERT_TOKEN_MISMATCH);
	ck_assert_int_eq(lease_upsert_token(reg, &k, 2, NULL, &none, 0),
	    LEASE_UPSERT_TOKEN_MISMATCH);
	ck_assert_int_eq(lease_upsert_local(reg, &k, 2, NULL, 0),
	    LEASE_UPSERT_TOKEN_MISMATCH);
	l = lease_lookup(reg, &k);
	ck_assert_uint_eq(lease_udp_port(l), 1);
	ck_assert(lease_get_local(l, &out));
	ck_assert(cb_ip_equal(&out.ip, &v4.ip));
	ck_assert(lease_token_matches(l, &t1));
	ck_assert(!lease_token_matches(l, &t2));
	ck_assert(!lease_token_matches(l, NULL));
	ck_assert_int_eq(lease_upsert_token(reg, &k, 3, &v6, &t1, 10),
	    LEASE_UPSERT_REFRESHED);
	l = lease_lookup(reg, &k);
	ck_assert_uint_eq(lease_udp_port(l), 3);
	ck_assert(lease_get_local(l, &out));
	ck_assert(cb_ip_equal(&out.ip, &v6.ip));
	ck_assert_uint_eq(out.port, 6000);
	ck_assert(lease_token_matches(l, &t1));
	ck_assert_int_eq(lease_upsert_token(reg, &k, 4, NULL, &t1, 20),
	    LEASE_UPSERT_REFRESHED);
	l = lease_lookup(reg, &k);
	ck_assert(!lease_get_local(l, &out));
	ck_assert(lease_token_matches(l, &t1));
	ck_assert(!lease_token_matches(l, &t2));

	ck_assert_int_eq(lease_upsert(reg, &plain, 1, 0), LEASE_UPSERT_CREATED);
	ck_assert_int_eq(lease_upsert_token(reg, &plain, 2, NULL, &t1, 0),
	    LEASE_UPSERT_REFRESHED);
	ck_assert_int_eq(lease_upsert(reg, &plain, 3, 0),
	    LEASE_UPSERT_REFRESHED);
	l = lease_lookup(reg, &plain);
	ck_assert_uint_eq(lease_udp_port(l), 3);
	ck_assert(lease_token_matches(l, NULL));
	ck_assert(lease_token_matches(l, &t2));
	ck_assert_int_eq(lease_expire_due(reg, 200000), 2);
}
END_TEST

static void
count_visit(void *arg, const struct lease *l)
{
	unsigned char	*seen = arg;

	seen[lease_key(l)->peer_port]++;
}

START_TEST(test_many_leases_and_scan_across_growth)
{
	enum { N = 50000 };
	unsigned char		*seen = calloc(2 * N, 1);
	struct lease_key	 k = key_of("10.2.0.1", 0);
	struct cb_ip		 ip = k.ip;
	uint64_t		 cursor = 0;
	uint32_t		 i;

	for (i = 0; i < N; i++) {
		k.peer_port = i;
		lease_upsert(reg, &k, (uint16_t)i, 0);
	}
	ck_assert_uint_eq(lease_count(reg), N);
	ck_assert_uint_eq(lease_count_ip(reg, &ip), N);
	/* Walk half, grow the table to four times the size, walk the rest. */
	cursor = lease_scan(reg, cursor, 20000, count_visit, seen);
	ck_assert_uint_ne(cursor, 0);
	for (i = N; i < 2 * N; i++) {
		k.peer_port = i;
		lease_upsert(reg, &k, 1, 0);
	}
	while (cursor != 0)
		cursor = lease_scan(reg, cursor, 1000, count_visit, seen);
	for (i = 0; i < N; i++)
		ck_assert_msg(seen[i] == 1, "lease %u seen %u times", i,
		    seen[i]);
	for (i = 0; i < N; i++) {
		k.peer_port = i;
		ck_assert_ptr_nonnull(lease_lookup(reg, &k));
	}
	ck_assert_int_eq(lease_expire_due(reg, 90000), 2 * N);
	ck_assert_uint_eq(lease_count_ip(reg, &ip), 0);
	free(seen);
}
END_TEST

/* A LAN endpoint rides in the lease; refreshes add, change or drop it. */
START_TEST(test_local_endpoint)
{
	struct lease_key	 k = key_of("198.51.100.2", 1), k2;
	struct lease_local	 v4, v6, out;
	struct lease		*l;
	uint32_t		 i;

	ck_assert_int_eq(cb_ip_parse(&v4.ip, "10.0.0.2"), 0);
	v4.port = 4000;
	ck_assert_int_eq(cb_ip_parse(&v6.ip, "fd00::2"), 0);
	v6.port = 6000;
	ck_assert_int_eq(lease_upsert_local(reg, &k, 1, &v4, 0),
	    LEASE_UPSERT_CREATED);
	/* Neighbours in the table, so relinking a chain is exercised. */
	for (i = 2; i < 3000; i++) {
		k2 = key_of("198.51.100.2", i);
		lease_upsert_local(reg, &k2, 1, i % 2 ? &v6 : NULL, 0);
	}
	ck_assert(lease_get_local(lease_lookup(reg, &k), &out));
	ck_assert(cb_ip_equal(&out.ip, &v4.ip));
	ck_assert_uint_eq(out.port, 4000);
	ck_assert_int_eq(lease_upsert_local(reg, &k, 2, &v6, 10),
	    LEASE_UPSERT_REFRESHED);
	l = lease_lookup(reg, &k);
	ck_assert(lease_get_local(l, &out));
	ck_assert(cb_ip_equal(&out.ip, &v6.ip));
	ck_assert_uint_eq(out.port, 6000);
	ck_assert_uint_eq(lease_udp_port(l), 2);
	ck_assert_int_eq(lease_upsert(reg, &k, 3, 20), LEASE_UPSERT_REFRESHED);
	ck_assert(!lease_get_local(lease_lookup(reg, &k), &out));
	for (i = 2; i < 3000; i++) {
		k2 = key_of("198.51.100.2", i);
		l = lease_lookup(reg, &k2);
		ck_assert_ptr_nonnull(l);
		ck_assert_int_eq(lease_get_local(l, &out), i % 2);
		lease_upsert_local(reg, &k2, 1, i % 2 ? &v4 : &v6, 30);
	}
	ck_assert_uint_eq(lease_count(reg), 2999);
	/* Expiry still finds every lease where it was moved to. */
	ck_assert_int_eq(lease_expire_due(reg, 200000), 2999);
	ck_assert_uint_eq(lease_count(reg), 0);
}
END_TEST

START_TEST(test_timer_expires_lease)
{
	struct lease_key	k = key_of("10.3.0.1", 1);

	lease_registry_set_ttl(reg, 1);
	lease_upsert(reg, &k, 1, cb_now_ms());
	/* The real timer: the loop returns once nothing else is pending. */
	event_base_dispatch(base);
	ck_assert_int_eq(obs.expired, 1);
	ck_assert_uint_eq(lease_count(reg), 0);
}
END_TEST

START_TEST(test_free_tells_observer)
{
	struct lease_key	k = key_of("10.4.0.1", 1);

	lease_upsert(reg, &k, 1, 0);
	k.peer_port = 2;
	lease_upsert(reg, &k, 1, 0);
	lease_registry_free(reg);
	reg = NULL;
	ck_assert_int_eq(obs.freed, 2);
}
END_TEST

static Suite *
lease_suite(void)
{
	Suite	*s = suite_create("lease");
	TCase	*tc = tcase_create("registry");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_insert_and_lookup);
	tcase_add_test(tc, test_refresh_moves_endpoint);
	tcase_add_test(tc, test_mapped_and_plain_ipv4_are_one_key);
	tcase_add_test(tc, test_expiry_fires_once);
	tcase_add_test(tc, test_refresh_postpones_expiry);
	tcase_add_test(tc, test_ttl_change_keeps_order_per_duration);
	tcase_add_test(tc, test_evict);
	tcase_add_test(tc, test_max_leases);
	tcase_add_test(tc, test_max_leases_per_ip);
	tcase_add_test(tc, test_token);
	tcase_add_test(tc, test_many_leases_and_scan_across_growth);
	tcase_add_test(tc, test_timer_expires_lease);
	tcase_add_test(tc, test_local_endpoint);
	tcase_add_test(tc, test_free_tells_observer);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (suite_run(lease_suite()));
}
