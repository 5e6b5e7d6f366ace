/*
 * The stall mode's HTTP client: GET --path from the admin port, one
 * response at a time on a fresh connection (as curl in a loop would), the
 * body decoded from chunked transfer coding, counted and thrown away.  A
 * response counts as a page only once its last chunk has come, so a page
 * cut short by the end of the run or by the daemon is not counted.
 *
 * It never blocks: the caller polls the descriptor for what
 * bench_http_events() asks and calls bench_http_io() when it is ready.
 * Each call makes one recv(), so that the probe sharing the loop is never
 * kept waiting behind a long body.
 */
#include "autoconf.h"

#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "stall.h"

#define HTTP_FRAMING_BYTES	512		/* head and chunk lines */
#define HTTP_DISCARD_BYTES	(1 << 20)	/* body, per recv() */
#define HTTP_DEFAULT_PATH	"/leases?limit=100000"

static int	http_send_request(struct bench_http *);
static ssize_t	http_recv(struct bench_http *, char *, size_t);
static int	http_count(struct bench_http *, size_t);
static int	http_head(struct bench_http *, const char *, size_t, size_t *);
static int	http_body(struct bench_http *, const char *, size_t);
static int	http_line(struct bench_http *, const char *, size_t, size_t *);
static int	http_chunk_line(struct bench_http *);
static int	http_page_done(struct bench_http *);

/* No connection yet. */
void
bench_http_init(struct bench_http *h, const struct bench_opts *o)
{
	memset(h, 0, sizeof(*h));
	h->o = o;
	h->fd = -1;
}

/* Starts connecting for the next response; -1 if it cannot. */
int
bench_http_start(struct bench_http *h)
{
	if ((h->fd = bench_tcp_connect(NULL, "127.0.0.1",
	    h->o->admin_port)) == -1) {
		h->failed++;
		return (-1);
	}
	h->state = BH_CONNECTING;
	h->linelen = 0;
	h->body = 0;
	h->start_ns = bench_now_ns();
	return (0);
}

/* What to poll the descriptor for. */
short
bench_http_events(const struct bench_http *h)
{
	return (h->state == BH_CONNECTING ? POLLOUT : POLLIN);
}

/* The connection is up: send the request, all of it at once. */
static int
http_send_request(struct bench_http *h)
{
	char		req[1024];
	socklen_t	len = sizeof(int);
	int		err = 0, n;

	if (getsockopt(h->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 ||
	    err != 0)
		return (-1);
	n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\n"
	    "Host: 127.0.0.1\r\nConnection: close\r\n\r\n",
	    h->o->path != NULL ? h->o->path : HTTP_DEFAULT_PATH);
	if (n < 0 || (size_t)n >= sizeof(req) ||
	    write(h->fd, req, (size_t)n) != n)
		return (-1);
	h->state = BH_HEAD;
	return (0);
}

/*
 * Reads what the state calls for: body bytes are thrown away in the
 * kernel (MSG_TRUNC), so that a page costs this process next to nothing
 * and it stays a light sleeper like the client it stands for; only the
 * head and the chunk framing are copied, a small buffer at a time.  With
 * MSG_TRUNC, TCP writes nothing to the buffer, but the sanitizers'
 * interceptors assume it does, so the buffer is as long as the length
 * asked for.
 */
static ssize_t
http_recv(struct bench_http *h, char *buf, size_t len)
{
	static char	discard[HTTP_DISCARD_BYTES];

	if (h->state == BH_DATA)
		return (recv(h->fd, discard, h->left < HTTP_DISCARD_BYTES ?
		    (size_t)h->left : HTTP_DISCARD_BYTES, MSG_TRUNC));
	if (h->state == BH_TO_EOF)
		return (recv(h->fd, discard, HTTP_DISCARD_BYTES, MSG_TRUNC));
	return (recv(h->fd, buf, len, 0));
}

/*
 * Makes progress on the descriptor: 1 when a whole page has come (the
 * connection is closed, ready for the next), 0 while it goes on, -1 on
 * failure (counted, the connection closed).
 */
