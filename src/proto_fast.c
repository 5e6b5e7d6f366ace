/*
 * Strict recognisers for the canonical registration and the canonical TCP
 * request, in front of json-c.
 *
 * Nearly every datagram the daemon takes in is {"PeerPort":N}, or
 * {"PeerPort":N,"Ack":true} padded with spaces.  json-c spends about
 * 6 600 instructions on each (a C locale created and freed per call, an
 * object tree built and freed); this spends about a hundred.  It accepts
 * only this grammar, where ws is JSON whitespace (space, tab, LF, CR):
 *
 *	ws { ws "PeerPort" ws : ws N ws [ , ws "Ack" ws : ws true ws ] } ws
 *
 * with the key names in exact case, N a decimal integer without sign,
 * fraction, exponent or leading zero (except 0 itself), at most
 * 2147483647, and the whole at most PROTO_UDP_MAX bytes.  Everything else,
 * however valid, answers "not canonical" and goes to the full decoder.
 *
 * Every input accepted here is accepted by the json-c path with the same
 * result; tests/fuzz/fuzz_fast_registration.c checks that on every input
 * it is given, and check_proto compares the two on fixed cases.  The
 * request recogniser further down works the same way.
 */
#include "autoconf.h"

#include <string.h>

#include "proto_fast.h"

/*
 * Byte classes, one table lookup each: JSON whitespace (space, tab, LF,
 * CR; not \f, \v or NUL), and the bytes of an IP literal's text.
 */
#define FAST_SPACE	0x01
#define FAST_IP_CHAR	0x02

static const uint8_t	fast_class[256] = {
	[' '] = FAST_SPACE, ['\t'] = FAST_SPACE, ['\n'] = FAST_SPACE,
	['\r'] = FAST_SPACE,
	['0'] = FAST_IP_CHAR, ['1'] = FAST_IP_CHAR, ['2'] = FAST_IP_CHAR,
	['3'] = FAST_IP_CHAR, ['4'] = FAST_IP_CHAR, ['5'] = FAST_IP_CHAR,
	['6'] = FAST_IP_CHAR, ['7'] = FAST_IP_CHAR, ['8'] = FAST_IP_CHAR,
	['9'] = FAST_IP_CHAR, ['a'] = FAST_IP_CHAR, ['b'] = FAST_IP_CHAR,
	['c'] = FAST_IP_CHAR, ['d'] = FAST_IP_CHAR, ['e'] = FAST_IP_CHAR,
	['f'] = FAST_IP_CHAR, ['A'] = FAST_IP_CHAR, ['B'] = FAST_IP_CHAR,
	['C'] = FAST_IP_CHAR, ['D'] = FAST_IP_CHAR, ['E'] = FAST_IP_CHAR,
	['F'] = FAST_IP_CHAR, [':'] = FAST_IP_CHAR, ['.'] = FAST_IP_CHAR,
};

#define FAST_IS(c, cls)	(fast_class[(unsigned char)(c)] & (cls))

static const char	*fast_space(const char *, const char *);
static int		 fast_end(const char *, const char *);
static const char	*fast_token(const char *, const char *, const char *,
			    size_t);
static const char	*fast_char(const char *, const char *, char);
static const char	*fast_port(const char *, const char *, uint32_t *);
static const char	*fast_key(const char *, const char *, int *);
static const char	*fast_type(const char *, const char *,
			    enum conn_type *);
static const char	*fast_ip(const char *, const char *, struct cb_ip *);
static const char	*fast_member(const char *, const char *,
			    struct proto_request *, unsigned int *);

/* Skips JSON whitespace from p; returns the first other byte (or end). */
static const char *
fast_space(const char *p, const char *end)
{
	while (p < end && FAST_IS(*p, FAST_SPACE))
		p++;
	return (p);
}

/*
 * Whether only whitespace is left from p.  Acknowledged registrations are
 * padded with spaces to 128 bytes (the reply may be no larger than the
 * request), so runs of eight spaces are skipped a word at a time.
 */
static int
fast_end(const char *p, const char *end)
{
	static const char	spaces[8] = "        ";

	while (end - p >= 8 && memcmp(p, spaces, 8) == 0)
		p += 8;
	return (fast_space(p, end) == end);
}

/* Matches the byte c at p; returns the byte after it, or NULL. */
static const char *
fast_char(const char *p, const char *end, char c)
{
	return (p < end && *p == c ? p + 1 : NULL);
}

/*
 * Matches a string literal at p; returns the byte after it, or NULL.
 * With the length a constant, the comparison compiles to a few loads.
 */
#define FAST_LITERAL(p, end, lit)	fast_token((p), (end), (lit),	\
					    sizeof(lit) - 1)

