/*
 * The JSON codec for what clients send: a UDP registration
 * {"PeerPort":N} (with the optional "Ack", "LocalIP", "LocalPort" and
 * "Token" of the contract's section 9) and a TCP request
 * {"ConnectionType":..., "LocalPeerPort":..., "RemoteIP":...,
 * "RemotePeerPort":...} (and "Token"), decoded into plain structs.
 *
 * json-c builds the tree; one tokener is reused for every decode.  Its
 * strict mode is not as strict as JSON (and the Go decoder the original
 * server used): json-c 0.16 accepts raw control characters in strings,
 * single-quoted strings, NaN and Infinity, "5." and "-01", and stops at a
 * NUL byte as if the input ended there.  proto_lex() therefore checks the
 * tokens first and json-c checks the grammar.  json-c also cuts an object
 * key at an escaped NUL ("a\u0000b" becomes "a"), so a string holding
 * U+0000 is refused rather than risk a key matching that the client did
 * not send.
 *
 * Key names match case-insensitively (ASCII), an exact match winning, as
 * the original decoder did.  Reasons are static strings and never echo
 * client bytes.
 */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "proto.h"
#include "proto_fast.h"

/*
 * The tokener's depth.  Clients send flat objects; an unknown key's value
 * may nest a little.  json-c accepts at most depth - 1 nested levels, the
 * request object included.
 */
#define PROTO_MAX_DEPTH		16

/* The keys clients send, with the reasons given when one is bad. */
enum proto_field {
	FIELD_PEER_PORT,
	FIELD_REMOTE_IP,
	FIELD_REMOTE_PEER_PORT,
	FIELD_LOCAL_PEER_PORT,
	FIELD_CONNECTION_TYPE,
	FIELD_ACK,
	FIELD_LOCAL_IP,
	FIELD_LOCAL_PORT,
	FIELD_TOKEN,
	FIELD__MAX
};

static const struct proto_field_desc {
	const char	*name;
	const char	*missing;
	const char	*invalid;
} proto_fields[FIELD__MAX] = {
	[FIELD_PEER_PORT] = { "PeerPort", "missing PeerPort",
	    "PeerPort must be an integer from 0 to 2147483647" },
	[FIELD_REMOTE_IP] = { "RemoteIP", "missing RemoteIP",
	    "RemoteIP must be an IP address literal" },
	[FIELD_REMOTE_PEER_PORT] = { "RemotePeerPort",
	    "missing RemotePeerPort",
	    "RemotePeerPort must be an integer from 0 to 2147483647" },
	[FIELD_LOCAL_PEER_PORT] = { "LocalPeerPort", "missing LocalPeerPort",
	    "LocalPeerPort must be an integer from 0 to 2147483647" },
	[FIELD_CONNECTION_TYPE] = { "ConnectionType",
	    "missing ConnectionType", "ConnectionType must be a string" },
	[FIELD_ACK] = { "Ack", NULL, NULL },
	[FIELD_LOCAL_IP] = { "LocalIP", "missing LocalIP",
	    "LocalIP must be an IP address literal" },
	[FIELD_LOCAL_PORT] = { "LocalPort", "missing LocalPort",
	    "LocalPort must be an integer from 1 to 65535" },
	[FIELD_TOKEN] = { "Token", NULL,
	    "Token must be a string of 16 to 64 bytes" },
};

/* ConnectionType values, case-sensitive, and whether they name a peer. */
static const struct proto_conn_desc {
	const char	*name;
	int		 has_remote;	/* RemoteIP and RemotePeerPort needed */
} proto_conns[CONN__MAX] = {
	[CONN_PEER] = { "Peer", 1 },
	[CONN_SERVER] = { "Server", 0 },
	[CONN_CLIENT] = { "Client", 1 },
	[CONN_KEEPALIVE] = { "KeepAlive", 0 },
};

struct proto_decoder {
	struct json_tokener	*tok;
	int			 fast;	/* try proto_fast_registration() */
};

