/*
 * Unit tests for the JSON codec: every class of bad input the contract
 * names, for the UDP registration and the TCP request, with the exact
 * reason each request is refused for, and the corners where json-c alone
 * would accept what JSON does not.
 */
#include "autoconf.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "proto_fast.h"
#include "suite.h"

/* Request pieces, so the cases below read as JSON. */
#define CT(t)		"\"ConnectionType\":\"" t "\""
#define LP(n)		"\"LocalPeerPort\":" n
#define RIP(s)		"\"RemoteIP\":" s
#define RPP(n)		"\"RemotePeerPort\":" n
#define REMOTE		RIP("\"198.51.100.2\"") "," RPP("2")
#define PEER(lp)	"{" CT("Peer") "," LP(lp) "," REMOTE "}"

#define PORT_REASON(f)	f " must be an integer from 0 to 2147483647"
#define LP_REASON	PORT_REASON("LocalPeerPort")
#define RPP_REASON	PORT_REASON("RemotePeerPort")
#define IP_REASON	"RemoteIP must be an IP address literal"
#define MALFORMED	"malformed JSON"

struct reg_case {
	const char	*in;
	size_t		 len;
	int		 ok;
	uint32_t	 port;
};

#define REG_OK(s, p)	{ s, sizeof(s) - 1, 1, p }
#define REG_BAD(s)	{ s, sizeof(s) - 1, 0, 0 }

static const struct reg_case reg_cases[] = {
	REG_OK("{\"PeerPort\":1234}", 1234),
	REG_OK("{\"PeerPort\": 0}", 0),
	REG_OK("{\"PeerPort\":2147483647}", 2147483647),
	REG_OK("{\"PeerPort\":-0}", 0),
	REG_OK("{\"PeerPort\":5} \n\t\r", 5),
	REG_OK("\r\n {\"PeerPort\":5}", 5),
	REG_OK("{\"peerport\":6}", 6),
	REG_OK("{\"PEERPORT\":7}", 7),
	REG_OK("{\"pEeRpOrT\":8}", 8),
	REG_OK("{\"peerport\":1,\"PeerPort\":2,\"PEERPORT\":3}", 2),
	REG_OK("{\"PeerPort\":2,\"peerport\":1}", 2),
	REG_OK("{\"PeerPort\":1,\"PeerPort\":2}", 2),
	REG_OK("{\"Ack\":true,\"X\":[1,{\"y\":null},[]],\"PeerPort\":9,"
	    "\"Z\":\"<>&\\u00e9\\ud800\\/\"}", 9),
	REG_OK("{\"PeerPort\":10,\"Note\":\"\xff\xfe\"}", 10),
	REG_OK("{\"\xff\":1,\"PeerPort\":11}", 11),
	REG_OK("{\"PeerPort\":12,\"Big\":99999999999999999999,"
	    "\"F\":1.5e400,\"N\":-0.0e-1}", 12),
	REG_OK("{\"PeerPort\":13,\"PeerPort2\":\"x\",\"Peer\":1}", 13),

	/* Not JSON, or not an object. */
	REG_BAD(""),
	REG_BAD("   "),
	REG_BAD("PeerPort=5"),
	REG_BAD("[{\"PeerPort\":5}]"),
	REG_BAD("5"),
	REG_BAD("\"PeerPort\""),
	REG_BAD("null"),
	REG_BAD("{\"PeerPort\":5"),
	REG_BAD("{\"PeerPort\":5,}"),
	REG_BAD("{\"PeerPort\" 5}"),
	REG_BAD("{'PeerPort':5}"),
	REG_BAD("{\"PeerPort\":5 /* c */}"),
	REG_BAD("\xef\xbb\xbf{\"PeerPort\":5}"),
	/* Missing key or wrong type. */
	REG_BAD("{}"),
	REG_BAD("{\"Peer_Port\":5}"),
	REG_BAD("{\"Peer\xffPort\":5}"),
	REG_BAD("{\"PeerPort\":5.0}"),
	REG_BAD("{\"PeerPort\":1e3}"),
	REG_BAD("{\"PeerPort\":\"5\"}"),
	REG_BAD("{\"PeerPort\":null}"),
	REG_BAD("{\"PeerPort\":true}"),
	REG_BAD("{\"PeerPort\":[5]}"),
	REG_BAD("{\"PeerPort\":{\"v\":5}}"),
	REG_BAD("{\"PeerPort\":-1}"),
	REG_BAD("{\"PeerPort\":2147483648}"),
	REG_BAD("{\"PeerPort\":4294967301}"),
	REG_BAD("{\"PeerPort\":99999999999999999999}"),
	REG_BAD("{\"PeerPort\":18446744073709551616}"),
	REG_BAD("{\"PeerPort\":-99999999999999999999}"),
	REG_BAD("{\"PeerPort\":5,\"PeerPort\":\"5\"}"),
	REG_BAD("{\"PeerPort\":\"5\",\"peerport\":5}"),
	/* Numbers JSON does not allow, which json-c 0.16 would. */
	REG_BAD("{\"PeerPort\":01}"),
	REG_BAD("{\"PeerPort\":-01}"),
	REG_BAD("{\"PeerPort\":5.}"),
	REG_BAD("{\"PeerPort\":+5}"),
	REG_BAD("{\"PeerPort\":0x10}"),
	REG_BAD("{\"PeerPort\":5,\"x\":NaN}"),
	REG_BAD("{\"PeerPort\":5,\"x\":Infinity}"),
	REG_BAD("{\"PeerPort\":5,\"x\":-Infinity}"),
	REG_BAD("{\"PeerPort\":5,\"x\":TRUE}"),
	/* Trailing garbage. */
	REG_BAD("{\"PeerPort\":5}x"),
	REG_BAD("{\"PeerPort\":5},"),
	REG_BAD("{\"PeerPort\":5}{\"PeerPort\":6}"),
	REG_BAD("{\"PeerPort\":5} \f"),
	/* NUL bytes, raw control characters, escaped NUL. */
	REG_BAD("{\"PeerPort\":5}\0"),
	REG_BAD("{\"PeerPort\":5}\0garbage"),
	REG_BAD("{\"PeerPort\"\0:5}"),
	REG_BAD("{\"PeerPort\":5,\"x\":\"a\0b\"}"),
	REG_BAD("{\"PeerPort\":5,\"x\":\"a\x01z\"}"),
	REG_BAD("{\"PeerPort\":5,\"x\":\"a\tz\"}"),
	REG_BAD("{\"PeerPort\":5,\"x\":\"a\nz\"}"),
	REG_BAD("{\"PeerPort\":5,\"x\":\"\\\x01\"}"),
	REG_BAD("{\"PeerPort\":5,\"x\":\"\\u0000\"}"),
	REG_BAD("{\"PeerPort\\u0000x\":5}"),
	REG_BAD("{\"PeerPort\":5,\"x\":\"\\x41\"}"),
};

