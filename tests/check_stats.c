/*
 * The counter name table is API: every counter is named, names are
 * snake_case, and no two counters publish under the same name.
 */
#include "autoconf.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"
#include "suite.h"

static int
is_snake_case(const char *s)
{
	if (*s < 'a' || *s > 'z')
		return (0);
	for (; *s != '\0'; s++) {
		if ((*s < 'a' || *s > 'z') && (*s < '0' || *s > '9') &&
		    *s != '_')
			return (0);
	}
	return (1);
}

START_TEST(test_every_counter_named)
{
	int	i;

	for (i = 0; i < STAT__MAX; i++) {
		ck_assert_msg(stat_descs[i].name != NULL, "counter %d", i);
		ck_assert_msg(is_snake_case(stat_descs[i].name), "%s",
		    stat_descs[i].name);
		if (stat_descs[i].group != NULL) {
			ck_assert(is_snake_case(stat_descs[i].group));
			ck_assert_ptr_nonnull(stat_descs[i].label);
		}
	}
}
END_TEST

START_TEST(test_names_unique)
{
	int	i, j;

	for (i = 0; i < STAT__MAX; i++) {
		for (j = i + 1; j < STAT__MAX; j++) {
			ck_assert_msg(!(strcmp(stat_descs[i].name,
			    stat_descs[j].name) == 0 &&
			    (stat_descs[i].group == stat_descs[j].group ||
			    (stat_descs[i].group != NULL &&
			    stat_descs[j].group != NULL &&
			    strcmp(stat_descs[i].group,
			    stat_descs[j].group) == 0))),
			    "duplicate %s", stat_descs[i].name);
		}
	}
}
END_TEST

START_TEST(test_contract_names)
{
	ck_assert_str_eq(stat_descs[STAT_UDP_INVALID].name, "udp_invalid");
	ck_assert_str_eq(stat_descs[STAT_REQ_KEEPALIVE].group, "requests");
	ck_assert_str_eq(stat_descs[STAT_REQ_KEEPALIVE].name, "keepalive");
	ck_assert_str_eq(stat_descs[STAT_ERR_NO_UDP_REGISTRATION].name,
	    "no_udp_registration");
	ck_assert_str_eq(stat_descs[STAT_MATCH_CLIENT].group, "matches");
	ck_assert_str_eq(stat_descs[STAT_LEASES_EXPIRED].name,
	    "leases_expired");
}
END_TEST

START_TEST(test_increment)
{
	struct stats	st;

	memset(&st, 0, sizeof(st));
	stats_inc(&st, STAT_TCP_ACCEPTED);
	stats_add(&st, STAT_TCP_ACCEPTED, 41);
	ck_assert_uint_eq(st.counters[STAT_TCP_ACCEPTED], 42);
	ck_assert_uint_eq(st.counters[STAT_UDP_DATAGRAMS], 0);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("stats");
	TCase	*tc = tcase_create("names");

	tcase_add_test(tc, test_every_counter_named);
	tcase_add_test(tc, test_names_unique);
	tcase_add_test(tc, test_contract_names);
	tcase_add_test(tc, test_increment);
	suite_add_tcase(s, tc);
	return (suite_run(s));
}
