/*
 * The client library's wire helpers: address text, the padded
 * registration, parsing the daemon's Ack and response lines, probes.
 */
#include "autoconf.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "client/cbc_wire.h"
#include "suite.h"

START_TEST(test_hostport)
{
	char	h[64], p[16];

	ck_assert_int_eq(cbc_parse_hostport("127.0.0.1:6969", 1, h,
	    sizeof(h), p, sizeof(p)), 0);
	ck_assert_str_eq(h, "127.0.0.1");
	ck_assert_str_eq(p, "6969");
	ck_assert_int_eq(cbc_parse_hostport("[::1]:7", 1, h, sizeof(h), p,
	    sizeof(p)), 0);
	ck_assert_str_eq(h, "::1");
	ck_assert_str_eq(p, "7");
	ck_assert_int_eq(cbc_parse_hostport("::1", 0, h, sizeof(h), p,
	    sizeof(p)), 0);
	ck_assert_str_eq(h, "::1");
	ck_assert_str_eq(p, "");
	ck_assert_int_eq(cbc_parse_hostport("10.0.0.1", 0, h, sizeof(h), p,
	    sizeof(p)), 0);
	ck_assert_int_eq(cbc_parse_hostport("10.0.0.1", 1, h, sizeof(h), p,
	    sizeof(p)), -1);
	ck_assert_int_eq(cbc_parse_hostport("host:", 1, h, sizeof(h), p,
	    sizeof(p)), -1);
	ck_assert_int_eq(cbc_parse_hostport("[::1", 0, h, sizeof(h), p,
	    sizeof(p)), -1);
}
END_TEST

START_TEST(test_registration_padded)
{
	struct sockaddr_storage	ss;
	socklen_t		len;
	char			buf[256];

	ck_assert_int_eq(cbc_sockaddr_from("192.168.1.5", 4000, AF_INET6,
	    &ss, &len), 0);
	ck_assert_int_eq(cbc_registration(buf, sizeof(buf), 12,
	    (struct sockaddr *)&ss, NULL), CBC_REG_PAD);
	ck_assert(strncmp(buf, "{\"PeerPort\":12,\"Ack\":true,\"LocalIP\":"
	    "\"192.168.1.5\",\"LocalPort\":4000}  ", 67) == 0);
	ck_assert_int_eq(cbc_registration(buf, sizeof(buf), 1, NULL, NULL),
	    CBC_REG_PAD);
	ck_assert(strncmp(buf, "{\"PeerPort\":1,\"Ack\":true} ", 26) == 0);
}
END_TEST

/* --token: on the registration and the request, and checked first. */
START_TEST(test_token)
{
	char	buf[256];

	ck_assert_int_eq(cbc_registration(buf, sizeof(buf), 1, NULL,
	    "0123456789abcdef"), CBC_REG_PAD);
	ck_assert(strncmp(buf, "{\"PeerPort\":1,\"Ack\":true,\"Token\":"
	    "\"0123456789abcdef\"} ", 53) == 0);
	ck_assert_int_gt(cbc_request(buf, sizeof(buf), "Server", 5, NULL, 0,
	    "0123456789abcdef"), 0);
	ck_assert_str_eq(buf, "{\"LocalPeerPort\":5,\"ConnectionType\":"
	    "\"Server\",\"Token\":\"0123456789abcdef\"}\n");
	ck_assert_int_gt(cbc_request(buf, sizeof(buf), "Peer", 5, "10.0.0.1",
	    6, NULL), 0);
	ck_assert_str_eq(buf, "{\"RemoteIP\":\"10.0.0.1\",\"RemotePeerPort\""
	    ":6,\"LocalPeerPort\":5,\"ConnectionType\":\"Peer\"}\n");
	ck_assert(cbc_token_valid("0123456789abcdef"));
	ck_assert(!cbc_token_valid("0123456789abcde"));
	ck_assert(!cbc_token_valid("0123456789abcdef\""));
	ck_assert(!cbc_token_valid("0123456789 abcdef"));
	ck_assert(!cbc_token_valid("0123456789abcdef0123456789abcdef"
	    "0123456789abcdef0123456789abcdef0"));
}
END_TEST

START_TEST(test_endpoint_text)
{
	struct sockaddr_storage	ss;
	socklen_t		len;
	char			buf[64];

	ck_assert_int_eq(cbc_sockaddr_from("::ffff:10.1.2.3", 5, AF_INET,
	    &ss, &len), 0);
	ck_assert_str_eq(cbc_format_endpoint((struct sockaddr *)&ss, buf,
	    sizeof(buf)), "10.1.2.3:5");
	ck_assert_int_eq(cbc_sockaddr_from("10.1.2.3", 5, AF_INET6, &ss,
	    &len), 0);
	ck_assert_str_eq(cbc_format_endpoint((struct sockaddr *)&ss, buf,
	    sizeof(buf)), "10.1.2.3:5");
	ck_assert_int_eq(cbc_sockaddr_from("fd00::1", 65535, AF_INET6, &ss,
	    &len), 0);
	ck_assert_str_eq(cbc_format_endpoint((struct sockaddr *)&ss, buf,
	    sizeof(buf)), "[fd00::1]:65535");
	ck_assert_int_eq(cbc_sockaddr_from("fd00::1", 1, AF_INET, &ss, &len),
	    -1);
	ck_assert_int_eq(cbc_sockaddr_from("nope", 1, AF_INET, &ss, &len),
	    -1);
}
END_TEST

