/*
 * Unit tests for the shared helpers: IP literals in their one canonical
 * form, sockaddr conversion, strict number parsing, the monotonic clock,
 * and SipHash-2-4 against the reference vectors of its paper.
 */
#include "autoconf.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "siphash.h"
#include "util.h"
#include "suite.h"

static const struct {
	const char	*in;
	const char	*out;
	int		 v4;
} ip_good[] = {
	{ "1.2.3.4", "1.2.3.4", 1 },
	{ "0.0.0.0", "0.0.0.0", 1 },
	{ "255.255.255.255", "255.255.255.255", 1 },
	{ "::ffff:198.51.100.2", "198.51.100.2", 1 },
	{ "::FFFF:c633:6402", "198.51.100.2", 1 },
	{ "0:0:0:0:0:ffff:1.2.3.4", "1.2.3.4", 1 },
	{ "::1", "::1", 0 },
	{ "0:0::1", "::1", 0 },
	{ "::", "::", 0 },
	{ "2001:DB8:0:0:0:0:0:1", "2001:db8::1", 0 },
	{ "2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1", 0 },
	{ "2001:0db8:0000:0000:0000:ff00:0042:8329", "2001:db8::ff00:42:8329",
	    0 },
	{ "fe80::1", "fe80::1", 0 },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0 },
};

START_TEST(test_ip_round_trip)
{
	struct cb_ip	ip, again;
	char		buf[CB_IP_STRLEN];

	ck_assert_int_eq(cb_ip_parse(&ip, ip_good[_i].in), 0);
	ck_assert_str_eq(cb_ip_format(&ip, buf), ip_good[_i].out);
	ck_assert_int_eq(cb_ip_is_v4(&ip), ip_good[_i].v4);
	ck_assert_int_eq(cb_ip_parse(&again, buf), 0);
	ck_assert_int_eq(cb_ip_equal(&ip, &again), 1);
}
END_TEST

static const char *ip_bad[] = {
	"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4 ", " 1.2.3.4",
	"localhost", "example.com", "[::1]", "1.2.3.4:5", "[::1]:5",
	"fe80::1%eth0", "fe80::1%1", "::1::2", "1:2:3:4:5:6:7:8:9", "0x1.2.3.4",
	"1.2.3.4/24", "gggg::1",
};

START_TEST(test_ip_bad)
{
	struct cb_ip	ip;

	ck_assert_msg(cb_ip_parse(&ip, ip_bad[_i]) == -1, "accepted \"%s\"",
	    ip_bad[_i]);
}
END_TEST

/*
 * cb_ip_parse() reads IPv4 by hand; it must take exactly what
 * inet_pton(AF_INET) takes, with the same value, on random strings over
 * digits and dots (and on every octet from 0 to 999, with leading zeros).
 */
START_TEST(test_ip_v4_like_inet_pton)
{
	static const char	alphabet[] = "0123456789..";
	struct cb_ip		ip, want;
	struct in_addr		v4;
	char			text[24];
	size_t			n, i;
	int			round, ok;

	srandom(11);
	for (round = 0; round < 300000; round++) {
		if (round < 1000)
			snprintf(text, sizeof(text), "1.%d.2.3", round);
		else if (round < 2000)
			snprintf(text, sizeof(text), "0%d.1.1.1", round - 1000);
		else {
			n = (size_t)random() % 18;
			for (i = 0; i < n; i++)
				text[i] = alphabet[random() %
				    (sizeof(alphabet) - 1)];
			text[n] = '\0';
		}
		ok = inet_pton(AF_INET, text, &v4) == 1;
		ck_assert_msg((cb_ip_parse(&ip, text) == 0) == ok, "\"%s\"",
		    text);
		if (!ok)
			continue;
		memset(want.bytes, 0, 10);
		want.bytes[10] = want.bytes[11] = 0xff;
		memcpy(want.bytes + 12, &v4, 4);
		ck_assert_mem_eq(ip.bytes, want.bytes, sizeof(ip.bytes));
	}
}
END_TEST

START_TEST(test_ip_equal)
{
	struct cb_ip	a, b;

	ck_assert_int_eq(cb_ip_parse(&a, "0:0::1"), 0);
	ck_assert_int_eq(cb_ip_parse(&b, "::1"), 0);
	ck_assert_int_eq(cb_ip_equal(&a, &b), 1);
	ck_assert_int_eq(cb_ip_parse(&a, "::ffff:10.0.0.1"), 0);
	ck_assert_int_eq(cb_ip_parse(&b, "10.0.0.1"), 0);
	ck_assert_int_eq(cb_ip_equal(&a, &b), 1);
	ck_assert_int_eq(cb_ip_parse(&b, "10.0.0.2"), 0);
	ck_assert_int_eq(cb_ip_equal(&a, &b), 0);
	/* IPv4-compatible (deprecated) is not IPv4-mapped. */
	ck_assert_int_eq(cb_ip_parse(&b, "::10.0.0.1"), 0);
	ck_assert_int_eq(cb_ip_equal(&a, &b), 0);
	ck_assert_int_eq(cb_ip_is_v4(&b), 0);
}
END_TEST