static int	 proto_is_space(char);
static size_t	 proto_lex_string(const char *, size_t);
static size_t	 proto_lex_digits(const char *, size_t, size_t);
static size_t	 proto_lex_number(const char *, size_t);
static size_t	 proto_lex_literal(const char *, size_t);
static int	 proto_lex(const char *, size_t);
static const char *proto_parse(struct proto_decoder *, const char *, size_t,
		    struct json_object **);
static int	 proto_key_equal(const char *, const char *);
static int	 proto_find(struct json_object *, enum proto_field,
		    struct json_object **);
static const char *proto_get_port(struct json_object *, enum proto_field,
		    uint32_t *);
static const char *proto_get_type(struct json_object *, enum conn_type *);
static const char *proto_get_ip(struct json_object *, enum proto_field,
		    struct cb_ip *);
static const char *proto_get_token(struct json_object *, char *,
		    size_t *);
static const char *proto_registration_ext(struct json_object *,
		    struct proto_registration *);
static const char *proto_request_fields(struct json_object *,
		    struct proto_request *);

/* Allocates a decoder; returns NULL if memory is short. */
struct proto_decoder *
proto_decoder_new(void)
{
	struct proto_decoder	*dec;

	if ((dec = malloc(sizeof(*dec))) == NULL)
		return (NULL);
	if ((dec->tok = json_tokener_new_ex(PROTO_MAX_DEPTH)) == NULL) {
		free(dec);
		return (NULL);
	}
	json_tokener_set_flags(dec->tok, JSON_TOKENER_STRICT);
	dec->fast = 1;
	return (dec);
}

/* Turns the canonical-registration fast path off (0) or on. */
void
proto_decoder_set_fast(struct proto_decoder *dec, int on)
{
	dec->fast = on != 0;
}

/* Frees a decoder and its tokener; NULL is allowed. */
void
proto_decoder_free(struct proto_decoder *dec)
{
	if (dec == NULL)
		return;
	json_tokener_free(dec->tok);
	free(dec);
}

/* Whitespace as JSON defines it. */
static int
proto_is_space(char c)
{
	return (c == ' ' || c == '\t' || c == '\n' || c == '\r');
}

/*
 * The length of the string token at p[0] == '"', quotes included, or 0 if
 * it holds a raw control character or an escaped NUL, or never closes.
 * The escapes themselves are json-c's to check.
 */
static size_t
proto_lex_string(const char *p, size_t n)
{
	size_t	i;

	for (i = 1; i < n; i++) {
		if ((unsigned char)p[i] < 0x20)
			return (0);
		if (p[i] == '"')
			return (i + 1);
		if (p[i] != '\\')
			continue;
		if (++i == n || (unsigned char)p[i] < 0x20)
			return (0);
		if (p[i] == 'u' && n - i > 4 &&
		    memcmp(p + i + 1, "0000", 4) == 0)
			return (0);
	}
	return (0);
}

/* Skips the digits from p[i]; returns the index after them. */
static size_t
proto_lex_digits(const char *p, size_t n, size_t i)
{
	while (i < n && p[i] >= '0' && p[i] <= '9')
		i++;
	return (i);
}

/*
 * The length of the number token at p, or 0 if it is not one as JSON
 * writes it: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, followed by
 * something that is not part of a number.
 */
static size_t
proto_lex_number(const char *p, size_t n)
{
	size_t	i = 0, j;

	if (p[i] == '-')
		i++;
	if (i < n && p[i] == '0')
		i++;
	else if ((j = proto_lex_digits(p, n, i)) > i)
		i = j;
	else
		return (0);
	if (i < n && p[i] == '.') {
		if ((j = proto_lex_digits(p, n, i + 1)) == i + 1)
			return (0);
		i = j;
	}
	if (i < n && (p[i] == 'e' || p[i] == 'E')) {
		i++;
		if (i < n && (p[i] == '+' || p[i] == '-'))
			i++;
		if ((j = proto_lex_digits(p, n, i)) == i)
			return (0);
		i = j;
	}
	/* Otherwise json-c would read "-01" as -1. */
	if (i < n && p[i] != '\0' && strchr("0123456789.eE+-", p[i]) != NULL)
		return (0);
	return (i);
}