START_TEST(test_registration_cases)
{
	const struct reg_case		*c = &reg_cases[_i];
	struct proto_decoder		*dec;
	struct proto_registration	 reg;
	int				 rv;

	dec = proto_decoder_new();
	ck_assert_ptr_nonnull(dec);
	reg.peer_port = 0xdeadbeef;
	rv = proto_decode_registration(dec, c->in, c->len, &reg);
	ck_assert_msg(rv == (c->ok ? 0 : -1), "case %d: got %d", _i, rv);
	if (c->ok)
		ck_assert_uint_eq(reg.peer_port, c->port);
	proto_decoder_free(dec);
}
END_TEST

struct req_case {
	const char	*in;
	size_t		 len;
	const char	*reason;	/* NULL: valid */
	enum conn_type	 type;
	uint32_t	 local;
	const char	*remote_ip;	/* NULL: left zero */
	uint32_t	 remote_port;
};

#define RQ_OK(s, t, l, ip, rp)	{ s, sizeof(s) - 1, NULL, t, l, ip, rp }
#define RQ_BAD(s, r)		{ s, sizeof(s) - 1, r, 0, 0, NULL, 0 }

static const struct req_case req_cases[] = {
	RQ_OK(PEER("1"), CONN_PEER, 1, "198.51.100.2", 2),
	RQ_OK("{" CT("Client") "," LP("0") "," RIP("\"2001:DB8:0::1\"") ","
	    RPP("2147483647") "}", CONN_CLIENT, 0, "2001:db8::1", 2147483647),
	RQ_OK("{" CT("Client") "," LP("5") "," RIP("\"::ffff:203.0.113.7\"")
	    "," RPP("6") "}", CONN_CLIENT, 5, "203.0.113.7", 6),
	RQ_OK("{" CT("Server") "," LP("3") "}", CONN_SERVER, 3, NULL, 0),
	RQ_OK("{" CT("Server") "," LP("3") "," RIP("5") "," RPP("\"x\"") "}",
	    CONN_SERVER, 3, NULL, 0),
	RQ_OK("{" CT("KeepAlive") "," LP("3") "," RIP("\"no ip\"") ","
	    RPP("-1") "}", CONN_KEEPALIVE, 3, NULL, 0),
	RQ_OK("{\"connectiontype\":\"Peer\",\"LOCALPEERPORT\":1,"
	    "\"remoteIP\":\"1.2.3.4\",\"remotepeerPORT\":2}",
	    CONN_PEER, 1, "1.2.3.4", 2),
	RQ_OK("{\"localpeerport\":9,\"LocalPeerPort\":1,\"LOCALPEERPORT\":8,"
	    CT("Server") "}", CONN_SERVER, 1, NULL, 0),
	RQ_OK("{\"Extra\":{\"a\":[1,2,{\"b\":null}]},\"Token\":\"0123456789"
	    "abcdef\"," CT("Server") "," LP("4") ",\"x\":\"<\\u00e9\\ud800>\"}",
	    CONN_SERVER, 4, NULL, 0),
	RQ_OK("{ \n\t\"ConnectionType\" : \"Server\" ,\r\n \"LocalPeerPort\" "
	    ": 4 }", CONN_SERVER, 4, NULL, 0),
	RQ_OK("{" CT("Server") "," LP("-0") "}", CONN_SERVER, 0, NULL, 0),
	RQ_OK("{" CT("Server") "," LP("1") "," LP("2") "}",
	    CONN_SERVER, 2, NULL, 0),
	RQ_OK("{" CT("Server") "," LP("4") ",\"x\":\"\xff\xfe\"}",
	    CONN_SERVER, 4, NULL, 0),
	RQ_OK(" {" CT("Server") "," LP("4") "}\r\n", CONN_SERVER, 4, NULL, 0),

	/* Not JSON, or not an object. */
	RQ_BAD("", MALFORMED),
	RQ_BAD("{" CT("Peer"), MALFORMED),
	RQ_BAD("{]", MALFORMED),
	RQ_BAD("{" CT("Server") "," LP("1") ",}", MALFORMED),
	RQ_BAD("{'ConnectionType':'Server','LocalPeerPort':1}", MALFORMED),
	RQ_BAD("{" CT("Server") "," LP("1") "/**/}", MALFORMED),
	RQ_BAD("\xef\xbb\xbf{" CT("Server") "," LP("1") "}", MALFORMED),
	RQ_BAD("[1]", "not a JSON object"),
	RQ_BAD("\"Server\"", "not a JSON object"),
	RQ_BAD("5", "not a JSON object"),
	RQ_BAD("null", "not a JSON object"),
	/* ConnectionType. */
	RQ_BAD("{}", "missing ConnectionType"),
	RQ_BAD("{" LP("1") "}", "missing ConnectionType"),
	RQ_BAD("{" CT("peer") "," LP("1") "," REMOTE "}",
	    "unknown ConnectionType"),
	RQ_BAD("{" CT("PEER") "," LP("1") "," REMOTE "}",
	    "unknown ConnectionType"),
	RQ_BAD("{" CT("Peer ") "," LP("1") "," REMOTE "}",
	    "unknown ConnectionType"),
	RQ_BAD("{" CT("") "," LP("1") "}", "unknown ConnectionType"),
	RQ_BAD("{" CT("\xffPeer") "," LP("1") "}", "unknown ConnectionType"),
	RQ_BAD("{" CT("<script>EVIL") "," LP("1") "}",
	    "unknown ConnectionType"),
	RQ_BAD("{\"ConnectionType\":5," LP("1") "}",
	    "ConnectionType must be a string"),
	RQ_BAD("{\"ConnectionType\":null," LP("1") "}",
	    "ConnectionType must be a string"),
	RQ_BAD("{\"ConnectionType\":[\"Peer\"]," LP("1") "}",
	    "ConnectionType must be a string"),
	/* LocalPeerPort. */
	RQ_BAD("{" CT("Server") "}", "missing LocalPeerPort"),
	RQ_BAD("{" CT("Server") ",\"LocalPeer\":1}", "missing LocalPeerPort"),
	RQ_BAD(PEER("5.0"), LP_REASON),
	RQ_BAD(PEER("1e3"), LP_REASON),
	RQ_BAD(PEER("1.5"), LP_REASON),
	RQ_BAD(PEER("\"5\""), LP_REASON),
	RQ_BAD(PEER("null"), LP_REASON),
	RQ_BAD(PEER("true"), LP_REASON),
	RQ_BAD(PEER("false"), LP_REASON),
	RQ_BAD(PEER("-1"), LP_REASON),
	RQ_BAD(PEER("2147483648"), LP_REASON),
	RQ_BAD(PEER("99999999999999999999"), LP_REASON),
	RQ_BAD(PEER("-99999999999999999999"), LP_REASON),
	RQ_BAD(PEER("18446744073709551616"), LP_REASON),
	RQ_BAD(PEER("[1]"), LP_REASON),
	RQ_BAD(PEER("{}"), LP_REASON),
	RQ_BAD(PEER("01"), MALFORMED),
	RQ_BAD(PEER("-01"), MALFORMED),
	RQ_BAD(PEER("5."), MALFORMED),
	RQ_BAD(PEER("+1"), MALFORMED),
	RQ_BAD(PEER("NaN"), MALFORMED),
	RQ_BAD(PEER("Infinity"), MALFORMED),
	RQ_BAD(PEER("-Infinity"), MALFORMED),
	/* RemoteIP. */
	RQ_BAD("{" CT("Peer") "," LP("1") "," RPP("2") "}",
	    "missing RemoteIP"),
	RQ_BAD("{" CT("Client") "," LP("1") "," RPP("2") "}",
	    "missing RemoteIP"),
	RQ_BAD("{" CT("Peer") "," LP("1") "," RIP("\"localhost\"") ","
	    RPP("2") "}", IP_REASON),
	RQ_BAD("{" CT("Peer") "," LP("1") "," RIP("\"1.2.3\"") ","
	    RPP("2") "}", IP_REASON),
	RQ_BAD("{" CT("Peer") "," LP("1") "," RIP("\"[::1]\"") ","
	    RPP("2") "}", IP_REASON),
	RQ_BAD("{" CT("Peer") "," LP("1") "," RIP("\"1.2.3.4:5\"") ","
	    RPP("2") "}", IP_REASON),
	RQ_BAD("{" CT("Peer") "," LP("1") "," RIP("\"fe80::1%eth0\"") ","
	    RPP("2") "}", IP_REASON),
	RQ_BAD("{" CT("Peer") "," LP("1") "," RIP("\" 1.2.3.4\"") ","
	    RPP("2") "}", IP_REASON),
	RQ_BAD("{" CT("Peer") "," LP("1") "," RIP("\"\"") "," RPP("2") "}",
	    IP_REASON),
	RQ_BAD("{" CT("Peer") "," LP("1") "," RIP("16909060") "," RPP("2")
	    "}", IP_REASON),
	RQ_BAD("{" CT("Peer") "," LP("1") "," RIP("null") "," RPP("2") "}",
	    IP_REASON),
	/* RemotePeerPort. */
	RQ_BAD("{" CT("Client") "," LP("1") "," RIP("\"1.2.3.4\"") "}",
	    "missing RemotePeerPort"),
	RQ_BAD("{" CT("Client") "," LP("1") "," RIP("\"1.2.3.4\"") ","
	    RPP("1e3") "}", RPP_REASON),
	RQ_BAD("{" CT("Peer") "," LP("1") "," RIP("\"1.2.3.4\"") ","
	    RPP("2147483648") "}", RPP_REASON),
	RQ_BAD("{" CT("Peer") "," LP("1") "," RIP("\"1.2.3.4\"") ","
	    RPP("\"2\"") "}", RPP_REASON),
	/* Trailing bytes, NUL bytes, control characters. */
	RQ_BAD("{" CT("Server") "," LP("1") "}x", MALFORMED),
	RQ_BAD("{" CT("Server") "," LP("1") "}{}", MALFORMED),
	RQ_BAD("{" CT("Server") "," LP("1") "}\0", MALFORMED),
	RQ_BAD("{\"ConnectionType\":\"Server\0\"," LP("1") "}", MALFORMED),
	RQ_BAD("{" CT("Server") "," LP("1") ",\"x\":\"a\x01\"}", MALFORMED),
	RQ_BAD("{" CT("Server") "," LP("1") ",\"x\":\"a\x1f\"}", MALFORMED),
	RQ_BAD("{" CT("Server") "," LP("1") ",\"x\":\"\r\n\"}", MALFORMED),
	RQ_BAD("{" CT("Server\\u0000") "," LP("1") "}", MALFORMED),
	RQ_BAD("{" CT("Server") ",\"LocalPeerPort\\u0000\":1}", MALFORMED),
	RQ_BAD("{" CT("Server") "," LP("1") ",\"x\":\"\\q\"}", MALFORMED),
};

