/*
 * The per-IP token buckets: the burst, the refill, independence of IPs,
 * and a table that stays its size under a flood of addresses.
 */
#include "autoconf.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "ratelimit.h"
#include "suite.h"

static struct cb_ip
ip_n(unsigned int n)
{
	struct cb_ip	ip;
	char		text[32];

	snprintf(text, sizeof(text), "10.%u.%u.%u", (n >> 16) & 255,
	    (n >> 8) & 255, n & 255);
	ck_assert_int_eq(cb_ip_parse(&ip, text), 0);
	return (ip);
}

START_TEST(test_burst_then_refill)
{
	struct ratelimit	*rl = ratelimit_new(64, 10, 20);
	struct cb_ip		 a = ip_n(1);
	int			 i;

	ck_assert_ptr_nonnull(rl);
	for (i = 0; i < 20; i++)
		ck_assert_int_eq(ratelimit_allow(rl, &a, 1000), 1);
	ck_assert_int_eq(ratelimit_allow(rl, &a, 1000), 0);
	ck_assert_int_eq(ratelimit_allow(rl, &a, 1099), 0);
	/* 10 a second: one token every 100 ms, never more than the burst. */
	ck_assert_int_eq(ratelimit_allow(rl, &a, 1100), 1);
	ck_assert_int_eq(ratelimit_allow(rl, &a, 1100), 0);
	for (i = 0; i < 20; i++)
		ck_assert_int_eq(ratelimit_allow(rl, &a, 600000), 1);
	ck_assert_int_eq(ratelimit_allow(rl, &a, 600000), 0);
	ratelimit_free(rl);
}
END_TEST

/* A new rate and burst (SIGHUP) cut fuller buckets and refill anew. */
START_TEST(test_set_changes_rate)
{
	struct ratelimit	*rl = ratelimit_new(64, 10, 20);
	struct cb_ip		 a = ip_n(1);
	int			 i;

	ck_assert_ptr_nonnull(rl);
	ck_assert_int_eq(ratelimit_allow(rl, &a, 1000), 1);
	ratelimit_set(rl, 1, 2);
	for (i = 0; i < 2; i++)
		ck_assert_int_eq(ratelimit_allow(rl, &a, 1000), 1);
	ck_assert_int_eq(ratelimit_allow(rl, &a, 1000), 0);
	ck_assert_int_eq(ratelimit_allow(rl, &a, 1999), 0);
	ck_assert_int_eq(ratelimit_allow(rl, &a, 2000), 1);
	ratelimit_set(rl, 100, 200);
	ck_assert_int_eq(ratelimit_allow(rl, &a, 2010), 1);
	ck_assert_int_eq(ratelimit_allow(rl, &a, 2010), 0);
	ratelimit_free(rl);
}
END_TEST

START_TEST(test_ips_are_independent)
{
	struct ratelimit	*rl = ratelimit_new(64, 10, 2);
	struct cb_ip		 a = ip_n(1), b = ip_n(2);

	ck_assert_int_eq(ratelimit_allow(rl, &a, 5), 1);
	ck_assert_int_eq(ratelimit_allow(rl, &a, 5), 1);
	ck_assert_int_eq(ratelimit_allow(rl, &a, 5), 0);
	ck_assert_int_eq(ratelimit_allow(rl, &b, 5), 1);
	ck_assert_int_eq(ratelimit_allow(rl, &b, 5), 1);
	ck_assert_int_eq(ratelimit_allow(rl, &b, 5), 0);
	ratelimit_free(rl);
}
END_TEST

/* A million addresses through a 64-slot table: bounded, still correct. */
START_TEST(test_flood_stays_bounded)
{
	struct ratelimit	*rl = ratelimit_new(64, 10, 1);
	struct cb_ip		 ip;
	unsigned int		 i;

	for (i = 0; i < 1000000; i++) {
		ip = ip_n(i);
		ck_assert_int_eq(ratelimit_allow(rl, &ip, 7), 1);
	}
	/* The newest IP is still tracked and has spent its token. */
	ck_assert_int_eq(ratelimit_allow(rl, &ip, 7), 0);
	ratelimit_free(rl);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("ratelimit");
	TCase	*tc = tcase_create("buckets");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_burst_then_refill);
	tcase_add_test(tc, test_set_changes_rate);
	tcase_add_test(tc, test_ips_are_independent);
	tcase_add_test(tc, test_flood_stays_bounded);
	suite_add_tcase(s, tc);
	return (suite_run(s));
}