/* The length of true, false or null at p, or 0. */
static size_t
proto_lex_literal(const char *p, size_t n)
{
	static const char	*literals[] = { "true", "false", "null" };
	size_t			 i, len;

	for (i = 0; i < sizeof(literals) / sizeof(literals[0]); i++) {
		len = strlen(literals[i]);
		if (n >= len && memcmp(p, literals[i], len) == 0)
			return (len);
	}
	return (0);
}

/*
 * Checks that buf is made only of JSON tokens and whitespace, catching
 * what json-c's strict mode lets through (see the top of this file).
 * Returns 0 or -1.
 */
static int
proto_lex(const char *buf, size_t len)
{
	size_t	i, n;
	char	c;

	for (i = 0; i < len; i += n) {
		c = buf[i];
		if (c == '"')
			n = proto_lex_string(buf + i, len - i);
		else if (c == '-' || (c >= '0' && c <= '9'))
			n = proto_lex_number(buf + i, len - i);
		else if (c == 't' || c == 'f' || c == 'n')
			n = proto_lex_literal(buf + i, len - i);
		else if (proto_is_space(c) || c == '{' || c == '}' ||
		    c == '[' || c == ']' || c == ':' || c == ',')
			n = 1;	/* not strchr(): 20 Ir per padding space */
		else
			n = 0;
		if (n == 0)
			return (-1);
	}
	return (0);
}

/*
 * Parses buf, which must be one JSON object and optional whitespace.
 * Returns NULL and the object in *out (the caller puts it), or a reason.
 */
static const char *
proto_parse(struct proto_decoder *dec, const char *buf, size_t len,
    struct json_object **out)
{
	struct json_object	*obj;
	enum json_tokener_error	 err;
	size_t			 i;

	if (proto_lex(buf, len) == -1)
		return ("malformed JSON");
	for (i = 0; i < len && proto_is_space(buf[i]); i++)
		;
	if (i == len)
		return ("malformed JSON");
	if (buf[i] != '{')
		return ("not a JSON object");
	json_tokener_reset(dec->tok);
	obj = json_tokener_parse_ex(dec->tok, buf, (int)len);
	if (obj == NULL) {
		err = json_tokener_get_error(dec->tok);
		return (err == json_tokener_error_depth ? "nesting too deep" :
		    "malformed JSON");
	}
	for (i = json_tokener_get_parse_end(dec->tok); i < len; i++) {
		if (!proto_is_space(buf[i])) {
			json_object_put(obj);
			return ("malformed JSON");
		}
	}
	if (!json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		return ("not a JSON object");
	}
	*out = obj;
	return (NULL);
}

/* Compares two key names, folding ASCII case only. */
static int
proto_key_equal(const char *a, const char *b)
{
	unsigned char	ca, cb;

	do {
		ca = (unsigned char)*a++;
		cb = (unsigned char)*b++;
		if (ca >= 'A' && ca <= 'Z')
			ca += 'a' - 'A';
		if (cb >= 'A' && cb <= 'Z')
			cb += 'a' - 'A';
	} while (ca == cb && ca != '\0');
	return (ca == cb);
}

/*
 * Finds a field's value in obj: the exact key if present, else the last
 * key equal to it ignoring case.  Returns 1 and the value in *out (NULL
 * for a JSON null), or 0 if there is no such key.
 */
static int
proto_find(struct json_object *obj, enum proto_field field,
    struct json_object **out)
{
	const char	*name = proto_fields[field].name;
	int		 found = 0;

	if (json_object_object_get_ex(obj, name, out))
		return (1);
	json_object_object_foreach(obj, key, value) {
		if (proto_key_equal(key, name)) {
			*out = value;
			found = 1;
		}
	}
	return (found);
}

