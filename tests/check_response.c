/*
 * Unit tests for the response line: the exact bytes for IPv4 and IPv6
 * endpoints and for every error kind, the error table's counters, buffer
 * limits, and string escaping exactly as Go's encoder does it.
 */
#include "autoconf.h"

#include <arpa/inet.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "response.h"
#include "suite.h"

/* An endpoint from an IP literal and a port. */
static struct cb_endpoint
endpoint(const char *ip, uint16_t port)
{
	struct cb_endpoint	ep;

	memset(&ep, 0, sizeof(ep));
	ck_assert_int_eq(cb_ip_parse(&ep.ip, ip), 0);
	ep.port = port;
	return (ep);
}

/* Formats resp and checks the line, its length and its NUL. */
static void
assert_line(const struct rdv_response *resp, const char *want)
{
	char	buf[RESPONSE_MAX];
	size_t	len;

	memset(buf, 'X', sizeof(buf));
	len = response_format(buf, sizeof(buf), resp);
	ck_assert_uint_eq(len, strlen(want));
	ck_assert_mem_eq(buf, want, len);
	ck_assert_int_eq(buf[len], '\0');
}

START_TEST(test_ipv4)
{
	struct rdv_response	resp = { endpoint("198.51.100.2", 40001),
	    endpoint("203.0.113.2", 40002), RDV_OK, NULL, 0,
	    { { { 0 } }, 0 } };

	assert_line(&resp, "{\"SourcePort\":40001,"
	    "\"SourceIP\":\"198.51.100.2\",\"DestPort\":40002,"
	    "\"DestIP\":\"203.0.113.2\",\"Error\":\"\"}\n");
}
END_TEST

START_TEST(test_ipv6_and_mapped)
{
	struct rdv_response	resp = { endpoint("2001:DB8:0:0:0:0:0:1", 1),
	    endpoint("::ffff:192.0.2.9", 65535), RDV_OK, NULL, 0,
	    { { { 0 } }, 0 } };

	assert_line(&resp, "{\"SourcePort\":1,\"SourceIP\":\"2001:db8::1\","
	    "\"DestPort\":65535,\"DestIP\":\"192.0.2.9\",\"Error\":\"\"}\n");
	resp.source = endpoint("fe80:0:0:0:1:0:0:1", 0);
	resp.dest = endpoint("::", 7);
	assert_line(&resp, "{\"SourcePort\":0,\"SourceIP\":\"fe80::1:0:0:1\","
	    "\"DestPort\":7,\"DestIP\":\"::\",\"Error\":\"\"}\n");
}
END_TEST

static const struct {
	enum rdv_error	 error;
	const char	*text;
	const char	*stat;	/* NULL: not counted */
} errors[] = {
	{ RDV_ERR_TIMEOUT, "timeout", "timeout" },
	{ RDV_ERR_NO_SUCH_SERVER, "no such server", "no_such_server" },
	{ RDV_ERR_NO_UDP_REGISTRATION, "no UDP registration",
	    "no_udp_registration" },
	{ RDV_ERR_REPLACED, "replaced by a newer request", "replaced" },
	{ RDV_ERR_REQUEST_TOO_LARGE, "request too large",
	    "request_too_large" },
	{ RDV_ERR_SHUTTING_DOWN, "server shutting down", NULL },
	{ RDV_ERR_EVICTED, "evicted", "evicted" },
	{ RDV_ERR_TOO_MANY_CONNECTIONS, "too many connections",
	    "too_many_connections" },
	{ RDV_ERR_INVALID_REQUEST, "invalid request", "invalid_request" },
};

/* Loop test over errors[]: exact line, other fields zeroed, counter. */
START_TEST(test_error_lines)
{
	struct rdv_response	resp = { endpoint("198.51.100.2", 40001),
	    endpoint("2001:db8::2", 40002), errors[_i].error, NULL, 0,
	    { { { 0 } }, 0 } };
	const struct stat_desc	*desc;
	char			 want[RESPONSE_MAX];

	snprintf(want, sizeof(want), "{\"SourcePort\":0,\"SourceIP\":\"\","
	    "\"DestPort\":0,\"DestIP\":\"\",\"Error\":\"%s\"}\n",
	    errors[_i].text);
	assert_line(&resp, want);
	ck_assert_str_eq(rdv_error_text(errors[_i].error), errors[_i].text);
	if (errors[_i].stat == NULL) {
		ck_assert_int_eq(rdv_error_counted(errors[_i].error), 0);
		ck_assert_int_eq(rdv_error_stat(errors[_i].error), STAT__MAX);
	} else {
		ck_assert_int_eq(rdv_error_counted(errors[_i].error), 1);
		desc = &stat_descs[rdv_error_stat(errors[_i].error)];
		ck_assert_str_eq(desc->group, "errors");
		ck_assert_str_eq(desc->name, errors[_i].stat);
	}
}
END_TEST

