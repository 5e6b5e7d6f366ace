/*
 * What libcontainment_breach puts on the wire and reads from it.
 *
 * The daemon's lines are parsed with json-c, not by position: the
 * response may grow keys (DestLocalIP and DestLocalPort do already), and
 * a key's absence or wrong type is an error, never a zero taken on trust.
 * Requests and registrations are short and fixed, so they are written
 * with snprintf; the only strings in them are IP literals this library
 * formatted itself, which need no escaping.
 */
#include "autoconf.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/util.h>
#include <json-c/json.h>

#include "cbc_wire.h"

static const unsigned char v4mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

static int	 copy(char *, size_t, const char *, size_t);
static int	 get_int(struct json_object *, const char *, long long,
		    long long, long long *);
static int	 get_str(struct json_object *, const char *, char *, size_t);
static struct json_object *parse_object(const char *, size_t);

/* Copies n bytes and a NUL into dst; -1 if they do not fit. */
static int
copy(char *dst, size_t size, const char *src, size_t n)
{
	if (n >= size)
		return (-1);
	memcpy(dst, src, n);
	dst[n] = '\0';
	return (0);
}

/*
 * Splits "HOST:PORT", "[V6]:PORT", "V4", "V6" or "[V6]" into host and
 * port (port "" when absent).  need_port: the port is required.
 */
int
cbc_parse_hostport(const char *text, int need_port, char *host,
    size_t hostsz, char *port, size_t portsz)
{
	const char	*close, *colon;

	port[0] = '\0';
	if (text[0] == '[') {
		if ((close = strchr(text, ']')) == NULL ||
		    copy(host, hostsz, text + 1, (size_t)(close - text - 1)))
			return (-1);
		if (close[1] == ':')
			return (copy(port, portsz, close + 2,
			    strlen(close + 2)) == -1 || port[0] == '\0' ? -1 :
			    0);
		return (close[1] != '\0' || need_port ? -1 : 0);
	}
	colon = strchr(text, ':');
	if (colon != NULL && strchr(colon + 1, ':') != NULL)
		colon = NULL;		/* a bare IPv6 literal */
	if (colon == NULL)
		return (need_port ? -1 : copy(host, hostsz, text,
		    strlen(text)));
	if (copy(host, hostsz, text, (size_t)(colon - text)) == -1 ||
	    copy(port, portsz, colon + 1, strlen(colon + 1)) == -1)
		return (-1);
	return (port[0] == '\0' || host[0] == '\0' ? -1 : 0);
}

/*
 * A sockaddr of the given family for an IP literal and port: IPv4 goes
 * into an AF_INET6 socket as ::ffff:a.b.c.d.  -1 if it cannot.
 */
int
cbc_sockaddr_from(const char *ip, uint16_t port, int family,
    struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)(void *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)(void *)ss;
	struct in_addr		 v4;
	struct in6_addr		 v6;
	int			 is_v4;

	memset(ss, 0, sizeof(*ss));
	if ((is_v4 = inet_pton(AF_INET, ip, &v4)) != 1 &&
	    inet_pton(AF_INET6, ip, &v6) != 1)
		return (-1);
	if (!is_v4 && memcmp(&v6, v4mapped, sizeof(v4mapped)) == 0) {
		memcpy(&v4, (unsigned char *)&v6 + 12, 4);
		is_v4 = 1;
	}
	if (family == AF_INET) {
		if (!is_v4)
			return (-1);
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sin->sin_addr = v4;
		*len = sizeof(*sin);
		return (0);
	}
	if (is_v4) {
		memcpy(&v6, v4mapped, sizeof(v4mapped));
		memcpy((unsigned char *)&v6 + 12, &v4, 4);
	}
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	sin6->sin6_addr = v6;
	*len = sizeof(*sin6);
	return (0);
}

/* "a.b.c.d:p" (IPv4-mapped too) or "[v6]:p"; the IP alone if !with_port. */
static const char *
format_addr(const struct sockaddr *sa, char *buf, size_t size,
    int with_port)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;
	char				 ip[INET6_ADDRSTRLEN];
	unsigned int			 port = 0;
	int				 v6 = 0;

	if (sa->sa_family == AF_INET) {
		sin = (const struct sockaddr_in *)(const void *)sa;
		inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
		port = ntohs(sin->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		if (memcmp(&sin6->sin6_addr, v4mapped, 12) == 0)
			inet_ntop(AF_INET, (const unsigned char *)
			    &sin6->sin6_addr + 12, ip, sizeof(ip));
		else {
			inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
			v6 = 1;
		}
		port = ntohs(sin6->sin6_port);
	} else
		snprintf(ip, sizeof(ip), "?");
	if (!with_port)
		snprintf(buf, size, "%s", ip);
	else
		snprintf(buf, size, v6 ? "[%s]:%u" : "%s:%u", ip, port);
	return (buf);
}

const char *
cbc_format_endpoint(const struct sockaddr *sa, char *buf, size_t size)
{
	return (format_addr(sa, buf, size, 1));
}