/* Matches tok (n bytes) at p; returns the byte after it, or NULL. */
static inline const char *
fast_token(const char *p, const char *end, const char *tok, size_t n)
{
	if ((size_t)(end - p) < n || memcmp(p, tok, n) != 0)
		return (NULL);
	return (p + n);
}

/*
 * Reads the digits of a PeerPort at p: 1 to 10 of them, no leading zero
 * unless the number is 0, at most PROTO_PEER_PORT_MAX.  Returns the byte
 * after them, or NULL.  What follows is the caller's to check; a '.',
 * 'e' or '-' there fails its next token test.
 */
static const char *
fast_port(const char *p, const char *end, uint32_t *out)
{
	uint64_t	n = 0;
	size_t		i;

	for (i = 0; p + i < end && (unsigned char)(p[i] - '0') < 10; i++) {
		if (i == 10)
			return (NULL);
		n = n * 10 + (uint64_t)(p[i] - '0');
	}
	if (i == 0 || (i > 1 && p[0] == '0') || n > PROTO_PEER_PORT_MAX)
		return (NULL);
	*out = (uint32_t)n;
	return (p + i);
}

/*
 * Recognises a canonical registration; returns 1 and fills reg, or 0 and
 * leaves reg alone.  The caller falls back to the full decoder on 0.
 */
int
proto_fast_registration(const char *buf, size_t len,
    struct proto_registration *reg)
{
	const char	*p, *end = buf + len;
	uint32_t	 port;
	int		 ack = 0;

	if (len > PROTO_UDP_MAX)
		return (0);
	p = fast_space(buf, end);
	if ((p = fast_char(p, end, '{')) == NULL)
		return (0);
	p = fast_space(p, end);
	if ((p = FAST_LITERAL(p, end, "\"PeerPort\"")) == NULL)
		return (0);
	p = fast_space(p, end);
	if ((p = fast_char(p, end, ':')) == NULL)
		return (0);
	p = fast_space(p, end);
	if ((p = fast_port(p, end, &port)) == NULL)
		return (0);
	p = fast_space(p, end);
	if (p < end && *p == ',') {
		p = fast_space(p + 1, end);
		if ((p = FAST_LITERAL(p, end, "\"Ack\"")) == NULL)
			return (0);
		p = fast_space(p, end);
		if ((p = fast_char(p, end, ':')) == NULL)
			return (0);
		p = fast_space(p, end);
		if ((p = FAST_LITERAL(p, end, "true")) == NULL)
			return (0);
		p = fast_space(p, end);
		ack = 1;
	}
	if ((p = fast_char(p, end, '}')) == NULL || !fast_end(p, end))
		return (0);
	memset(reg, 0, sizeof(*reg));
	reg->peer_port = port;
	reg->ack = ack;
	return (1);
}

/*
 * The canonical TCP request: an object of the four keys a client sends,
 * each at most once, in any order, exact case, with plain values:
 *
 *	"ConnectionType": "Peer" | "Server" | "Client" | "KeepAlive"
 *	"LocalPeerPort": N	"RemotePeerPort": N	(N as for PeerPort)
 *	"RemoteIP": "..."	(hex digits, ':' and '.', an IP literal)
 *
 * ConnectionType and LocalPeerPort present; for Peer and Client, RemoteIP
 * and RemotePeerPort too; for Server and KeepAlive, neither.  No escapes,
 * no other keys (a "Token" goes to json-c), at most PROTO_REQUEST_MAX
 * bytes.  tests/fuzz/fuzz_fast_request.c is its differential proof.
 */
enum fast_field {
	FAST_TYPE,
	FAST_LOCAL_PEER_PORT,
	FAST_REMOTE_IP,
	FAST_REMOTE_PEER_PORT
};

/*
 * Matches one of the four keys at p; returns the byte after it, or NULL.
 * The letter after the quote (and for "Remote..." the eighth) tells which
 * key it can only be, so one comparison decides.
 */
static const char *
fast_key(const char *p, const char *end, int *key)
{
	if (end - p < 10)
		return (NULL);
	switch (p[1]) {
	case 'C':
		*key = FAST_TYPE;
		return (FAST_LITERAL(p, end, "\"ConnectionType\""));
	case 'L':
		*key = FAST_LOCAL_PEER_PORT;
		return (FAST_LITERAL(p, end, "\"LocalPeerPort\""));
	case 'R':
		if (p[7] == 'I') {
			*key = FAST_REMOTE_IP;
			return (FAST_LITERAL(p, end, "\"RemoteIP\""));
		}
		*key = FAST_REMOTE_PEER_PORT;
		return (FAST_LITERAL(p, end, "\"RemotePeerPort\""));
	default:
		return (NULL);
	}
}

