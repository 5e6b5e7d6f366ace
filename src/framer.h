/*
 * Finds where one JSON object ends in a TCP byte stream, a few bytes at a
 * time, without copying or parsing: it tracks only brace depth and whether
 * it is inside a string.  The complete object is then handed to the JSON
 * decoder in one piece.  This keeps a waiting connection's state to a few
 * bytes and makes a request trickled one byte at a time cost O(n), where a
 * tokener kept per connection would cost about a kilobyte each.
 */
#ifndef CB_FRAMER_H
#define CB_FRAMER_H

#include <stddef.h>
#include <stdint.h>

enum framer_status {
	FRAMER_NEED_MORE,	/* every byte fed was consumed; feed more */
	FRAMER_COMPLETE,	/* an object ends at the last byte consumed */
	FRAMER_NOT_OBJECT,	/* a byte other than whitespace or '{' */
	FRAMER_TOO_LARGE,	/* the object passed its size limit */
};

struct framer {
	size_t		 max;		/* largest object, in bytes */
	size_t		 skipped;	/* whitespace consumed before the '{' */
	size_t		 length;	/* bytes of the object consumed so far */
	uint32_t	 depth;		/* open braces and brackets */
	uint8_t		 in_string;
	uint8_t		 escaped;
};

/*
 * framer_feed() consumes bytes of the stream and returns how many.  Since
 * the last framer_reset(), the stream bytes [0, skipped) are whitespace
 * and [skipped, skipped + length) are the object so far; on
 * FRAMER_COMPLETE that span is the whole object, closing brace included.
 * Any closer that returns the depth to zero ends the span; a mismatched
 * one (`{]`) is left for the decoder to reject.  FRAMER_TOO_LARGE comes as
 * soon as a byte would make the object longer than max.
 * On FRAMER_NOT_OBJECT and FRAMER_TOO_LARGE the offending byte is not
 * consumed, and feeding again repeats the outcome until framer_reset(), as
 * does feeding after FRAMER_COMPLETE.  The caller may drain the skipped
 * whitespace from its buffer at any time and set skipped to zero.
 */
void		 framer_init(struct framer *, size_t);
void		 framer_reset(struct framer *);
size_t		 framer_feed(struct framer *, const char *, size_t,
		    enum framer_status *);

#endif /* CB_FRAMER_H */