/* Same family, address and port. */
int
cbc_sockaddr_equal(const struct sockaddr *a, const struct sockaddr *b)
{
	const struct sockaddr_in	*a4, *b4;
	const struct sockaddr_in6	*a6, *b6;

	if (a->sa_family != b->sa_family)
		return (0);
	if (a->sa_family == AF_INET) {
		a4 = (const struct sockaddr_in *)(const void *)a;
		b4 = (const struct sockaddr_in *)(const void *)b;
		return (a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr);
	}
	if (a->sa_family == AF_INET6) {
		a6 = (const struct sockaddr_in6 *)(const void *)a;
		b6 = (const struct sockaddr_in6 *)(const void *)b;
		return (a6->sin6_port == b6->sin6_port &&
		    memcmp(&a6->sin6_addr, &b6->sin6_addr, 16) == 0);
	}
	return (0);
}

/*
 * Whether a token can go on the wire as it is: 16 to 64 printable ASCII
 * bytes that need no JSON escape.
 */
int
cbc_token_valid(const char *token)
{
	size_t	i, len = strlen(token);

	if (len < CBC_TOKEN_MIN || len > CBC_TOKEN_MAX)
		return (0);
	for (i = 0; i < len; i++) {
		if (token[i] <= ' ' || token[i] > '~' || token[i] == '"' ||
		    token[i] == '\\')
			return (0);
	}
	return (1);
}

/* ,"Token":"..." for a token (valid), or nothing for NULL or "". */
static void
token_member(char *buf, size_t size, const char *token)
{
	if (token == NULL || *token == '\0')
		*buf = '\0';
	else
		snprintf(buf, size, ",\"Token\":\"%s\"", token);
}

/*
 * The registration datagram, asking for an Ack, with the LAN endpoint if
 * local is not NULL and the token if not NULL, padded with spaces so that
 * the Ack (at most about 122 bytes) is never larger.  Returns its length
 * or -1.
 */
int
cbc_registration(char *buf, size_t size, uint32_t peer_port,
    const struct sockaddr *local, const char *token)
{
	char	ip[INET6_ADDRSTRLEN], port[8], tok[CBC_TOKEN_MAX + 16];
	int	n;

	token_member(tok, sizeof(tok), token);

	if (local != NULL) {
		format_addr(local, ip, sizeof(ip), 0);
		snprintf(port, sizeof(port), "%u", ntohs(local->sa_family ==
		    AF_INET ? ((const struct sockaddr_in *)(const void *)
		    local)->sin_port : ((const struct sockaddr_in6 *)
		    (const void *)local)->sin6_port));
		n = snprintf(buf, size, "{\"PeerPort\":%u,\"Ack\":true,"
		    "\"LocalIP\":\"%s\",\"LocalPort\":%s%s}", peer_port, ip,
		    port, tok);
	} else
		n = snprintf(buf, size, "{\"PeerPort\":%u,\"Ack\":true%s}",
		    peer_port, tok);
	if (n < 0 || (size_t)n >= size || size <= CBC_REG_PAD)
		return (-1);
	while (n < CBC_REG_PAD)
		buf[n++] = ' ';
	buf[n] = '\0';
	return (n);
}

/*
 * One request line; remote_ip NULL for Server and KeepAlive, token NULL
 * for none.
 */
int
cbc_request(char *buf, size_t size, const char *type, uint32_t local_pp,
    const char *remote_ip, uint32_t remote_pp, const char *token)
{
	char	tok[CBC_TOKEN_MAX + 16];
	int	n;

	token_member(tok, sizeof(tok), token);
	if (remote_ip != NULL)
		n = snprintf(buf, size, "{\"RemoteIP\":\"%s\","
		    "\"RemotePeerPort\":%u,\"LocalPeerPort\":%u,"
		    "\"ConnectionType\":\"%s\"%s}\n", remote_ip, remote_pp,
		    local_pp, type, tok);
	else
		n = snprintf(buf, size, "{\"LocalPeerPort\":%u,"
		    "\"ConnectionType\":\"%s\"%s}\n", local_pp, type, tok);
	return (n < 0 || (size_t)n >= size ? -1 : n);
}

static struct json_object *
parse_object(const char *buf, size_t len)
{
	struct json_tokener	*tok;
	struct json_object	*obj;

	if ((tok = json_tokener_new()) == NULL)
		return (NULL);
	obj = json_tokener_parse_ex(tok, buf, (int)len);
	json_tokener_free(tok);
	if (obj != NULL && !json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		return (NULL);
	}
	return (obj);
}

static int
get_int(struct json_object *obj, const char *key, long long min,
    long long max, long long *out)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_int))
		return (-1);
	*out = json_object_get_int64(v);
	return (*out < min || *out > max ? -1 : 0);
}

static int
get_str(struct json_object *obj, const char *key, char *buf, size_t size)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return (-1);
	return (copy(buf, size, json_object_get_string(v),
	    (size_t)json_object_get_string_len(v)));
}