START_TEST(test_sockaddr_v4)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)(void *)&ss;
	struct cb_ip		 ip, back;
	char			 buf[CB_IP_STRLEN];

	ck_assert_int_eq(cb_ip_parse(&ip, "::ffff:192.0.2.1"), 0);
	ck_assert_uint_eq(cb_ip_to_sockaddr(&ip, 6969, &ss), sizeof(*sin));
	ck_assert_int_eq(sin->sin_family, AF_INET);
	ck_assert_uint_eq(ntohs(sin->sin_port), 6969);
	ck_assert_uint_eq(ntohl(sin->sin_addr.s_addr), 0xc0000201);
	ck_assert_uint_eq(cb_sockaddr_port((struct sockaddr *)(void *)&ss),
	    6969);
	ck_assert_int_eq(cb_ip_from_sockaddr(&back,
	    (struct sockaddr *)(void *)&ss), 0);
	ck_assert_int_eq(cb_ip_equal(&ip, &back), 1);
	ck_assert_str_eq(cb_ip_format(&back, buf), "192.0.2.1");
}
END_TEST

START_TEST(test_sockaddr_v6)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)(void *)&ss;
	struct cb_ip		 ip, back;
	struct in6_addr		 want;

	ck_assert_int_eq(cb_ip_parse(&ip, "2001:db8::7"), 0);
	ck_assert_uint_eq(cb_ip_to_sockaddr(&ip, 65535, &ss), sizeof(*sin6));
	ck_assert_int_eq(sin6->sin6_family, AF_INET6);
	ck_assert_uint_eq(ntohs(sin6->sin6_port), 65535);
	ck_assert_int_eq(inet_pton(AF_INET6, "2001:db8::7", &want), 1);
	ck_assert_mem_eq(&sin6->sin6_addr, &want, sizeof(want));
	ck_assert_uint_eq(cb_sockaddr_port((struct sockaddr *)(void *)&ss),
	    65535);
	ck_assert_int_eq(cb_ip_from_sockaddr(&back,
	    (struct sockaddr *)(void *)&ss), 0);
	ck_assert_int_eq(cb_ip_equal(&ip, &back), 1);
}
END_TEST

/* A v4-mapped address from a dual-stack socket is the plain IPv4 one. */
START_TEST(test_sockaddr_mapped_v6)
{
	struct sockaddr_in6	sin6;
	struct cb_ip		ip, want;

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(1234);
	ck_assert_int_eq(inet_pton(AF_INET6, "::ffff:203.0.113.5",
	    &sin6.sin6_addr), 1);
	ck_assert_int_eq(cb_ip_from_sockaddr(&ip,
	    (struct sockaddr *)(void *)&sin6), 0);
	ck_assert_int_eq(cb_ip_parse(&want, "203.0.113.5"), 0);
	ck_assert_int_eq(cb_ip_equal(&ip, &want), 1);
	ck_assert_uint_eq(cb_sockaddr_port((struct sockaddr *)(void *)&sin6),
	    1234);
}
END_TEST

START_TEST(test_sockaddr_other_family)
{
	struct sockaddr_un	sun;
	struct cb_ip		ip;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	ck_assert_int_eq(cb_ip_from_sockaddr(&ip,
	    (struct sockaddr *)(void *)&sun), -1);
	ck_assert_uint_eq(cb_sockaddr_port((struct sockaddr *)(void *)&sun),
	    0);
}
END_TEST

static const struct {
	const char	*in;
	long long	 min;
	long long	 max;
	int		 ok;
	long long	 value;
	const char	*err;
} nums[] = {
	{ "0", 0, 10, 1, 0, NULL },
	{ "10", 0, 10, 1, 10, NULL },
	{ "-5", -5, 5, 1, -5, NULL },
	{ "007", 0, 10, 1, 7, NULL },
	{ "65535", 1, 65535, 1, 65535, NULL },
	{ "9223372036854775807", LLONG_MIN, LLONG_MAX, 1, LLONG_MAX, NULL },
	{ "-9223372036854775808", LLONG_MIN, LLONG_MAX, 1, LLONG_MIN, NULL },
	{ "11", 0, 10, 0, 0, "too large" },
	{ "65536", 1, 65535, 0, 0, "too large" },
	{ "0", 1, 65535, 0, 0, "too small" },
	{ "-6", -5, 5, 0, 0, "too small" },
	{ "9223372036854775808", LLONG_MIN, LLONG_MAX, 0, 0, "too large" },
	{ "99999999999999999999", 0, 10, 0, 0, "too large" },
	{ "-99999999999999999999", 0, 10, 0, 0, "too small" },
	{ "", 0, 10, 0, 0, "invalid" },
	{ "-", 0, 10, 0, 0, "invalid" },
	{ "+5", 0, 10, 0, 0, "invalid" },
	{ " 5", 0, 10, 0, 0, "invalid" },
	{ "5 ", 0, 10, 0, 0, "invalid" },
	{ "0x10", 0, 100, 0, 0, "invalid" },
	{ "1e3", 0, 10000, 0, 0, "invalid" },
	{ "5.0", 0, 10, 0, 0, "invalid" },
	{ "abc", 0, 10, 0, 0, "invalid" },
	{ "--5", -10, 10, 0, 0, "invalid" },
};