/*
 * Matches a ConnectionType value at p; returns the byte after it.  As
 * for the keys, the first letter decides.
 */
static const char *
fast_type(const char *p, const char *end, enum conn_type *type)
{
	if (end - p < 6)
		return (NULL);
	switch (p[1]) {
	case 'P':
		*type = CONN_PEER;
		return (FAST_LITERAL(p, end, "\"Peer\""));
	case 'S':
		*type = CONN_SERVER;
		return (FAST_LITERAL(p, end, "\"Server\""));
	case 'C':
		*type = CONN_CLIENT;
		return (FAST_LITERAL(p, end, "\"Client\""));
	case 'K':
		*type = CONN_KEEPALIVE;
		return (FAST_LITERAL(p, end, "\"KeepAlive\""));
	default:
		return (NULL);
	}
}

/*
 * Reads a quoted IP literal at p: only hex digits, ':' and '.', so the
 * JSON string is its own text, which cb_ip_parse() then checks exactly as
 * the json-c path does.  Returns the byte after the closing quote.
 */
static const char *
fast_ip(const char *p, const char *end, struct cb_ip *ip)
{
	char	text[CB_IP_STRLEN];
	size_t	i;

	if ((p = fast_char(p, end, '"')) == NULL)
		return (NULL);
	for (i = 0; p + i < end && FAST_IS(p[i], FAST_IP_CHAR); i++)
		if (i == sizeof(text) - 1)
			return (NULL);
	if (p + i == end || p[i] != '"')
		return (NULL);
	memcpy(text, p, i);
	text[i] = '\0';
	if (cb_ip_parse(ip, text) == -1)
		return (NULL);
	return (p + i + 1);
}

/*
 * Reads one member at p into req, refusing a key already in *seen.
 * Returns the byte after its value, or NULL.
 */
static const char *
fast_member(const char *p, const char *end, struct proto_request *req,
    unsigned int *seen)
{
	int	key;

	if ((p = fast_key(p, end, &key)) == NULL || (*seen & (1U << key)))
		return (NULL);
	*seen |= 1U << key;
	p = fast_space(p, end);
	if ((p = fast_char(p, end, ':')) == NULL)
		return (NULL);
	p = fast_space(p, end);
	switch (key) {
	case FAST_TYPE:
		return (fast_type(p, end, &req->type));
	case FAST_LOCAL_PEER_PORT:
		return (fast_port(p, end, &req->local_peer_port));
	case FAST_REMOTE_IP:
		return (fast_ip(p, end, &req->remote_ip));
	default:
		return (fast_port(p, end, &req->remote_peer_port));
	}
}

/*
 * Recognises a canonical request; returns 1 and fills req, or 0 (req
 * then holds rubbish: the caller decodes it again in full).
 */
int
proto_fast_request(const char *buf, size_t len, struct proto_request *req)
{
	size_t	n;

	if (len > PROTO_REQUEST_MAX ||
	    (n = proto_fast_request_prefix(buf, len, req)) == 0)
		return (0);
	return (fast_end(buf + n, buf + len));
}

/*
 * Recognises a canonical request at the start of buf, whatever follows
 * it; returns the bytes up to its closing brace (the whitespace before
 * it included) and fills req, or 0.  Inside a canonical request no
 * string holds a brace, bracket, quote or backslash, so the framer would
 * end the frame at the same brace: the caller may skip framing.
 */
size_t
proto_fast_request_prefix(const char *buf, size_t len,
    struct proto_request *req)
{
	const char	*p, *open, *end = buf + len;
	unsigned int	 seen = 0, remote;

	memset(req, 0, sizeof(*req));
	open = fast_space(buf, end);
	if ((p = fast_char(open, end, '{')) == NULL)
		return (0);
	for (;;) {
		p = fast_space(p, end);
		if ((p = fast_member(p, end, req, &seen)) == NULL)
			return (0);
		p = fast_space(p, end);
		if (p == end || *p != ',')
			break;
		p++;
	}
	if ((p = fast_char(p, end, '}')) == NULL ||
	    p - open > PROTO_REQUEST_MAX)
		return (0);
	remote = (1U << FAST_REMOTE_IP) | (1U << FAST_REMOTE_PEER_PORT);
	if ((seen & ~remote) != ((1U << FAST_TYPE) |
	    (1U << FAST_LOCAL_PEER_PORT)))
		return (0);
	if (req->type == CONN_PEER || req->type == CONN_CLIENT)
		return ((seen & remote) == remote ? (size_t)(p - buf) : 0);
	return ((seen & remote) == 0 ? (size_t)(p - buf) : 0);
}