START_TEST(test_request_cases)
{
	const struct req_case	*c = &req_cases[_i];
	struct proto_decoder	*dec;
	struct proto_request	 req;
	struct cb_ip		 zero, want;
	const char		*reason = "unset";
	int			 rv;

	dec = proto_decoder_new();
	ck_assert_ptr_nonnull(dec);
	rv = proto_decode_request(dec, c->in, c->len, &req, &reason);
	if (c->reason != NULL) {
		ck_assert_msg(rv == -1, "case %d accepted", _i);
		ck_assert_ptr_nonnull(reason);
		ck_assert_str_eq(reason, c->reason);
		proto_decoder_free(dec);
		return;
	}
	ck_assert_msg(rv == 0, "case %d refused: %s", _i, reason);
	ck_assert_ptr_null(reason);
	ck_assert_int_eq(req.type, c->type);
	ck_assert_uint_eq(req.local_peer_port, c->local);
	ck_assert_uint_eq(req.remote_peer_port, c->remote_port);
	memset(&zero, 0, sizeof(zero));
	if (c->remote_ip == NULL)
		want = zero;
	else
		ck_assert_int_eq(cb_ip_parse(&want, c->remote_ip), 0);
	ck_assert_mem_eq(req.remote_ip.bytes, want.bytes, sizeof(want.bytes));
	proto_decoder_free(dec);
}
END_TEST