START_TEST(test_parse_ack)
{
	static const char	ok[] = "{\"PeerPort\":7,\"SourceIP\":"
	    "\"198.51.100.2\",\"SourcePort\":40001,\"LeaseTimeout\":90}";
	struct cbc_ack		ack;

	ck_assert_int_eq(cbc_parse_ack(ok, strlen(ok), &ack), 0);
	ck_assert_uint_eq(ack.peer_port, 7);
	ck_assert_str_eq(ack.ip, "198.51.100.2");
	ck_assert_uint_eq(ack.port, 40001);
	ck_assert_uint_eq(ack.lease_timeout, 90);
	ck_assert_int_eq(cbc_parse_ack("{\"PeerPort\":7}", 14, &ack), -1);
	ck_assert_int_eq(cbc_parse_ack("CBP1 SYN", 8, &ack), -1);
	ck_assert_int_eq(cbc_parse_ack("{\"PeerPort\":7,\"SourceIP\":\"x\","
	    "\"SourcePort\":70000,\"LeaseTimeout\":1}", 63, &ack), -1);
}
END_TEST

START_TEST(test_parse_response)
{
	struct cbc_response	r;

	ck_assert_int_eq(cbc_parse_response("{\"SourcePort\":40001,"
	    "\"SourceIP\":\"198.51.100.2\",\"DestPort\":40002,\"DestIP\":"
	    "\"203.0.113.2\",\"Error\":\"\"}", &r), 0);
	ck_assert_str_eq(r.dest_ip, "203.0.113.2");
	ck_assert_uint_eq(r.dest_port, 40002);
	ck_assert_str_eq(r.error, "");
	ck_assert_int_eq(r.has_local, 0);
	ck_assert_int_eq(cbc_parse_response("{\"SourcePort\":1,\"SourceIP\":"
	    "\"a\",\"DestPort\":2,\"DestIP\":\"b\",\"Error\":\"\","
	    "\"DestLocalIP\":\"10.0.0.2\",\"DestLocalPort\":5}", &r), 0);
	ck_assert_int_eq(r.has_local, 1);
	ck_assert_str_eq(r.local_ip, "10.0.0.2");
	ck_assert_uint_eq(r.local_port, 5);
	ck_assert_int_eq(cbc_parse_response("{\"SourcePort\":0,\"SourceIP\":"
	    "\"\",\"DestPort\":0,\"DestIP\":\"\",\"Error\":\"timeout\"}", &r),
	    0);
	ck_assert_str_eq(r.error, "timeout");
	ck_assert_int_eq(cbc_parse_response("{\"SourcePort\":\"1\"}", &r),
	    -1);
	ck_assert_int_eq(cbc_parse_response("not json", &r), -1);
}
END_TEST

START_TEST(test_probes)
{
	struct cbc_probe	p;
	char			buf[64], n1[17], n2[17];
	int			len;

	cbc_nonce(n1);
	cbc_nonce(n2);
	ck_assert_str_ne(n1, n2);
	len = cbc_probe_format(buf, sizeof(buf), CBC_PROBE_SYN, NULL, n1);
	ck_assert_int_eq(cbc_probe_parse(buf, (size_t)len, &p), 0);
	ck_assert_int_eq(p.type, CBC_PROBE_SYN);
	ck_assert_str_eq(p.nonce, n1);
	len = cbc_probe_format(buf, sizeof(buf), CBC_PROBE_ACK, n1, n2);
	ck_assert_int_eq(cbc_probe_parse(buf, (size_t)len, &p), 0);
	ck_assert_int_eq(p.type, CBC_PROBE_ACK);
	ck_assert_str_eq(p.echo, n1);
	ck_assert_str_eq(p.nonce, n2);
	ck_assert_int_eq(cbc_probe_parse("CBP1 SYN 12", 11, &p), -1);
	ck_assert_int_eq(cbc_probe_parse("CBM1 1 hi", 9, &p), -1);
	ck_assert_int_eq(cbc_probe_parse("CBP1 SYN 0123456789abcdeg", 25, &p),
	    -1);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("client_wire");
	TCase	*tc = tcase_create("wire");

	tcase_add_test(tc, test_hostport);
	tcase_add_test(tc, test_registration_padded);
	tcase_add_test(tc, test_token);
	tcase_add_test(tc, test_endpoint_text);
	tcase_add_test(tc, test_parse_ack);
	tcase_add_test(tc, test_parse_response);
	tcase_add_test(tc, test_probes);
	suite_add_tcase(s, tc);
	return (suite_run(s));
}
