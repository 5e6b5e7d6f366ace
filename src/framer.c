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
static int	framer_step(struct framer *, char);

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

/* Accounts one byte of the object; returns 1 if it closed the object. */
static int
framer_step(struct framer *f, char c)
{
	if (f->in_string) {
		if (f->escaped)
			f->escaped = 0;
		else if (c == '\\')
			f->escaped = 1;
		else if (c == '"')
			f->in_string = 0;
		return (0);
	}
	switch (c) {
	case '"':
		f->in_string = 1;
		break;
	case '{':
	case '[':
		f->depth++;
		break;
	case '}':
	case ']':
		/* Inside an object the depth is at least one here. */
		if (--f->depth == 0)
			return (1);
		break;
	}
	return (0);
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
	size_t	i = 0;

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
	for (; i < n; i++) {
		if (f->length == f->max) {
			*status = FRAMER_TOO_LARGE;
			return (i);
		}
		f->length++;
		if (framer_step(f, p[i])) {
			*status = FRAMER_COMPLETE;
			return (i + 1);
		}
	}
	*status = FRAMER_NEED_MORE;
	return (n);
}