/* A valid registration padded with spaces to exactly n bytes. */
static char *
padded_registration(size_t n, int leading)
{
	const char	*obj = "{\"PeerPort\":42}";
	char		*buf;

	buf = malloc(n);
	ck_assert_ptr_nonnull(buf);
	memset(buf, ' ', n);
	memcpy(leading ? buf + n - strlen(obj) : buf, obj, strlen(obj));
	return (buf);
}

/* Section 9: "Ack" only as JSON true; LocalIP and LocalPort as a pair. */
START_TEST(test_registration_extensions)
{
	static const struct {
		const char	*in;
		int		 rv, ack, local;
		const char	*ip;
		unsigned int	 port;
	} cases[] = {
		{ "{\"PeerPort\":1}", 0, 0, 0, NULL, 0 },
		{ "{\"PeerPort\":1,\"Ack\":true}", 0, 1, 0, NULL, 0 },
		{ "{\"PeerPort\":1,\"ack\":true}", 0, 1, 0, NULL, 0 },
		{ "{\"PeerPort\":1,\"Ack\":false}", 0, 0, 0, NULL, 0 },
		{ "{\"PeerPort\":1,\"Ack\":\"true\"}", 0, 0, 0, NULL, 0 },
		{ "{\"PeerPort\":1,\"Ack\":1}", 0, 0, 0, NULL, 0 },
		{ "{\"PeerPort\":1,\"LocalIP\":\"10.0.0.2\",\"LocalPort\":1}",
		    0, 0, 1, "10.0.0.2", 1 },
		{ "{\"PeerPort\":1,\"localip\":\"fd00::2\","
		    "\"LOCALPORT\":65535,\"Ack\":true}", 0, 1, 1, "fd00::2",
		    65535 },
		{ "{\"PeerPort\":1,\"LocalIP\":\"::ffff:10.0.0.2\","
		    "\"LocalPort\":7}", 0, 0, 1, "10.0.0.2", 7 },
		{ "{\"PeerPort\":1,\"LocalIP\":\"10.0.0.2\"}", -1, 0, 0,
		    NULL, 0 },
		{ "{\"PeerPort\":1,\"LocalPort\":5}", -1, 0, 0, NULL, 0 },
		{ "{\"PeerPort\":1,\"LocalIP\":\"10.0.0.2\",\"LocalPort\":0}",
		    -1, 0, 0, NULL, 0 },
		{ "{\"PeerPort\":1,\"LocalIP\":\"10.0.0.2\","
		    "\"LocalPort\":65536}", -1, 0, 0, NULL, 0 },
		{ "{\"PeerPort\":1,\"LocalIP\":\"10.0.0.2\","
		    "\"LocalPort\":5.0}", -1, 0, 0, NULL, 0 },
		{ "{\"PeerPort\":1,\"LocalIP\":5,\"LocalPort\":5}", -1, 0, 0,
		    NULL, 0 },
		{ "{\"PeerPort\":1,\"LocalIP\":\"lan.host\","
		    "\"LocalPort\":5}", -1, 0, 0, NULL, 0 },
		{ "{\"PeerPort\":1,\"LocalIP\":null,\"LocalPort\":5}", -1, 0,
		    0, NULL, 0 },
	};
	struct proto_decoder		*dec = proto_decoder_new();
	struct proto_registration	 reg;
	struct cb_ip			 ip;
	size_t				 i;

	ck_assert_ptr_nonnull(dec);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_msg(proto_decode_registration(dec, cases[i].in,
		    strlen(cases[i].in), &reg) == cases[i].rv, "case %zu", i);
		if (cases[i].rv != 0)
			continue;
		ck_assert_uint_eq(reg.peer_port, 1);
		ck_assert_int_eq(reg.ack, cases[i].ack);
		ck_assert_int_eq(reg.has_local, cases[i].local);
		if (!cases[i].local)
			continue;
		ck_assert_int_eq(cb_ip_parse(&ip, cases[i].ip), 0);
		ck_assert(cb_ip_equal(&ip, &reg.local_ip));
		ck_assert_uint_eq(reg.local_port, cases[i].port);
	}
	proto_decoder_free(dec);
}
END_TEST