/* The daemon's acknowledgement datagram; -1 if it is not one. */
int
cbc_parse_ack(const char *buf, size_t len, struct cbc_ack *ack)
{
	struct json_object	*obj;
	long long		 pp, port, lt;
	int			 rc = -1;

	if ((obj = parse_object(buf, len)) == NULL)
		return (-1);
	if (get_int(obj, "PeerPort", 0, 2147483647, &pp) == 0 &&
	    get_str(obj, "SourceIP", ack->ip, sizeof(ack->ip)) == 0 &&
	    get_int(obj, "SourcePort", 0, 65535, &port) == 0 &&
	    get_int(obj, "LeaseTimeout", 0, 86400, &lt) == 0) {
		ack->peer_port = (uint32_t)pp;
		ack->port = (uint16_t)port;
		ack->lease_timeout = (unsigned int)lt;
		rc = 0;
	}
	json_object_put(obj);
	return (rc);
}

/* A response line (newline stripped); -1 if it is not one. */
int
cbc_parse_response(const char *line, struct cbc_response *r)
{
	struct json_object	*obj;
	long long		 sp, dp, lp;
	int			 rc = -1;

	memset(r, 0, sizeof(*r));
	if ((obj = parse_object(line, strlen(line))) == NULL)
		return (-1);
	if (get_int(obj, "SourcePort", 0, 65535, &sp) == 0 &&
	    get_str(obj, "SourceIP", r->source_ip,
	    sizeof(r->source_ip)) == 0 &&
	    get_int(obj, "DestPort", 0, 65535, &dp) == 0 &&
	    get_str(obj, "DestIP", r->dest_ip, sizeof(r->dest_ip)) == 0 &&
	    get_str(obj, "Error", r->error, sizeof(r->error)) == 0) {
		r->source_port = (uint16_t)sp;
		r->dest_port = (uint16_t)dp;
		if (get_str(obj, "DestLocalIP", r->local_ip,
		    sizeof(r->local_ip)) == 0 &&
		    get_int(obj, "DestLocalPort", 1, 65535, &lp) == 0) {
			r->has_local = 1;
			r->local_port = (uint16_t)lp;
		}
		rc = 0;
	}
	json_object_put(obj);
	return (rc);
}

/* "CBP1 SYN <nonce>" or "CBP1 ACK <echo> <nonce>"; returns the length. */
int
cbc_probe_format(char *buf, size_t size, enum cbc_probe_type type,
    const char *echo, const char *nonce)
{
	int	n;

	if (type == CBC_PROBE_SYN)
		n = snprintf(buf, size, "CBP1 SYN %s", nonce);
	else
		n = snprintf(buf, size, "CBP1 ACK %s %s", echo, nonce);
	return (n < 0 || (size_t)n >= size ? -1 : n);
}

/* Whether 16 hex digits start at p. */
static int
is_nonce(const char *p)
{
	int	i;

	for (i = 0; i < CBC_NONCE_LEN; i++) {
		if (strchr("0123456789abcdef", p[i]) == NULL || p[i] == '\0')
			return (0);
	}
	return (1);
}

/* Reads a probe; returns 0, or -1 if the datagram is not one. */
int
cbc_probe_parse(const void *data, size_t len, struct cbc_probe *p)
{
	char	buf[64];

	memset(p, 0, sizeof(*p));
	if (len >= sizeof(buf) || len < 9 || memcmp(data, "CBP1 ", 5) != 0)
		return (-1);
	memcpy(buf, data, len);
	buf[len] = '\0';
	if (len == 9 + CBC_NONCE_LEN && memcmp(buf + 5, "SYN ", 4) == 0 &&
	    is_nonce(buf + 9)) {
		p->type = CBC_PROBE_SYN;
		memcpy(p->nonce, buf + 9, CBC_NONCE_LEN);
		return (0);
	}
	if (len == 10 + 2 * CBC_NONCE_LEN && memcmp(buf + 5, "ACK ", 4) == 0 &&
	    is_nonce(buf + 9) && buf[9 + CBC_NONCE_LEN] == ' ' &&
	    is_nonce(buf + 10 + CBC_NONCE_LEN)) {
		p->type = CBC_PROBE_ACK;
		memcpy(p->echo, buf + 9, CBC_NONCE_LEN);
		memcpy(p->nonce, buf + 10 + CBC_NONCE_LEN, CBC_NONCE_LEN);
		return (0);
	}
	return (-1);
}

/* A fresh random nonce, from libevent's seeded ARC4 generator. */
void
cbc_nonce(char out[CBC_NONCE_LEN + 1])
{
	static const char	hex[] = "0123456789abcdef";
	unsigned char		r[CBC_NONCE_LEN / 2];
	size_t			i;

	evutil_secure_rng_get_bytes(r, sizeof(r));
	for (i = 0; i < sizeof(r); i++) {
		out[2 * i] = hex[r[i] >> 4];
		out[2 * i + 1] = hex[r[i] & 15];
	}
	out[CBC_NONCE_LEN] = '\0';
}