START_TEST(test_ok_kind)
{
	ck_assert_str_eq(rdv_error_text(RDV_OK), "");
	ck_assert_int_eq(rdv_error_counted(RDV_OK), 0);
	ck_assert_int_eq(rdv_error_stat(RDV_OK), STAT__MAX);
	ck_assert_int_eq(rdv_error_counted(RDV_ERR__MAX), 0);
	ck_assert_str_ne(rdv_error_text(RDV_ERR__MAX), "");
}
END_TEST

START_TEST(test_invalid_request_reason)
{
	struct rdv_response	resp;

	memset(&resp, 0, sizeof(resp));
	resp.error = RDV_ERR_INVALID_REQUEST;
	resp.reason = "missing LocalPeerPort";
	assert_line(&resp, "{\"SourcePort\":0,\"SourceIP\":\"\",\"DestPort\":0,"
	    "\"DestIP\":\"\",\"Error\":\"invalid request: missing "
	    "LocalPeerPort\"}\n");
	/* Reasons are escaped like every other string. */
	resp.reason = "a \"b\" <c>";
	assert_line(&resp, "{\"SourcePort\":0,\"SourceIP\":\"\",\"DestPort\":0,"
	    "\"DestIP\":\"\",\"Error\":\"invalid request: a \\\"b\\\" "
	    "\\u003cc\\u003e\"}\n");
	/* A reason only belongs to invalid requests. */
	resp.error = RDV_ERR_TIMEOUT;
	assert_line(&resp, "{\"SourcePort\":0,\"SourceIP\":\"\",\"DestPort\":0,"
	    "\"DestIP\":\"\",\"Error\":\"timeout\"}\n");
}
END_TEST

START_TEST(test_buffer_limits)
{
	struct rdv_response	resp = { endpoint("1.2.3.4", 5),
	    endpoint("6.7.8.9", 10), RDV_OK, NULL, 0,
	    { { { 0 } }, 0 } };
	const char		*want = "{\"SourcePort\":5,"
	    "\"SourceIP\":\"1.2.3.4\",\"DestPort\":10,"
	    "\"DestIP\":\"6.7.8.9\",\"Error\":\"\"}\n";
	char			buf[RESPONSE_MAX];
	size_t			len = strlen(want);

	ck_assert_uint_eq(response_format(buf, len + 1, &resp), len);
	ck_assert_str_eq(buf, want);
	memset(buf, 'X', sizeof(buf));
	ck_assert_uint_eq(response_format(buf, len, &resp), 0);
	ck_assert_int_eq(buf[0], '\0');
	ck_assert_int_eq(buf[len], 'X');
	ck_assert_uint_eq(response_format(buf, 1, &resp), 0);
	ck_assert_uint_eq(response_format(NULL, 0, &resp), 0);
}
END_TEST