START_TEST(test_registration_size_limit)
{
	struct proto_decoder		*dec = proto_decoder_new();
	struct proto_registration	 reg;
	char				*buf;
	int				 leading;

	ck_assert_ptr_nonnull(dec);
	for (leading = 0; leading <= 1; leading++) {
		buf = padded_registration(PROTO_UDP_MAX, leading);
		reg.peer_port = 0;
		ck_assert_int_eq(proto_decode_registration(dec, buf,
		    PROTO_UDP_MAX, &reg), 0);
		ck_assert_uint_eq(reg.peer_port, 42);
		free(buf);
		buf = padded_registration(PROTO_UDP_MAX + 1, leading);
		ck_assert_int_eq(proto_decode_registration(dec, buf,
		    PROTO_UDP_MAX + 1, &reg), -1);
		free(buf);
	}
	proto_decoder_free(dec);
}
END_TEST

/*
 * The canonical-registration fast path (proto_fast.c): what it takes, what
 * it leaves to json-c, and that the json-c path agrees with every input it
 * takes.  len 0 means strlen.
 */
static const struct {
	const char	*in;
	size_t		 len;
	int		 fast;		/* the fast path takes it */
	uint32_t	 port;
	int		 ack;
} fast_cases[] = {
	{ "{\"PeerPort\":1234}", 0, 1, 1234, 0 },
	{ "{\"PeerPort\":0}", 0, 1, 0, 0 },
	{ "{\"PeerPort\":2147483647}", 0, 1, 2147483647, 0 },
	{ " \t\r\n{ \"PeerPort\" :\t7\n}\r\n ", 0, 1, 7, 0 },
	{ "{\"PeerPort\":7,\"Ack\":true}", 0, 1, 7, 1 },
	{ "{\"PeerPort\":7 , \"Ack\" : true }                ", 0, 1, 7,
	    1 },
	{ "{\"PeerPort\":9999999999}", 0, 0, 0, 0 },
	{ "{\"PeerPort\":2147483648}", 0, 0, 0, 0 },
	{ "{\"PeerPort\":00}", 0, 0, 0, 0 },
	{ "{\"PeerPort\":01}", 0, 0, 0, 0 },
	{ "{\"PeerPort\":-0}", 0, 0, 0, 0 },
	{ "{\"PeerPort\":1.0}", 0, 0, 0, 0 },
	{ "{\"PeerPort\":1e1}", 0, 0, 0, 0 },
	{ "{\"PeerPort\":}", 0, 0, 0, 0 },
	{ "{\"peerport\":7}", 0, 0, 0, 0 },
	{ "{\"PeerPort\":7,\"Ack\":false}", 0, 0, 0, 0 },
	{ "{\"PeerPort\":7,\"ack\":true}", 0, 0, 0, 0 },
	{ "{\"PeerPort\":7,\"Ack\":truex}", 0, 0, 0, 0 },
	{ "{\"PeerPort\":7,\"Ack\":tru}", 0, 0, 0, 0 },
	{ "{\"PeerPort\":7,}", 0, 0, 0, 0 },
	{ "{\"PeerPort\":7,\"Ack\":true,\"X\":1}", 0, 0, 0, 0 },
	{ "{\"Ack\":true,\"PeerPort\":7}", 0, 0, 0, 0 },
	{ "{\"PeerPort\":7}\f", 0, 0, 0, 0 },
	{ "{\"PeerPort\":7}\v", 0, 0, 0, 0 },
	{ "{\"PeerPort\":7}}", 0, 0, 0, 0 },
	{ "{\"PeerPort\":7}x", 0, 0, 0, 0 },
	{ "{\"PeerPort\":7}\0", 15, 0, 0, 0 },
	{ "{\"PeerPort\":7", 0, 0, 0, 0 },
	{ "{\"PeerPort\"", 0, 0, 0, 0 },
	{ "{", 0, 0, 0, 0 },
	{ "", 0, 0, 0, 0 },
	{ "{\"PeerPort\":7}", 13, 0, 0, 0 },
	{ "{\"PeerPort\":12}", 14, 0, 0, 0 },
};

