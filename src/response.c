/*
 * The TCP response line and the error kinds behind it.
 *
 * The line is written by hand rather than with json-c: clients of the Go
 * original may compare it byte for byte, and json-c escapes differently
 * ("/" as "\/", no "\u003c" for "<", no "\ufffd" for bad UTF-8) and does
 * not promise key order.  Writing it here also keeps the hot path free of
 * allocation: everything goes into the caller's buffer.
 *
 * It is also free of stdio, which cost about 3 100 instructions per
 * endpoint (snprintf for the port, inet_ntop's own sprintf for the
 * address).  Numbers and IPv4 addresses are written digit by digit; IPv6
 * still goes through inet_ntop, whose RFC 5952 text is what clients see.
 * Address text is made of digits, hex letters, ':' and '.' only, so it is
 * not escaped; everything else (errors, reasons) still is.
 */
#include "autoconf.h"

#include <string.h>

#include "response.h"

/* Each error kind: its exact text on the wire and its counter. */
static const struct rdv_error_desc {
	const char	*text;
	enum stat_id	 stat;		/* STAT__MAX: not counted */
} rdv_errors[RDV_ERR__MAX] = {
	[RDV_OK] = { "", STAT__MAX },
	[RDV_ERR_TIMEOUT] = { "timeout", STAT_ERR_TIMEOUT },
	[RDV_ERR_NO_SUCH_SERVER] = { "no such server",
	    STAT_ERR_NO_SUCH_SERVER },
	[RDV_ERR_NO_UDP_REGISTRATION] = { "no UDP registration",
	    STAT_ERR_NO_UDP_REGISTRATION },
	[RDV_ERR_REPLACED] = { "replaced by a newer request",
	    STAT_ERR_REPLACED },
	[RDV_ERR_REQUEST_TOO_LARGE] = { "request too large",
	    STAT_ERR_REQUEST_TOO_LARGE },
	[RDV_ERR_SHUTTING_DOWN] = { "server shutting down", STAT__MAX },
	[RDV_ERR_EVICTED] = { "evicted", STAT_ERR_EVICTED },
	[RDV_ERR_TOO_MANY_CONNECTIONS] = { "too many connections",
	    STAT_ERR_TOO_MANY_CONNECTIONS },
	[RDV_ERR_INVALID_REQUEST] = { "invalid request",
	    STAT_ERR_INVALID_REQUEST },
};

/* Stands in for an out-of-range kind, a bug, so it never reads as OK. */
static const struct rdv_error_desc rdv_error_unknown = {
	"internal error", STAT__MAX
};

/*
 * Output into a fixed buffer.  len counts every byte asked for; written
 * stops growing at the first piece that does not fit whole, so the buffer
 * always holds a prefix that ends between two pieces.
 */
struct wbuf {
	char		*buf;
	size_t		 size;
	size_t		 len;
	size_t		 written;
};

static const struct rdv_error_desc *rdv_error_desc(enum rdv_error);
static void	 wbuf_put(struct wbuf *, const char *, size_t);
static void	 wbuf_str(struct wbuf *, const char *);
static void	 wbuf_uint(struct wbuf *, unsigned int);
static void	 wbuf_ip(struct wbuf *, const struct cb_ip *);
static size_t	 utf8_valid_len(const unsigned char *);
static void	 wbuf_escaped_ascii(struct wbuf *, unsigned char);
static void	 wbuf_escaped(struct wbuf *, const char *);
static void	 wbuf_endpoint(struct wbuf *, const char *, const char *,
		    const struct cb_endpoint *, int);
static size_t	 wbuf_finish(struct wbuf *);
static size_t	 wbuf_result(struct wbuf *);

/* The table entry of a kind, or the stand-in if it is out of range. */
static const struct rdv_error_desc *
rdv_error_desc(enum rdv_error error)
{
	if ((unsigned int)error >= RDV_ERR__MAX)
		return (&rdv_error_unknown);
	return (&rdv_errors[error]);
}

/* The exact Error text of a kind ("invalid request" without a reason). */
const char *
rdv_error_text(enum rdv_error error)
{
	return (rdv_error_desc(error)->text);
}

/* The errors.<kind> counter of a kind; STAT__MAX if it has none. */
enum stat_id
rdv_error_stat(enum rdv_error error)
{
	return (rdv_error_desc(error)->stat);
}

/* Whether sending this kind increments an errors.<kind> counter. */
int
rdv_error_counted(enum rdv_error error)
{
	return (rdv_error_desc(error)->stat != STAT__MAX);
}

