/*
 * The two kinds of request the closed loop sends, and the answers it
 * counts as valid: an RFC 5389 STUN Binding Request (answered by a
 * Binding Success Response whose transaction ID is ours and whose mapped
 * address carries our port), and a registration with "Ack": true padded
 * with spaces (answered by {"PeerPort":N,"SourceIP":...,"SourcePort":p,
 * "LeaseTimeout":s} naming our PeerPort and our port).  A mapped address
 * that names another port is someone else's answer, and is not counted.
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define STUN_HDR		20
#define STUN_BINDING_REQ	0x0001
#define STUN_BINDING_OK		0x0101
#define STUN_COOKIE		0x2112a442U
#define STUN_MAPPED		0x0001
#define STUN_XOR_MAPPED		0x0020

static uint16_t	get16(const unsigned char *);
static uint32_t	get32(const unsigned char *);
static void	put16(unsigned char *, uint16_t);
static void	put32(unsigned char *, uint32_t);

/* Network-order readers and writers. */
static uint16_t
get16(const unsigned char *p)
{
	return ((uint16_t)(p[0] << 8 | p[1]));
}

static uint32_t
get32(const unsigned char *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3]);
}

static void
put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static void
put32(unsigned char *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/*
 * A Binding Request with no attributes; its transaction ID is the
 * socket's index, then a sequence number.  Returns its 20 bytes' length.
 */
size_t
bench_stun_request(unsigned char *buf, uint32_t sock, uint64_t seq)
{
	put16(buf, STUN_BINDING_REQ);
	put16(buf + 2, 0);
	put32(buf + 4, STUN_COOKIE);
	put32(buf + 8, sock);
	put32(buf + 12, (uint32_t)(seq >> 32));
	put32(buf + 16, (uint32_t)seq);
	return (STUN_HDR);
}

/*
 * 1 if buf is a Binding Success Response to one of socket sock's
 * requests whose (XOR-)MAPPED-ADDRESS carries port.
 */
int
bench_stun_valid(const unsigned char *buf, size_t len, uint32_t sock,
    int port)
{
	size_t		 off, alen;
	uint16_t	 type;

	if (len < STUN_HDR || get16(buf) != STUN_BINDING_OK ||
	    get32(buf + 4) != STUN_COOKIE || get32(buf + 8) != sock ||
	    (size_t)get16(buf + 2) + STUN_HDR > len)
		return (0);
	len = (size_t)get16(buf + 2) + STUN_HDR;
	for (off = STUN_HDR; off + 4 <= len; off += 4 + ((alen + 3) & ~3U)) {
		type = get16(buf + off);
		alen = get16(buf + off + 2);
		if (off + 4 + alen > len || alen < 8)
			continue;
		if (type == STUN_XOR_MAPPED)
			return ((get16(buf + off + 6) ^ (STUN_COOKIE >> 16)) ==
			    (uint32_t)port);
		if (type == STUN_MAPPED)
			return (get16(buf + off + 6) == (uint32_t)port);
	}
	return (0);
}

/* An acknowledged registration of peer_port, padded to pad bytes. */
size_t
bench_ack_request(unsigned char *buf, size_t pad, uint32_t peer_port)
{
	int	n;

	n = snprintf((char *)buf, pad + 1, "{\"PeerPort\":%u,\"Ack\":true}",
	    peer_port);
	if (n < 0 || (size_t)n > pad)
		return (0);
	memset(buf + n, ' ', pad - (size_t)n);
	return (pad);
}

/*
 * 1 if buf acknowledges a registration sent by socket sock of nsock
 * (whose PeerPorts are sock modulo nsock) from port.
 */
int
bench_ack_valid(const unsigned char *buf, size_t len, uint32_t sock,
    uint32_t nsock, int port)
{
	char		 text[BENCH_LINE_MAX + 1], want[32];
	unsigned long	 pp;
	char		*end;

	if (len > BENCH_LINE_MAX ||
	    len < sizeof("{\"PeerPort\":") - 1 ||
	    memcmp(buf, "{\"PeerPort\":", sizeof("{\"PeerPort\":") - 1) != 0)
		return (0);
	memcpy(text, buf, len);
	text[len] = '\0';
	pp = strtoul(text + sizeof("{\"PeerPort\":") - 1, &end, 10);
	if (*end != ',' || pp % nsock != sock)
		return (0);
	snprintf(want, sizeof(want), "\"SourcePort\":%d,", port);
	return (strstr(end, want) != NULL && text[len - 1] == '}');
}