/* Two decoders: the daemon's (fast paths on), and the json-c path alone. */
static void
decoder_pair(struct proto_decoder **on, struct proto_decoder **off)
{
	*on = proto_decoder_new();
	*off = proto_decoder_new();
	ck_assert_ptr_nonnull(*on);
	ck_assert_ptr_nonnull(*off);
	proto_decoder_set_fast(*off, 0);
}

/* The daemon's decoder, and the json-c path alone, on one input. */
static void
assert_same_decode(const char *in, size_t len, int *rv,
    struct proto_registration *out)
{
	struct proto_decoder		*on, *off;
	struct proto_registration	 a, b;
	int				 ra, rb;

	decoder_pair(&on, &off);
	memset(&a, 0xa5, sizeof(a));
	memset(&b, 0x5a, sizeof(b));
	ra = proto_decode_registration(on, in, len, &a);
	rb = proto_decode_registration(off, in, len, &b);
	ck_assert_int_eq(ra, rb);
	if (ra == 0)
		ck_assert_mem_eq(&a, &b, sizeof(a));
	*rv = ra;
	*out = a;
	proto_decoder_free(on);
	proto_decoder_free(off);
}

START_TEST(test_fast_cases)
{
	struct proto_registration	 reg, dec;
	size_t				 len;
	int				 rv;

	len = fast_cases[_i].len ? fast_cases[_i].len :
	    strlen(fast_cases[_i].in);
	memset(&reg, 0xa5, sizeof(reg));
	ck_assert_int_eq(proto_fast_registration(fast_cases[_i].in, len,
	    &reg), fast_cases[_i].fast);
	assert_same_decode(fast_cases[_i].in, len, &rv, &dec);
	if (!fast_cases[_i].fast)
		return;
	ck_assert_uint_eq(reg.peer_port, fast_cases[_i].port);
	ck_assert_int_eq(reg.ack, fast_cases[_i].ack);
	ck_assert_int_eq(reg.has_local, 0);
	ck_assert_int_eq(rv, 0);
	ck_assert_mem_eq(&reg, &dec, sizeof(reg));
}
END_TEST

/* Every registration case decodes the same with the fast path off. */
START_TEST(test_fast_agrees)
{
	struct proto_registration	 reg;
	int				 rv;

	assert_same_decode(reg_cases[_i].in, reg_cases[_i].len, &rv, &reg);
	ck_assert_int_eq(rv, reg_cases[_i].ok ? 0 : -1);
}
END_TEST

/* The fast path keeps the size limit: padding past 512 bytes is refused. */
START_TEST(test_fast_size_limit)
{
	struct proto_registration	 reg;
	char				*buf;

	buf = padded_registration(PROTO_UDP_MAX, 0);
	ck_assert_int_eq(proto_fast_registration(buf, PROTO_UDP_MAX, &reg), 1);
	ck_assert_uint_eq(reg.peer_port, 42);
	free(buf);
	buf = padded_registration(PROTO_UDP_MAX + 1, 0);
	ck_assert_int_eq(proto_fast_registration(buf, PROTO_UDP_MAX + 1,
	    &reg), 0);
	free(buf);
}
END_TEST

/* Every request case decodes the same with the fast path off. */
START_TEST(test_fast_request_agrees)
{
	const struct req_case	*c = &req_cases[_i];
	struct proto_decoder	*on, *off;
	struct proto_request	 a, b;
	const char		*ra = "unset", *rb = "unset";

	decoder_pair(&on, &off);
	memset(&a, 0xa5, sizeof(a));
	memset(&b, 0x5a, sizeof(b));
	ck_assert_int_eq(proto_decode_request(on, c->in, c->len, &a, &ra),
	    proto_decode_request(off, c->in, c->len, &b, &rb));
	if (rb == NULL) {
		ck_assert_ptr_null(ra);
		ck_assert_mem_eq(&a, &b, sizeof(a));
	} else
		ck_assert_str_eq(ra, rb);
	proto_decoder_free(on);
	proto_decoder_free(off);
}
END_TEST