/* Appends n bytes, whole or not at all; see struct wbuf. */
static void
wbuf_put(struct wbuf *w, const char *p, size_t n)
{
	if (w->written == w->len && w->size > 0 && n < w->size - w->len) {
		memcpy(w->buf + w->len, p, n);
		w->written += n;
	}
	w->len += n;
}

/* Appends a NUL-terminated string as it is. */
static void
wbuf_str(struct wbuf *w, const char *s)
{
	wbuf_put(w, s, strlen(s));
}

/* "00" to "99": numbers are written two digits per division. */
static const char	digit_pairs[200] =
    "00010203040506070809" "10111213141516171819"
    "20212223242526272829" "30313233343536373839"
    "40414243444546474849" "50515253545556575859"
    "60616263646566676869" "70717273747576777879"
    "80818283848586878889" "90919293949596979899";

/*
 * Writes n (below 100) at p, without a leading zero; returns the byte
 * after it.
 */
static char *
digits_below_100(char *p, unsigned int n)
{
	if (n < 10) {
		*p = (char)('0' + n);
		return (p + 1);
	}
	memcpy(p, digit_pairs + 2 * n, 2);
	return (p + 2);
}

/* Appends a number in decimal, as Go writes an int. */
static void
wbuf_uint(struct wbuf *w, unsigned int n)
{
	char	 num[10], *p = num + sizeof(num);	/* 4294967295 */

	while (n >= 100) {
		p -= 2;
		memcpy(p, digit_pairs + 2 * (n % 100), 2);
		n /= 100;
	}
	if (n >= 10) {
		p -= 2;
		memcpy(p, digit_pairs + 2 * n, 2);
	} else
		*--p = (char)('0' + n);
	wbuf_put(w, p, (size_t)(num + sizeof(num) - p));
}

/*
 * Appends an address as cb_ip_format() writes it: dotted decimal for IPv4
 * (and IPv4-mapped IPv6), inet_ntop's text for IPv6.  Neither needs JSON
 * escaping.
 */
static void
wbuf_ip(struct wbuf *w, const struct cb_ip *ip)
{
	char		 text[CB_IP_STRLEN], *p = text;
	const uint8_t	*b = ip->bytes + 12;
	int		 i;

	if (!cb_ip_is_v4(ip)) {
		wbuf_str(w, cb_ip_format(ip, text));
		return;
	}
	for (i = 0; i < 4; i++) {
		if (i > 0)
			*p++ = '.';
		if (b[i] >= 100) {
			*p++ = (char)('0' + b[i] / 100);
			memcpy(p, digit_pairs + 2 * (b[i] % 100), 2);
			p += 2;
		} else
			p = digits_below_100(p, b[i]);
	}
	wbuf_put(w, text, (size_t)(p - text));
}

/*
 * The length of the valid UTF-8 sequence at p, or 0 if p[0] does not start
 * one.  Valid means what Go's utf8.DecodeRune accepts: shortest form, no
 * surrogates, nothing above U+10FFFF.  A NUL fails the first check it
 * meets, so this never reads past the end of a string.
 */
static size_t
utf8_valid_len(const unsigned char *p)
{
	unsigned char	lo = 0x80, hi = 0xbf;
	size_t		len, i;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4;
	else
		return (0);
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (p[1] < lo || p[1] > hi)
		return (0);
	for (i = 2; i < len; i++) {
		if (p[i] < 0x80 || p[i] > 0xbf)
			return (0);
	}
	return (len);
}

/* Appends one ASCII byte escaped as Go's encoder escapes it. */
static void
wbuf_escaped_ascii(struct wbuf *w, unsigned char c)
{
	static const char	hex[] = "0123456789abcdef";
	char			esc[6] = { '\\', 'u', '0', '0', hex[c >> 4],
				    hex[c & 0xf] };

	switch (c) {
	case '"':
	case '\\':
		esc[1] = (char)c;
		wbuf_put(w, esc, 2);
		return;
	case '\n':
		wbuf_put(w, "\\n", 2);
		return;
	case '\r':
		wbuf_put(w, "\\r", 2);
		return;
	case '\t':
		wbuf_put(w, "\\t", 2);
		return;
	}
	if (c < 0x20 || c == '<' || c == '>' || c == '&')
		wbuf_put(w, esc, sizeof(esc));
	else
		wbuf_put(w, (const char *)&c, 1);
}

/*
 * Appends s escaped as Go's encoding/json escapes a string (HTML escaping
 * on, as json.Marshal and json.Encoder default to), without the quotes:
 * each byte of invalid UTF-8 becomes \ufffd and U+2028 and U+2029 are
 * escaped.  Go 1.22 and later write \b and \f where this, as earlier Go
 * did and as the contract says, writes \u0008 and \u000c.
 */