/* Reads a PeerPort-style field: a JSON integer in 0..2147483647. */
static const char *
proto_get_port(struct json_object *obj, enum proto_field field,
    uint32_t *out)
{
	struct json_object	*v;
	int64_t			 n;

	if (!proto_find(obj, field, &v))
		return (proto_fields[field].missing);
	/* json-c clamps integers too large for int64_t, never wraps. */
	if (!json_object_is_type(v, json_type_int))
		return (proto_fields[field].invalid);
	n = json_object_get_int64(v);
	if (n < 0 || n > PROTO_PEER_PORT_MAX)
		return (proto_fields[field].invalid);
	*out = (uint32_t)n;
	return (NULL);
}

/* Reads ConnectionType, which must be one of the names exactly. */
static const char *
proto_get_type(struct json_object *obj, enum conn_type *out)
{
	struct json_object	*v;
	const char		*s;
	size_t			 len;
	int			 t;

	if (!proto_find(obj, FIELD_CONNECTION_TYPE, &v))
		return (proto_fields[FIELD_CONNECTION_TYPE].missing);
	if (!json_object_is_type(v, json_type_string))
		return (proto_fields[FIELD_CONNECTION_TYPE].invalid);
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	for (t = 0; t < CONN__MAX; t++) {
		if (strlen(proto_conns[t].name) == len &&
		    memcmp(proto_conns[t].name, s, len) == 0) {
			*out = (enum conn_type)t;
			return (NULL);
		}
	}
	return ("unknown ConnectionType");
}

/* Reads RemoteIP or LocalIP, an IPv4 or IPv6 literal. */
static const char *
proto_get_ip(struct json_object *obj, enum proto_field field,
    struct cb_ip *out)
{
	struct json_object	*v;
	const char		*s;

	if (!proto_find(obj, field, &v))
		return (proto_fields[field].missing);
	if (!json_object_is_type(v, json_type_string))
		return (proto_fields[field].invalid);
	s = json_object_get_string(v);
	if (strlen(s) != (size_t)json_object_get_string_len(v) ||
	    cb_ip_parse(out, s) == -1)
		return (proto_fields[field].invalid);
	return (NULL);
}

/*
 * Reads the optional anti-hijack token: absent leaves *len 0; anything
 * but a string of PROTO_TOKEN_MIN to PROTO_TOKEN_MAX bytes is an error.
 */
static const char *
proto_get_token(struct json_object *obj, char *token, size_t *len)
{
	struct json_object	*v;
	int			 n;

	*len = 0;
	if (!proto_find(obj, FIELD_TOKEN, &v))
		return (NULL);
	if (!json_object_is_type(v, json_type_string))
		return (proto_fields[FIELD_TOKEN].invalid);
	n = json_object_get_string_len(v);
	if (n < PROTO_TOKEN_MIN || n > PROTO_TOKEN_MAX)
		return (proto_fields[FIELD_TOKEN].invalid);
	memcpy(token, json_object_get_string(v), (size_t)n);
	*len = (size_t)n;
	return (NULL);
}

/*
 * Reads the registration extensions.  "Ack" asks for a reply only when it
 * is JSON true; any other value is as if it were absent.  LocalIP and
 * LocalPort come as a pair: either one missing or invalid while the other
 * is present makes the whole registration invalid (the strict reading).
 */
static const char *
proto_registration_ext(struct json_object *obj,
    struct proto_registration *reg)
{
	struct json_object	*v;
	const char		*reason;
	uint32_t		 port;

	reg->ack = proto_find(obj, FIELD_ACK, &v) &&
	    json_object_is_type(v, json_type_boolean) &&
	    json_object_get_boolean(v);
	if ((reason = proto_get_token(obj, reg->token,
	    &reg->token_len)) != NULL)
		return (reason);
	if (!proto_find(obj, FIELD_LOCAL_IP, &v) &&
	    !proto_find(obj, FIELD_LOCAL_PORT, &v))
		return (NULL);
	if ((reason = proto_get_ip(obj, FIELD_LOCAL_IP,
	    &reg->local_ip)) != NULL ||
	    (reason = proto_get_port(obj, FIELD_LOCAL_PORT, &port)) != NULL)
		return (reason);
	if (port < 1 || port > 65535)
		return (proto_fields[FIELD_LOCAL_PORT].invalid);
	reg->local_port = (uint16_t)port;
	reg->has_local = 1;
	return (NULL);
}