int
bench_http_io(struct bench_http *h)
{
	static char	buf[HTTP_FRAMING_BYTES];
	ssize_t		n;
	size_t		used = 0;
	int		rc;

	if (h->state == BH_CONNECTING)
		rc = http_send_request(h);
	else if ((n = http_recv(h, buf, sizeof(buf))) == -1)
		rc = errno == EAGAIN || errno == EINTR ? 0 : -1;
	else if (n == 0)
		rc = h->state == BH_TO_EOF ? http_page_done(h) : -1;
	else if (h->state == BH_DATA || h->state == BH_TO_EOF)
		rc = http_count(h, (size_t)n);
	else if (h->state != BH_HEAD ||
	    (rc = http_head(h, buf, (size_t)n, &used)) == 0)
		rc = http_body(h, buf + used, (size_t)n - used);
	if (rc == -1) {
		h->failed++;
		bench_http_close(h);
	}
	return (rc);
}

/*
 * Gathers the response head into line; once it is whole, checks for
 * 200 and picks chunked or read-to-EOF.  *used is what the head took of
 * buf.  0 to go on, -1 if the head is bad or too long.
 */
static int
http_head(struct bench_http *h, const char *buf, size_t n, size_t *used)
{
	char	*end;
	size_t	 take = n < sizeof(h->line) - 1 - h->linelen ? n :
		    sizeof(h->line) - 1 - h->linelen;

	memcpy(h->line + h->linelen, buf, take);
	h->linelen += take;
	h->line[h->linelen] = '\0';
	if ((end = strstr(h->line, "\r\n\r\n")) == NULL) {
		*used = take;
		return (h->linelen == sizeof(h->line) - 1 ? -1 : 0);
	}
	*used = take - (h->linelen - (size_t)(end + 4 - h->line));
	if (strncmp(h->line, "HTTP/1.1 200 ", 13) != 0)
		return (-1);
	end[2] = '\0';
	h->state = strcasestr(h->line, "\r\nTransfer-Encoding: chunked\r\n") !=
	    NULL ? BH_SIZE : BH_TO_EOF;
	h->linelen = 0;
	return (0);
}

/* Counts n bytes of body; 0. */
static int
http_count(struct bench_http *h, size_t n)
{
	h->body += n;
	if (h->state == BH_DATA && (h->left -= n) == 0)
		h->state = BH_DATA_END;
	return (0);
}

/* Decodes body bytes: 1 once the last chunk is in, else 0 or -1. */
static int
http_body(struct bench_http *h, const char *p, size_t n)
{
	size_t	k;
	int	rc = 0;

	while (n > 0 && rc == 0) {
		if (h->state == BH_TO_EOF || h->state == BH_DATA) {
			k = h->state == BH_DATA && h->left < n ?
			    (size_t)h->left : n;
			rc = http_count(h, k);
		} else if ((rc = http_line(h, p, n, &k)) == 1)
			rc = http_chunk_line(h);
		p += k;
		n -= k;
	}
	return (rc);
}

/*
 * Gathers one CRLF-terminated line of the chunked framing into line;
 * *used is what it took.  1 once the line is whole, 0 if more is to
 * come, -1 if it is too long.
 */
static int
http_line(struct bench_http *h, const char *p, size_t n, size_t *used)
{
	const char	*nl = memchr(p, '\n', n);
	size_t		 k = nl != NULL ? (size_t)(nl - p) + 1 : n;

	*used = k;
	if (h->linelen + k >= sizeof(h->line))
		return (-1);
	memcpy(h->line + h->linelen, p, k);
	h->linelen += k;
	h->line[h->linelen] = '\0';
	return (nl != NULL);
}

/* Acts on a whole framing line: a chunk size, a CRLF, a trailer. */
static int
http_chunk_line(struct bench_http *h)
{
	char	*end;
	int	 empty = strcmp(h->line, "\r\n") == 0;

	h->linelen = 0;
	switch (h->state) {
	case BH_SIZE:
		h->left = strtoull(h->line, &end, 16);
		if (end == h->line || (*end != '\r' && *end != ';'))
			return (-1);
		h->state = h->left == 0 ? BH_TRAILER : BH_DATA;
		return (0);
	case BH_DATA_END:
		h->state = BH_SIZE;
		return (empty ? 0 : -1);
	default:
		return (empty ? http_page_done(h) : 0);
	}
}

/* A whole page: count it and close, ready for the next. */
static int
http_page_done(struct bench_http *h)
{
	h->pages++;
	h->bytes += h->body;
	h->page_ns += bench_now_ns() - h->start_ns;
	bench_http_close(h);
	return (1);
}

/* Drops the connection, and whatever of a page it was carrying. */
void
bench_http_close(struct bench_http *h)
{
	if (h->fd != -1)
		close(h->fd);
	h->fd = -1;
	h->state = BH_IDLE;
}