/* What the request fast path takes itself rather than leave to json-c. */
START_TEST(test_fast_request_takes)
{
	static const struct {
		const char	*in;
		int		 fast;
	} cases[] = {
		{ PEER("1") "\n", 1 },
		{ " {" LP("0") " , " CT("Server") "}\r\n", 1 },
		{ "{" CT("KeepAlive") "," LP("2147483647") "}", 1 },
		{ "{" RPP("3") "," CT("Client") "," RIP("\"::1\"") "," LP("1")
		    "}", 1 },
		{ "{" CT("Peer") "," LP("1") "," RIP("\"::ffff:1.2.3.4\"") ","
		    RPP("3") "}", 1 },
		{ "{" CT("Server") "," LP("1") "," REMOTE "}", 0 },
		{ "{" CT("Peer") "," LP("1") "}", 0 },
		{ "{" CT("Peer") "," LP("1") "," LP("1") "," REMOTE "}", 0 },
		{ "{" CT("Peer") "," LP("01") "," REMOTE "}", 0 },
		{ "{" CT("Peer") "," LP("1") "," RIP("\"1.2.3\"") "," RPP("3")
		    "}", 0 },
		{ "{" CT("Peer") "," LP("1") "," REMOTE ",\"Token\":"
		    "\"0123456789abcdef\"}", 0 },
		{ "{" CT("Server") "," LP("1") "}x", 0 },
	};
	struct proto_request	req;
	size_t			i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(proto_fast_request(cases[i].in,
		    strlen(cases[i].in), &req) == cases[i].fast, "case %zu", i);
}
END_TEST

/*
 * The stream form: a canonical request at the front of a buffer is taken
 * whatever follows it, with the whitespace before it; anything else,
 * including a request cut short, is left to the framer.
 */
START_TEST(test_fast_request_prefix)
{
	static const char	peer[] = PEER("1");
	static const struct {
		const char	*in;
		size_t		 used;
	} cases[] = {
		{ PEER("1"), sizeof(peer) - 1 },
		{ " \r\n" PEER("1") "\n", sizeof(peer) + 2 },
		{ PEER("1") PEER("2"), sizeof(peer) - 1 },
		{ PEER("1") "garbage", sizeof(peer) - 1 },
		{ "{" CT("Server") "," LP("1") "}{" CT("KeepAlive") "," LP("1")
		    "}", 2 + sizeof(CT("Server") "," LP("1")) - 1 },
		{ "{" CT("Peer") "," LP("1") "," REMOTE, 0 },
		{ "{" CT("Peer") "," LP("1") "," REMOTE ",\"Token\":\"x\"}",
		    0 },
		{ "x" PEER("1"), 0 },
		{ "", 0 },
	};
	struct proto_decoder	*on, *off;
	struct proto_request	 a, b;
	const char		*reason;
	size_t			 i, len, used;

	decoder_pair(&on, &off);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		len = strlen(cases[i].in);
		used = proto_decode_request_prefix(on, cases[i].in, len, &a);
		ck_assert_msg(used == cases[i].used, "case %zu: %zu", i, used);
		ck_assert_uint_eq(proto_decode_request_prefix(off,
		    cases[i].in, len, &b), 0);
		if (used == 0)
			continue;
		ck_assert_int_eq(proto_decode_request(off, cases[i].in, used,
		    &b, &reason), 0);
		ck_assert_mem_eq(&a, &b, sizeof(a));
	}
	proto_decoder_free(on);
	proto_decoder_free(off);
}
END_TEST

/* head, then [[...1 and, if close, ...]]} with that many brackets. */
static size_t
nested(char *buf, size_t size, const char *head, int brackets, int close)
{
	size_t	n = strlen(head);
	int	i;

	ck_assert_uint_lt(n + (close ? 2 : 1) * (size_t)brackets + 2, size);
	memcpy(buf, head, n);
	for (i = 0; i < brackets; i++)
		buf[n++] = '[';
	buf[n++] = '1';
	for (i = 0; close && i < brackets; i++)
		buf[n++] = ']';
	if (close)
		buf[n++] = '}';
	return (n);
}

START_TEST(test_depth)
{
	struct proto_decoder		*dec = proto_decoder_new();
	struct proto_registration	 reg;
	struct proto_request		 req;
	const char			*req_head, *reason;
	char				 buf[PROTO_REQUEST_MAX];
	size_t				 n;

	ck_assert_ptr_nonnull(dec);
	/* Fifteen levels, the object included, pass; sixteen do not. */
	n = nested(buf, sizeof(buf), "{\"PeerPort\":1,\"x\":", 14, 1);
	ck_assert_int_eq(proto_decode_registration(dec, buf, n, &reg), 0);
	n = nested(buf, sizeof(buf), "{\"PeerPort\":1,\"x\":", 15, 1);
	ck_assert_int_eq(proto_decode_registration(dec, buf, n, &reg), -1);
	n = nested(buf, PROTO_UDP_MAX, "{\"PeerPort\":1,\"x\":", 240, 1);
	ck_assert_int_eq(proto_decode_registration(dec, buf, n, &reg), -1);

	req_head = "{" CT("Server") "," LP("1") ",\"x\":";
	n = nested(buf, sizeof(buf), req_head, 14, 1);
	ck_assert_int_eq(proto_decode_request(dec, buf, n, &req, &reason), 0);
	n = nested(buf, sizeof(buf), req_head, 15, 1);
	ck_assert_int_eq(proto_decode_request(dec, buf, n, &req, &reason), -1);
	ck_assert_str_eq(reason, "nesting too deep");
	n = nested(buf, sizeof(buf), req_head, 1900, 1);
	ck_assert_int_eq(proto_decode_request(dec, buf, n, &req, &reason), -1);
	ck_assert_str_eq(reason, "nesting too deep");
	/* Unclosed: the depth limit, not the missing end, is the reason. */
	n = nested(buf, sizeof(buf), req_head, 3000, 0);
	ck_assert_int_eq(proto_decode_request(dec, buf, n, &req, &reason), -1);
	ck_assert_str_eq(reason, "nesting too deep");
	proto_decoder_free(dec);
}
END_TEST