/* Fills a request from a parsed object; returns NULL or a reason. */
static const char *
proto_request_fields(struct json_object *obj, struct proto_request *req)
{
	const char	*reason;

	if ((reason = proto_get_type(obj, &req->type)) != NULL ||
	    (reason = proto_get_port(obj, FIELD_LOCAL_PEER_PORT,
	    &req->local_peer_port)) != NULL ||
	    (reason = proto_get_token(obj, req->token,
	    &req->token_len)) != NULL)
		return (reason);
	if (!proto_conns[req->type].has_remote)
		return (NULL);
	if ((reason = proto_get_ip(obj, FIELD_REMOTE_IP,
	    &req->remote_ip)) != NULL ||
	    (reason = proto_get_port(obj, FIELD_REMOTE_PEER_PORT,
	    &req->remote_peer_port)) != NULL)
		return (reason);
	return (NULL);
}

/*
 * Decodes a registration datagram: one object, then only whitespace, with
 * a valid PeerPort and, if it names one, a valid local endpoint.  Returns
 * 0, or -1 if the datagram is to be dropped.
 */
int
proto_decode_registration(struct proto_decoder *dec, const char *buf,
    size_t len, struct proto_registration *reg)
{
	struct json_object	*obj;
	const char		*reason;

	/* The canonical form needs no json-c (proto_fast.c). */
	if (dec->fast && proto_fast_registration(buf, len, reg))
		return (0);
	memset(reg, 0, sizeof(*reg));
	if (len > PROTO_UDP_MAX || proto_parse(dec, buf, len, &obj) != NULL)
		return (-1);
	if ((reason = proto_get_port(obj, FIELD_PEER_PORT,
	    &reg->peer_port)) == NULL)
		reason = proto_registration_ext(obj, reg);
	json_object_put(obj);
	return (reason == NULL ? 0 : -1);
}

/*
 * Decodes one framed request object.  Returns 0, or -1 with a short
 * static reason in *reason (the caller prefixes "invalid request: ").
 */
int
proto_decode_request(struct proto_decoder *dec, const char *buf, size_t len,
    struct proto_request *req, const char **reason)
{
	struct json_object	*obj;

	/* The canonical form needs no json-c (proto_fast.c). */
	if (dec->fast && proto_fast_request(buf, len, req)) {
		*reason = NULL;
		return (0);
	}
	memset(req, 0, sizeof(*req));
	if (len > PROTO_REQUEST_MAX) {
		*reason = "request too large";
		return (-1);
	}
	if ((*reason = proto_parse(dec, buf, len, &obj)) != NULL)
		return (-1);
	*reason = proto_request_fields(obj, req);
	json_object_put(obj);
	return (*reason == NULL ? 0 : -1);
}

/*
 * Takes a canonical request off the front of a stream without framing
 * it: returns the bytes it used, the whitespace before it included, and
 * fills req; or 0 when the stream does not start with a complete
 * canonical request, which then needs the framer and
 * proto_decode_request().  Both ways give the same request and consume
 * the same bytes (tests/fuzz/fuzz_fast_request.c).
 */
size_t
proto_decode_request_prefix(struct proto_decoder *dec, const char *buf,
    size_t len, struct proto_request *req)
{
	if (!dec->fast)
		return (0);
	return (proto_fast_request_prefix(buf, len, req));
}

/* The wire name of a connection type. */
const char *
proto_conn_type_name(enum conn_type type)
{
	if ((unsigned int)type >= CONN__MAX)
		return ("unknown");
	return (proto_conns[type].name);
}