/* The longest line there can be fits in RESPONSE_MAX. */
START_TEST(test_longest_line_fits)
{
	struct rdv_response	resp = {
	    endpoint("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535),
	    endpoint("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", 65535),
	    RDV_OK, NULL, 0,
	    { { { 0 } }, 0 } };
	char			buf[RESPONSE_MAX];

	ck_assert_uint_eq(response_format(buf, sizeof(buf), &resp), 153);
	resp.error = RDV_ERR_INVALID_REQUEST;
	resp.reason = "RemotePeerPort must be an integer from 0 to 2147483647";
	ck_assert_uint_gt(response_format(buf, sizeof(buf), &resp), 0);
}
END_TEST

static const struct {
	const char	*in;
	const char	*out;
} escapes[] = {
	{ "", "" },
	{ "plain text 123", "plain text 123" },
	{ "a\"b\\c", "a\\\"b\\\\c" },
	{ "\n\r\t", "\\n\\r\\t" },
	{ "\x01\x08\x0c\x1f", "\\u0001\\u0008\\u000c\\u001f" },
	{ "\x0b\x1b", "\\u000b\\u001b" },
	{ "<>&", "\\u003c\\u003e\\u0026" },
	{ "/ '", "/ '" },
	{ "\x7f", "\x7f" },
	{ "caf\xc3\xa9", "caf\xc3\xa9" },
	{ "\xe2\x80\xa8|\xe2\x80\xa9", "\\u2028|\\u2029" },
	{ "\xe2\x80\xa7", "\xe2\x80\xa7" },
	{ "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80" },
	{ "\xef\xbf\xbd", "\xef\xbf\xbd" },
	{ "\xff", "\\ufffd" },
	{ "\xc3" "A", "\\ufffdA" },
	{ "\xc0\xaf", "\\ufffd\\ufffd" },
	{ "\xe0\x80\x80", "\\ufffd\\ufffd\\ufffd" },
	{ "\xed\xa0\x80", "\\ufffd\\ufffd\\ufffd" },
	{ "\xf4\x90\x80\x80", "\\ufffd\\ufffd\\ufffd\\ufffd" },
	{ "\xf5\x80", "\\ufffd\\ufffd" },
	{ "\xe2\x82", "\\ufffd\\ufffd" },
	{ "\x80x", "\\ufffdx" },
};

/* Section 9: DestLocal* after Error, on success only. */
START_TEST(test_dest_local)
{
	struct rdv_response	resp = { endpoint("198.51.100.2", 40001),
	    endpoint("203.0.113.2", 40002), RDV_OK, NULL, 1,
	    endpoint("192.168.1.7", 5000) };

	assert_line(&resp, "{\"SourcePort\":40001,"
	    "\"SourceIP\":\"198.51.100.2\",\"DestPort\":40002,"
	    "\"DestIP\":\"203.0.113.2\",\"Error\":\"\","
	    "\"DestLocalIP\":\"192.168.1.7\",\"DestLocalPort\":5000}\n");
	resp.dest_local = endpoint("fd00::7", 1);
	assert_line(&resp, "{\"SourcePort\":40001,"
	    "\"SourceIP\":\"198.51.100.2\",\"DestPort\":40002,"
	    "\"DestIP\":\"203.0.113.2\",\"Error\":\"\","
	    "\"DestLocalIP\":\"fd00::7\",\"DestLocalPort\":1}\n");
	resp.error = RDV_ERR_TIMEOUT;
	assert_line(&resp, "{\"SourcePort\":0,\"SourceIP\":\"\","
	    "\"DestPort\":0,\"DestIP\":\"\",\"Error\":\"timeout\"}\n");
}
END_TEST

START_TEST(test_ack_format)
{
	struct cb_endpoint	ep = endpoint("::ffff:198.51.100.2", 40001);
	char			buf[ACK_MAX];
	size_t			len;

	len = response_format_ack(buf, sizeof(buf), 7, &ep, 90);
	ck_assert_str_eq(buf, "{\"PeerPort\":7,\"SourceIP\":"
	    "\"198.51.100.2\",\"SourcePort\":40001,\"LeaseTimeout\":90}");
	ck_assert_uint_eq(len, strlen(buf));
	/* The longest: an IPv6 source, every number at its widest. */
	ep = endpoint("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535);
	len = response_format_ack(buf, sizeof(buf), 2147483647, &ep, 86400);
	ck_assert_uint_eq(len, strlen(buf));
	ck_assert_uint_le(len, 128);
	ck_assert_uint_eq(response_format_ack(buf, 20, 7, &ep, 90), 0);
	ck_assert_str_eq(buf, "");
}
END_TEST

START_TEST(test_escape_go)
{
	char	buf[64];
	size_t	len;

	memset(buf, 'X', sizeof(buf));
	len = json_escape_go(buf, sizeof(buf), escapes[_i].in);
	ck_assert_uint_eq(len, strlen(escapes[_i].out));
	ck_assert_str_eq(buf, escapes[_i].out);
	ck_assert_uint_eq(json_escape_go(NULL, 0, escapes[_i].in), len);
}
END_TEST

START_TEST(test_escape_truncation)
{
	char	buf[16];

	/* Never half an escape: "a" then "\u003c" does not fit in 6. */
	memset(buf, 'X', sizeof(buf));
	ck_assert_uint_eq(json_escape_go(buf, 6, "a<b"), 8);
	ck_assert_str_eq(buf, "a");
	ck_assert_uint_eq(json_escape_go(buf, 8, "a<b"), 8);
	ck_assert_str_eq(buf, "a\\u003c");
	ck_assert_uint_eq(json_escape_go(buf, 9, "a<b"), 8);
	ck_assert_str_eq(buf, "a\\u003cb");
	ck_assert_uint_eq(json_escape_go(buf, 1, "abc"), 3);
	ck_assert_str_eq(buf, "");
}
END_TEST

/*
 * The formatter as it was before it stopped using stdio (snprintf for the
 * numbers, inet_ntop for every address, every string escaped), kept as
 * the reference the new one must match byte for byte.
 */
static size_t
old_format(char *buf, size_t size, const struct rdv_response *resp)
{
	char	 src[CB_IP_STRLEN] = "", dst[CB_IP_STRLEN] = "";
	char	 esrc[128], edst[128], err[512], local[256], eloc[128];
	char	 text[256];
	int	 ok = resp->error == RDV_OK, n;

	if (ok) {
		json_escape_go(esrc, sizeof(esrc), cb_ip_format(
		    &resp->source.ip, src));
		json_escape_go(edst, sizeof(edst), cb_ip_format(
		    &resp->dest.ip, dst));
	} else
		esrc[0] = edst[0] = '\0';
	if (resp->error == RDV_ERR_INVALID_REQUEST && resp->reason != NULL)
		snprintf(text, sizeof(text), "%s: %s",
		    rdv_error_text(resp->error), resp->reason);
	else
		snprintf(text, sizeof(text), "%s", rdv_error_text(resp->error));
	json_escape_go(err, sizeof(err), text);
	local[0] = '\0';
	if (ok && resp->has_dest_local) {
		json_escape_go(eloc, sizeof(eloc),
		    cb_ip_format(&resp->dest_local.ip, src));
		snprintf(local, sizeof(local),
		    ",\"DestLocalIP\":\"%s\",\"DestLocalPort\":%u", eloc,
		    (unsigned int)resp->dest_local.port);
	}
	n = snprintf(buf, size, "{\"SourcePort\":%u,\"SourceIP\":\"%s\","
	    "\"DestPort\":%u,\"DestIP\":\"%s\",\"Error\":\"%s\"%s}\n",
	    ok ? (unsigned int)resp->source.port : 0, esrc,
	    ok ? (unsigned int)resp->dest.port : 0, edst, err, local);
	if (n < 0 || (size_t)n >= size) {
		if (size > 0)
			buf[0] = '\0';
		return (0);
	}
	return ((size_t)n);
}

/* The old acknowledgement formatter, likewise. */
static size_t
old_format_ack(char *buf, size_t size, uint32_t peer_port,
    const struct cb_endpoint *source, unsigned int lease_timeout)
{
	char	ip[CB_IP_STRLEN], eip[128];
	int	n;

	json_escape_go(eip, sizeof(eip), cb_ip_format(&source->ip, ip));
	n = snprintf(buf, size, "{\"PeerPort\":%u,\"SourceIP\":\"%s\","
	    "\"SourcePort\":%u,\"LeaseTimeout\":%u}", (unsigned int)peer_port,
	    eip, (unsigned int)source->port, lease_timeout);
	if (n < 0 || (size_t)n >= size) {
		if (size > 0)
			buf[0] = '\0';
		return (0);
	}
	return ((size_t)n);
}

/*
 * A random address: IPv4 (mapped), or IPv6 built from words that are
 * mostly 0, 0xffff or small, so that runs of zeros, the mapped and
 * compatible forms and their near misses all turn up.
 */
static void
random_ip(struct cb_ip *ip, unsigned int *seed)
{
	static const uint8_t	 v4edge[] = { 0, 1, 9, 10, 99, 100, 199, 200,
	    249, 250, 255 };
	int			 i, kind = rand_r(seed) % 4;
	unsigned int		 w;

	memset(ip, 0, sizeof(*ip));
	if (kind <= 1) {
		ip->bytes[10] = ip->bytes[11] = 0xff;
		for (i = 12; i < 16; i++)
			ip->bytes[i] = kind == 0 ? (uint8_t)rand_r(seed) :
			    v4edge[rand_r(seed) % sizeof(v4edge)];
		return;
	}
	for (i = 0; i < 8; i++) {
		switch (rand_r(seed) % 5) {
		case 0:
		case 1:
			w = 0;
			break;
		case 2:
			w = 0xffff;
			break;
		case 3:
			w = (unsigned int)rand_r(seed) % 16;
			break;
		default:
			w = (unsigned int)rand_r(seed) & 0xffff;
		}
		ip->bytes[2 * i] = (uint8_t)(w >> 8);
		ip->bytes[2 * i + 1] = (uint8_t)w;
	}
}

/* A random port, often an edge. */
static uint16_t
random_port(unsigned int *seed)
{
	static const uint16_t	edge[] = { 0, 1, 9, 10, 99, 100, 999, 1000,
	    9999, 10000, 65535 };

	if (rand_r(seed) % 2)
		return (edge[rand_r(seed) % (sizeof(edge) / sizeof(edge[0]))]);
	return ((uint16_t)rand_r(seed));
}

/* The new formatter writes what the old one wrote, for any input. */
START_TEST(test_matches_old_formatter)
{
	static const char	*reasons[] = { NULL, "missing LocalPeerPort",
	    "a \"b\" <c> \xff" };
	struct rdv_response	 resp;
	struct cb_endpoint	 ep;
	char			 a[RESPONSE_MAX], b[RESPONSE_MAX];
	unsigned int		 seed = 7, lt;
	uint32_t		 pp;
	size_t			 la, lb, size;
	int			 i;

	for (i = 0; i < 50000; i++) {
		memset(&resp, 0, sizeof(resp));
		random_ip(&resp.source.ip, &seed);
		random_ip(&resp.dest.ip, &seed);
		random_ip(&resp.dest_local.ip, &seed);
		resp.source.port = random_port(&seed);
		resp.dest.port = random_port(&seed);
		resp.dest_local.port = random_port(&seed);
		resp.has_dest_local = rand_r(&seed) % 2;
		resp.error = rand_r(&seed) % 4 == 0 ?
		    (enum rdv_error)(rand_r(&seed) % (RDV_ERR__MAX + 1)) :
		    RDV_OK;
		resp.reason = reasons[rand_r(&seed) % 3];
		/* Mostly room enough, sometimes a buffer cut anywhere. */
		size = rand_r(&seed) % 8 == 0 ?
		    (size_t)rand_r(&seed) % 200 : sizeof(a);
		memset(a, 'X', sizeof(a));
		memset(b, 'X', sizeof(b));
		la = response_format(a, size, &resp);
		lb = old_format(b, size, &resp);
		ck_assert_uint_eq(la, lb);
		if (size > 0)
			ck_assert_str_eq(a, b);

		ep = resp.source;
		pp = rand_r(&seed) % 3 == 0 ? 2147483647u :
		    (uint32_t)rand_r(&seed);
		size = rand_r(&seed) % 8 == 0 ?
		    (size_t)rand_r(&seed) % 100 : sizeof(a);
		lt = (unsigned int)rand_r(&seed) % 100000;
		la = response_format_ack(a, size, pp, &ep, lt);
		lb = old_format_ack(b, size, pp, &ep, lt);
		ck_assert_uint_eq(la, lb);
		if (size > 0)
			ck_assert_str_eq(a, b);
	}
}
END_TEST

/* Every IPv4 octet value, in every position, against inet_ntop. */
START_TEST(test_ipv4_octets)
{
	struct cb_endpoint	ep;
	char			a[ACK_MAX], b[ACK_MAX];
	int			pos, v;

	for (pos = 0; pos < 4; pos++) {
		for (v = 0; v < 256; v++) {
			ep = endpoint("10.20.30.40", 5);
			ep.ip.bytes[12 + pos] = (uint8_t)v;
			ck_assert_uint_eq(response_format_ack(a, sizeof(a), 1,
			    &ep, 2), old_format_ack(b, sizeof(b), 1, &ep, 2));
			ck_assert_str_eq(a, b);
		}
	}
}
END_TEST

static Suite *
response_suite(void)
{
	Suite	*s = suite_create("response");
	TCase	*tc_line = tcase_create("line");
	TCase	*tc_esc = tcase_create("escape");

	tcase_add_test(tc_line, test_ipv4);
	tcase_add_test(tc_line, test_ipv6_and_mapped);
	tcase_add_loop_test(tc_line, test_error_lines, 0,
	    (int)(sizeof(errors) / sizeof(errors[0])));
	tcase_add_test(tc_line, test_ok_kind);
	tcase_add_test(tc_line, test_invalid_request_reason);
	tcase_add_test(tc_line, test_buffer_limits);
	tcase_add_test(tc_line, test_longest_line_fits);
	tcase_add_test(tc_line, test_dest_local);
	tcase_add_test(tc_line, test_ack_format);
	tcase_add_test(tc_line, test_matches_old_formatter);
	tcase_add_test(tc_line, test_ipv4_octets);
	suite_add_tcase(s, tc_line);

	tcase_add_loop_test(tc_esc, test_escape_go, 0,
	    (int)(sizeof(escapes) / sizeof(escapes[0])));
	tcase_add_test(tc_esc, test_escape_truncation);
	suite_add_tcase(s, tc_esc);
	return (s);
}

int
main(void)
{
	return (suite_run(response_suite()));
}