static void
wbuf_escaped(struct wbuf *w, const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n;

	for (; *p != '\0'; p += n) {
		n = 1;
		if (*p < 0x80)
			wbuf_escaped_ascii(w, *p);
		else if ((n = utf8_valid_len(p)) == 0) {
			wbuf_put(w, "\\ufffd", 6);
			n = 1;
		} else if (n == 3 && p[0] == 0xe2 && p[1] == 0x80 &&
		    (p[2] == 0xa8 || p[2] == 0xa9))
			wbuf_put(w, p[2] == 0xa8 ? "\\u2028" : "\\u2029", 6);
		else
			wbuf_put(w, (const char *)p, n);
	}
}

/* Appends "<port>":N,"<ip>":"..." for one endpoint, zero if !set. */
static void
wbuf_endpoint(struct wbuf *w, const char *port_key, const char *ip_key,
    const struct cb_endpoint *ep, int set)
{
	wbuf_str(w, port_key);
	wbuf_uint(w, set ? ep->port : 0);
	wbuf_str(w, ip_key);
	if (set)
		wbuf_ip(w, &ep->ip);
	wbuf_str(w, "\"");
}

/* NUL-terminates what was written; returns the length asked for. */
static size_t
wbuf_finish(struct wbuf *w)
{
	if (w->size > 0)
		w->buf[w->written] = '\0';
	return (w->len);
}

/*
 * Escapes src as Go's encoder does, without the quotes, into dst.  Returns
 * the length of the whole escaped text, as strlcpy(3) does: if that is
 * size or more, dst holds a NUL-terminated prefix that ends between two
 * escapes.
 */
size_t
json_escape_go(char *dst, size_t size, const char *src)
{
	struct wbuf	w = { dst, size, 0, 0 };

	wbuf_escaped(&w, src);
	return (wbuf_finish(&w));
}

/*
 * Writes the response line, newline included, NUL-terminated.  Returns its
 * length, or 0 (and an empty buf) if it and its NUL do not fit in size.
 * An error response carries 0 and "" in every other field.
 */
size_t
response_format(char *buf, size_t size, const struct rdv_response *resp)
{
	struct wbuf	 w = { buf, size, 0, 0 };
	int		 ok = resp->error == RDV_OK;

	wbuf_endpoint(&w, "{\"SourcePort\":", ",\"SourceIP\":\"",
	    &resp->source, ok);
	wbuf_endpoint(&w, ",\"DestPort\":", ",\"DestIP\":\"", &resp->dest, ok);
	wbuf_str(&w, ",\"Error\":\"");
	wbuf_escaped(&w, rdv_error_text(resp->error));
	if (resp->error == RDV_ERR_INVALID_REQUEST && resp->reason != NULL) {
		wbuf_escaped(&w, ": ");
		wbuf_escaped(&w, resp->reason);
	}
	wbuf_str(&w, "\"");
	if (ok && resp->has_dest_local) {
		wbuf_str(&w, ",\"DestLocalIP\":\"");
		wbuf_ip(&w, &resp->dest_local.ip);
		wbuf_str(&w, "\",\"DestLocalPort\":");
		wbuf_uint(&w, resp->dest_local.port);
	}
	wbuf_str(&w, "}\n");
	return (wbuf_result(&w));
}

/*
 * Writes the acknowledgement of a registration, NUL-terminated and
 * without a newline.  Returns its length, or 0 if it does not fit.
 */
size_t
response_format_ack(char *buf, size_t size, uint32_t peer_port,
    const struct cb_endpoint *source, unsigned int lease_timeout)
{
	struct wbuf	 w = { buf, size, 0, 0 };

	wbuf_str(&w, "{\"PeerPort\":");
	wbuf_uint(&w, peer_port);
	wbuf_str(&w, ",\"SourceIP\":\"");
	wbuf_ip(&w, &source->ip);
	wbuf_str(&w, "\",\"SourcePort\":");
	wbuf_uint(&w, source->port);
	wbuf_str(&w, ",\"LeaseTimeout\":");
	wbuf_uint(&w, lease_timeout);
	wbuf_str(&w, "}");
	return (wbuf_result(&w));
}

/* Finishes a whole message: its length, or 0 and "" if it did not fit. */
static size_t
wbuf_result(struct wbuf *w)
{
	size_t	len = wbuf_finish(w);

	if (len >= w->size) {
		if (w->size > 0)
			w->buf[0] = '\0';
		return (0);
	}
	return (len);
}