START_TEST(test_request_size_limit)
{
	struct proto_decoder	*dec = proto_decoder_new();
	struct proto_request	 req;
	const char		*obj = "{" CT("Server") "," LP("7") ",\"p\":\"";
	const char		*reason;
	char			 buf[PROTO_REQUEST_MAX + 1];

	ck_assert_ptr_nonnull(dec);
	memset(buf, 'a', sizeof(buf));
	memcpy(buf, obj, strlen(obj));
	memcpy(buf + PROTO_REQUEST_MAX - 2, "\"}", 2);
	ck_assert_int_eq(proto_decode_request(dec, buf, PROTO_REQUEST_MAX,
	    &req, &reason), 0);
	ck_assert_uint_eq(req.local_peer_port, 7);
	memcpy(buf + PROTO_REQUEST_MAX - 2, "a\"}", 3);
	ck_assert_int_eq(proto_decode_request(dec, buf, PROTO_REQUEST_MAX + 1,
	    &req, &reason), -1);
	ck_assert_str_eq(reason, "request too large");
	proto_decoder_free(dec);
}
END_TEST

/* The one tokener is reset between decodes, whatever the last one did. */
START_TEST(test_decoder_reuse)
{
	static const char	*inputs[] = {
		"{\"PeerPort\":", "[[[[[[[[[[[[[[[[[[[[", "{\"PeerPort\":\"",
		"{\"PeerPort\":5}x", "{\"PeerPort\":1}",
	};
	struct proto_decoder		*dec = proto_decoder_new();
	struct proto_registration	 reg;
	struct proto_request		 req;
	const char			*reason;
	size_t				 i;
	int				 round;

	ck_assert_ptr_nonnull(dec);
	for (round = 0; round < 3; round++) {
		for (i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++)
			proto_decode_registration(dec, inputs[i],
			    strlen(inputs[i]), &reg);
		reg.peer_port = 0;
		ck_assert_int_eq(proto_decode_registration(dec,
		    "{\"PeerPort\":77}", 15, &reg), 0);
		ck_assert_uint_eq(reg.peer_port, 77);
		ck_assert_int_eq(proto_decode_request(dec, "{\"Conn", 6, &req,
		    &reason), -1);
		ck_assert_int_eq(proto_decode_request(dec, PEER("3"),
		    sizeof(PEER("3")) - 1, &req, &reason), 0);
		ck_assert_uint_eq(req.local_peer_port, 3);
	}
	proto_decoder_free(dec);
	proto_decoder_free(NULL);
}
END_TEST

START_TEST(test_conn_type_names)
{
	ck_assert_str_eq(proto_conn_type_name(CONN_PEER), "Peer");
	ck_assert_str_eq(proto_conn_type_name(CONN_SERVER), "Server");
	ck_assert_str_eq(proto_conn_type_name(CONN_CLIENT), "Client");
	ck_assert_str_eq(proto_conn_type_name(CONN_KEEPALIVE), "KeepAlive");
	ck_assert_str_eq(proto_conn_type_name(CONN__MAX), "unknown");
}
END_TEST

static Suite *
proto_suite(void)
{
	Suite	*s = suite_create("proto");
	TCase	*tc_reg = tcase_create("registration");
	TCase	*tc_req = tcase_create("request");

	tcase_add_loop_test(tc_reg, test_registration_cases, 0,
	    (int)(sizeof(reg_cases) / sizeof(reg_cases[0])));
	tcase_add_test(tc_reg, test_registration_size_limit);
	tcase_add_test(tc_reg, test_registration_extensions);
	tcase_add_loop_test(tc_reg, test_fast_cases, 0,
	    (int)(sizeof(fast_cases) / sizeof(fast_cases[0])));
	tcase_add_loop_test(tc_reg, test_fast_agrees, 0,
	    (int)(sizeof(reg_cases) / sizeof(reg_cases[0])));
	tcase_add_test(tc_reg, test_fast_size_limit);
	suite_add_tcase(s, tc_reg);

	tcase_add_loop_test(tc_req, test_request_cases, 0,
	    (int)(sizeof(req_cases) / sizeof(req_cases[0])));
	tcase_add_test(tc_req, test_depth);
	tcase_add_test(tc_req, test_request_size_limit);
	tcase_add_test(tc_req, test_decoder_reuse);
	tcase_add_test(tc_req, test_conn_type_names);
	tcase_add_loop_test(tc_req, test_fast_request_agrees, 0,
	    (int)(sizeof(req_cases) / sizeof(req_cases[0])));
	tcase_add_test(tc_req, test_fast_request_takes);
	tcase_add_test(tc_req, test_fast_request_prefix);
	suite_add_tcase(s, tc_req);
	return (s);
}

int
main(void)
{
	return (suite_run(proto_suite()));
}
