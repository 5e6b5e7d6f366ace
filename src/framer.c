/*
 * Frames JSON objects in a TCP byte stream.  The framer never looks back:
 * each byte is seen once and moves a few counters, so a request trickled
 * one byte at a time costs O(n) in total and its state is a few bytes.
 *
 * It does not validate JSON.  It only finds the byte where the first
 * object closes, counting braces and brackets outside strings; whatever
 * lies between is the decoder's business.  A mismatched closer (`{]`)
 * still ends the frame when the depth returns to zero, and the decoder
 * then rejects the span, so the depth can never underflow and no input
 * leaves the framer waiting for a close that cannot come.
 */
#include "autoconf.h"

#include <stddef.h>

#include "framer.h"

static int	framer_is_space(char);
static size_t	framer_skip(struct framer *, const char *, size_t);
static size_t	framer_scan(struct framer *, const unsigned char *, size_t,
		    size_t, int *);

/*
 * The bytes that change the framer's state, inside a string and outside
 * one.  Everything else is skipped by a tight loop over one table, which
 * is what keeps framing at a few instructions per byte.
 */
static const uint8_t	string_special[256] = {
	['"'] = 1, ['\\'] = 1,
};
static const uint8_t	structural[256] = {
	['"'] = 1, ['{'] = 1, ['}'] = 1, ['['] = 1, [']'] = 1,
};

/* Whitespace as JSON defines it; anything else is a value. */
static int
framer_is_space(char c)
{
	return (c == ' ' || c == '\t' || c == '\n' || c == '\r');
}

/* Sets up a framer for objects of at most max bytes. */
void
framer_init(struct framer *f, size_t max)
{
	f->max = max;
	framer_reset(f);
}

/* Forgets the finished (or failed) object, ready for the next one. */
void
framer_reset(struct framer *f)
{
	f->skipped = 0;
	f->length = 0;
	f->depth = 0;
	f->in_string = 0;
	f->escaped = 0;
}

/* Skips the whitespace before an object; returns the bytes skipped. */
static size_t
framer_skip(struct framer *f, const char *p, size_t n)
{
	size_t	i;

	for (i = 0; i < n && framer_is_space(p[i]); i++)
		f->skipped++;
	return (i);
}

/*
 * Accounts the object's bytes p[i..end); stops after the byte that closes
 * the object, setting *closed.  Returns the index it stopped at.
 */
static size_t
framer_scan(struct framer *f, const unsigned char *p, size_t i, size_t end,
    int *closed)
{
	*closed = 0;
	while (i < end) {
		if (f->escaped) {
			f->escaped = 0;
			i++;
			continue;
		}
		if (f->in_string) {
			while (i < end && !string_special[p[i]])
				i++;
			if (i == end)
				break;
			if (p[i++] == '\\')
				f->escaped = 1;
			else
				f->in_string = 0;
			continue;
		}
		while (i < end && !structural[p[i]])
			i++;
		if (i == end)
			break;
		switch (p[i++]) {
		case '"':
			f->in_string = 1;
			break;
		case '{':
		case '[':
			f->depth++;
			break;
		default:
			/* Inside an object the depth is at least one here. */
			if (--f->depth == 0) {
				*closed = 1;
				return (i);
			}
			break;
		}
	}
	return (i);
}

/*
 * Consumes bytes of the stream until an object is complete, the input
 * runs out or the input is refused.  Returns the bytes consumed and the
 * outcome in *status.  Once an object is complete (or refused), feeding
 * more consumes nothing and repeats the outcome until framer_reset().
 */
size_t
framer_feed(struct framer *f, const char *p, size_t n,
    enum framer_status *status)
{
	size_t	i = 0, j, room, end;
	int	closed;

	if (f->length > 0 && f->depth == 0) {
		*status = FRAMER_COMPLETE;
		return (0);
	}
	if (f->length == 0) {
		i = framer_skip(f, p, n);
		if (i == n) {
			*status = FRAMER_NEED_MORE;
			return (n);
		}
		if (p[i] != '{') {
			*status = FRAMER_NOT_OBJECT;
			return (i);
		}
	}
	/* Bytes past the size limit are not even looked at. */
	room = f->max - f->length;
	end = n - i <= room ? n : i + room;
	j = framer_scan(f, (const unsigned char *)p, i, end, &closed);
	f->length += j - i;
	if (closed) {
		*status = FRAMER_COMPLETE;
		return (j);
	}
	if (j < n) {
		*status = FRAMER_TOO_LARGE;
		return (j);
	}
	*status = FRAMER_NEED_MORE;
	return (n);
}