START_TEST(test_parse_num)
{
	long long	 v = 12345;
	const char	*err = "unset";
	int		 rv;

	rv = parse_num(nums[_i].in, nums[_i].min, nums[_i].max, &v, &err);
	if (nums[_i].ok) {
		ck_assert_int_eq(rv, 0);
		ck_assert_int_eq(v, nums[_i].value);
		ck_assert_ptr_null(err);
	} else {
		ck_assert_int_eq(rv, -1);
		ck_assert_int_eq(v, 12345);
		ck_assert_str_eq(err, nums[_i].err);
	}
}
END_TEST

START_TEST(test_now_ms_monotonic)
{
	uint64_t	a, b;

	a = cb_now_ms();
	b = cb_now_ms();
	ck_assert_uint_gt(a, 0);
	ck_assert_uint_ge(b, a);
	ck_assert_uint_lt(b - a, 1000);
}
END_TEST

/* Key 00..0f, input 00..(n-1): the vectors from the SipHash paper. */
static uint64_t
sip_vector(size_t n)
{
	struct siphash_key	key;
	uint8_t			kb[16], in[64];
	size_t			i;

	for (i = 0; i < sizeof(kb); i++)
		kb[i] = (uint8_t)i;
	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)i;
	key.k0 = key.k1 = 0;
	for (i = 0; i < 8; i++) {
		key.k0 |= (uint64_t)kb[i] << (8 * i);
		key.k1 |= (uint64_t)kb[8 + i] << (8 * i);
	}
	return (siphash24(&key, in, n));
}

START_TEST(test_siphash_vectors)
{
	ck_assert_uint_eq(sip_vector(0), 0x726fdb47dd0e0e31ULL);
	ck_assert_uint_eq(sip_vector(1), 0x74f839c593dc67fdULL);
	ck_assert_uint_eq(sip_vector(7), 0xab0200f58b01d137ULL);
	ck_assert_uint_eq(sip_vector(8), 0x93f5f5799a932462ULL);
	ck_assert_uint_eq(sip_vector(15), 0xa129ca6149be45e5ULL);
	ck_assert_uint_eq(sip_vector(63), 0x958a324ceb064572ULL);
}
END_TEST

/*
 * SipHash-1-3 with the all-zero key, as CPython computes it
 * (PYTHONHASHSEED=0 python3 -c 'print(hex(hash(b"siphash") % 2**64))').
 */
START_TEST(test_siphash13_vectors)
{
	struct siphash_key	zero = { 0, 0 };
	uint8_t			in[20];
	size_t			i;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)i;
	ck_assert_uint_eq(siphash13(&zero, "siphash", 7),
	    0x8264ceeccb16bcbeULL);
	ck_assert_uint_eq(siphash13(&zero, in, 8), 0xead411e67ebe2eeaULL);
	ck_assert_uint_eq(siphash13(&zero, in, 20), 0x639e355ae68c0100ULL);
}
END_TEST

START_TEST(test_siphash_key_random)
{
	struct siphash_key	a, b;

	siphash_key_random(&a);
	siphash_key_random(&b);
	ck_assert(a.k0 != b.k0 || a.k1 != b.k1);
}
END_TEST

static Suite *
util_suite(void)
{
	Suite	*s = suite_create("util");
	TCase	*tc_ip = tcase_create("ip");
	TCase	*tc_num = tcase_create("parse_num");
	TCase	*tc_hash = tcase_create("siphash");

	tcase_add_loop_test(tc_ip, test_ip_round_trip, 0,
	    (int)(sizeof(ip_good) / sizeof(ip_good[0])));
	tcase_add_loop_test(tc_ip, test_ip_bad, 0,
	    (int)(sizeof(ip_bad) / sizeof(ip_bad[0])));
	tcase_add_test(tc_ip, test_ip_v4_like_inet_pton);
	tcase_add_test(tc_ip, test_ip_equal);
	tcase_add_test(tc_ip, test_sockaddr_v4);
	tcase_add_test(tc_ip, test_sockaddr_v6);
	tcase_add_test(tc_ip, test_sockaddr_mapped_v6);
	tcase_add_test(tc_ip, test_sockaddr_other_family);
	suite_add_tcase(s, tc_ip);

	tcase_add_loop_test(tc_num, test_parse_num, 0,
	    (int)(sizeof(nums) / sizeof(nums[0])));
	tcase_add_test(tc_num, test_now_ms_monotonic);
	suite_add_tcase(s, tc_num);

	tcase_add_test(tc_hash, test_siphash_vectors);
	tcase_add_test(tc_hash, test_siphash13_vectors);
	tcase_add_test(tc_hash, test_siphash_key_random);
	suite_add_tcase(s, tc_hash);
	return (s);
}

int
main(void)
{
	return (suite_run(util_suite()));
}
