/*
 * Unit tests for the stream framer: objects found whole however the
 * stream is cut, whitespace between them, the size limit at exactly one
 * byte past it, refusals, and no input that leaves the framer stuck.
 */
#include "autoconf.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "framer.h"
#include "proto.h"
#include "suite.h"

#define MAX_SPANS	8

/* The objects found in a stream: offset and length of each. */
struct spans {
	size_t			 off[MAX_SPANS];
	size_t			 len[MAX_SPANS];
	int			 n;
	enum framer_status	 last;
};

/* Two objects whose strings hold braces, brackets and escapes. */
static const char obj1[] =
    "{\"a\":\"}{\\\"][\",\"b\":[1,{\"c\":\"\\\\\"}],\"d\":{}}";
static const char obj2[] = "{\"e\":\"\\\\\\\"}\"}";
static char stream[128];
static size_t stream_len;

/* The stream: whitespace, obj1, whitespace, obj2, a newline. */
static void
build_stream(void)
{
	stream_len = (size_t)snprintf(stream, sizeof(stream), "\n %s\r\n\t%s\n",
	    obj1, obj2);
}

/*
 * Feeds stream[0, n) to a framer in pieces ending at the cut points (each
 * piece is fed until it is used up, as a session does), and records every
 * object found.  Stops at a refusal.
 */
static void
frame_stream(const char *s, size_t n, const size_t *cuts, int ncuts,
    size_t max, struct spans *sp)
{
	struct framer	f;
	size_t		start = 0, end, pos, used, base = 0;
	int		c;

	memset(sp, 0, sizeof(*sp));
	framer_init(&f, max);
	for (c = 0; c <= ncuts; c++) {
		end = c < ncuts ? cuts[c] : n;
		for (pos = start; pos < end || pos == start; pos += used) {
			used = framer_feed(&f, s + pos, end - pos, &sp->last);
			ck_assert_uint_le(used, end - pos);
			if (sp->last == FRAMER_NOT_OBJECT ||
			    sp->last == FRAMER_TOO_LARGE)
				return;
			if (sp->last != FRAMER_COMPLETE)
				break;
			ck_assert_int_lt(sp->n, MAX_SPANS);
			sp->off[sp->n] = base + f.skipped;
			sp->len[sp->n] = f.length;
			sp->n++;
			base += f.skipped + f.length;
			ck_assert_uint_eq(base, pos + used);
			framer_reset(&f);
			if (pos + used == end)
				break;
		}
		start = end;
	}
}

/* Checks that exactly obj1 and obj2 were found, nothing else. */
static void
assert_two_objects(const struct spans *sp)
{
	ck_assert_int_eq(sp->n, 2);
	ck_assert_uint_eq(sp->len[0], strlen(obj1));
	ck_assert_uint_eq(sp->len[1], strlen(obj2));
	ck_assert_mem_eq(stream + sp->off[0], obj1, strlen(obj1));
	ck_assert_mem_eq(stream + sp->off[1], obj2, strlen(obj2));
	ck_assert_int_eq(sp->last, FRAMER_NEED_MORE);
}

START_TEST(test_one_chunk)
{
	struct spans	sp;

	build_stream();
	frame_stream(stream, stream_len, NULL, 0, PROTO_REQUEST_MAX, &sp);
	assert_two_objects(&sp);
	ck_assert_uint_eq(sp.off[0], 2);
	ck_assert_uint_eq(sp.off[1], 2 + strlen(obj1) + 3);
}
END_TEST

START_TEST(test_one_byte_at_a_time)
{
	struct spans	sp;
	size_t		cuts[128];
	int		i;

	build_stream();
	for (i = 0; i < (int)stream_len - 1; i++)
		cuts[i] = (size_t)i + 1;
	frame_stream(stream, stream_len, cuts, (int)stream_len - 1,
	    PROTO_REQUEST_MAX, &sp);
	assert_two_objects(&sp);
}
END_TEST

/* Loop test: the stream cut in two at every byte boundary. */
START_TEST(test_split_at_every_boundary)
{
	struct spans	sp;
	size_t		cut;

	build_stream();
	cut = (size_t)_i;
	if (cut > stream_len)
		return;
	frame_stream(stream, stream_len, &cut, 1, PROTO_REQUEST_MAX, &sp);
	assert_two_objects(&sp);
}
END_TEST

START_TEST(test_leading_whitespace_counted)
{
	struct framer		f;
	enum framer_status	st;
	const char		*s = " \t\r\n{}";

	framer_init(&f, 16);
	ck_assert_uint_eq(framer_feed(&f, s, strlen(s), &st), 6);
	ck_assert_int_eq(st, FRAMER_COMPLETE);
	ck_assert_uint_eq(f.skipped, 4);
	ck_assert_uint_eq(f.length, 2);
}
END_TEST

START_TEST(test_whitespace_only_and_drain)
{
	struct framer		f;
	enum framer_status	st;

	framer_init(&f, 16);
	ck_assert_uint_eq(framer_feed(&f, "", 0, &st), 0);
	ck_assert_int_eq(st, FRAMER_NEED_MORE);
	ck_assert_uint_eq(framer_feed(&f, "  \n", 3, &st), 3);
	ck_assert_int_eq(st, FRAMER_NEED_MORE);
	ck_assert_uint_eq(f.skipped, 3);
	ck_assert_uint_eq(f.length, 0);
	/* The caller drained the whitespace. */
	f.skipped = 0;
	ck_assert_uint_eq(framer_feed(&f, " {", 2, &st), 2);
	ck_assert_int_eq(st, FRAMER_NEED_MORE);
	ck_assert_uint_eq(f.skipped, 1);
	ck_assert_uint_eq(f.length, 1);
	ck_assert_uint_eq(framer_feed(&f, "}{}", 3, &st), 1);
	ck_assert_int_eq(st, FRAMER_COMPLETE);
	ck_assert_uint_eq(f.skipped, 1);
	ck_assert_uint_eq(f.length, 2);
}
END_TEST

START_TEST(test_no_whitespace_between)
{
	struct spans	sp;
	const char	*s = "{}{\"a\":[]}{}";

	frame_stream(s, strlen(s), NULL, 0, 16, &sp);
	ck_assert_int_eq(sp.n, 3);
	ck_assert_uint_eq(sp.off[1], 2);
	ck_assert_uint_eq(sp.len[1], 8);
	ck_assert_uint_eq(sp.off[2], 10);
	ck_assert_uint_eq(sp.len[2], 2);
}
END_TEST

START_TEST(test_exactly_max_completes)
{
	struct framer		f;
	enum framer_status	st;
	const char		*s = "  {\"a\":12}";

	/* The limit counts the object, not the whitespace before it. */
	framer_init(&f, 8);
	ck_assert_uint_eq(framer_feed(&f, s, strlen(s), &st), strlen(s));
	ck_assert_int_eq(st, FRAMER_COMPLETE);
	ck_assert_uint_eq(f.length, 8);
}
END_TEST

START_TEST(test_too_large_at_max_plus_one)
{
	struct framer		f;
	enum framer_status	st;
	const char		*s = "{\"a\":123}";
	size_t			i;

	framer_init(&f, 8);
	ck_assert_uint_eq(framer_feed(&f, s, strlen(s), &st), 8);
	ck_assert_int_eq(st, FRAMER_TOO_LARGE);
	ck_assert_uint_eq(f.length, 8);
	/* Sticky until reset. */
	ck_assert_uint_eq(framer_feed(&f, s + 8, 1, &st), 0);
	ck_assert_int_eq(st, FRAMER_TOO_LARGE);

	/* Byte by byte: NEED_MORE for 8 bytes, TOO_LARGE on the 9th. */
	framer_reset(&f);
	for (i = 0; i < 8; i++) {
		ck_assert_uint_eq(framer_feed(&f, s + i, 1, &st), 1);
		ck_assert_int_eq(st, FRAMER_NEED_MORE);
	}
	ck_assert_uint_eq(framer_feed(&f, s + 8, 1, &st), 0);
	ck_assert_int_eq(st, FRAMER_TOO_LARGE);
}
END_TEST

/* The request limit itself: 4096 bytes pass, 4097 do not, at once. */
START_TEST(test_request_limit)
{
	struct framer		f;
	enum framer_status	st;
	char			*buf;
	size_t			 n = PROTO_REQUEST_MAX;

	buf = malloc(n + 2);
	ck_assert_ptr_nonnull(buf);
	memset(buf, ' ', n + 2);
	memcpy(buf, "{\"a\":\"", 6);
	memcpy(buf + n - 2, "\"}", 2);
	framer_init(&f, PROTO_REQUEST_MAX);
	ck_assert_uint_eq(framer_feed(&f, buf, n + 2, &st), n);
	ck_assert_int_eq(st, FRAMER_COMPLETE);

	/* One more byte in the string: refused without the closing brace. */
	memcpy(buf + n - 2, " \"", 2);
	framer_reset(&f);
	ck_assert_uint_eq(framer_feed(&f, buf, n, &st), n);
	ck_assert_int_eq(st, FRAMER_NEED_MORE);
	ck_assert_uint_eq(framer_feed(&f, buf + n, 1, &st), 0);
	ck_assert_int_eq(st, FRAMER_TOO_LARGE);
	free(buf);
}
END_TEST

START_TEST(test_not_object)
{
	struct framer		f;
	enum framer_status	st;

	framer_init(&f, 16);
	ck_assert_uint_eq(framer_feed(&f, "  [1]", 5, &st), 2);
	ck_assert_int_eq(st, FRAMER_NOT_OBJECT);
	ck_assert_uint_eq(f.skipped, 2);
	ck_assert_uint_eq(framer_feed(&f, "[1]", 3, &st), 0);
	ck_assert_int_eq(st, FRAMER_NOT_OBJECT);

	framer_reset(&f);
	ck_assert_uint_eq(framer_feed(&f, "}", 1, &st), 0);
	ck_assert_int_eq(st, FRAMER_NOT_OBJECT);
	framer_reset(&f);
	ck_assert_uint_eq(framer_feed(&f, "\"{}\"", 4, &st), 0);
	ck_assert_int_eq(st, FRAMER_NOT_OBJECT);
	framer_reset(&f);
	/* Form feed and vertical tab are not JSON whitespace. */
	ck_assert_uint_eq(framer_feed(&f, " \f{}", 4, &st), 1);
	ck_assert_int_eq(st, FRAMER_NOT_OBJECT);
}
END_TEST

START_TEST(test_mismatched_closer_ends_frame)
{
	struct framer		f;
	enum framer_status	st;

	framer_init(&f, 16);
	ck_assert_uint_eq(framer_feed(&f, "{]}", 3, &st), 2);
	ck_assert_int_eq(st, FRAMER_COMPLETE);
	ck_assert_uint_eq(f.length, 2);
	ck_assert_uint_eq(f.depth, 0);

	framer_reset(&f);
	ck_assert_uint_eq(framer_feed(&f, "{\"a\":[}]}", 9, &st), 8);
	ck_assert_int_eq(st, FRAMER_COMPLETE);
	ck_assert_uint_eq(f.length, 8);
}
END_TEST

START_TEST(test_complete_is_sticky)
{
	struct framer		f;
	enum framer_status	st;

	framer_init(&f, 16);
	ck_assert_uint_eq(framer_feed(&f, "{}{}", 4, &st), 2);
	ck_assert_int_eq(st, FRAMER_COMPLETE);
	ck_assert_uint_eq(framer_feed(&f, "{}", 2, &st), 0);
	ck_assert_int_eq(st, FRAMER_COMPLETE);
	ck_assert_uint_eq(f.length, 2);
	framer_reset(&f);
	ck_assert_uint_eq(f.length, 0);
	ck_assert_uint_eq(f.skipped, 0);
}
END_TEST

START_TEST(test_escapes_and_strings)
{
	struct framer		f;
	enum framer_status	st;
	/* Backslash at the end of a piece, then the escaped quote. */
	const char		*a = "{\"k\":\"x\\", *b = "\"}\"}";

	framer_init(&f, 64);
	ck_assert_uint_eq(framer_feed(&f, a, strlen(a), &st), strlen(a));
	ck_assert_int_eq(st, FRAMER_NEED_MORE);
	ck_assert_int_eq(f.escaped, 1);
	ck_assert_uint_eq(framer_feed(&f, b, strlen(b), &st), 4);
	ck_assert_int_eq(st, FRAMER_COMPLETE);
	ck_assert_uint_eq(f.length, strlen(a) + 4);

	/* A brace in a key, and a backslash outside strings. */
	framer_reset(&f);
	ck_assert_uint_eq(framer_feed(&f, "{\"}\":\\}", 7, &st), 7);
	ck_assert_int_eq(st, FRAMER_COMPLETE);
}
END_TEST

START_TEST(test_unclosed_string_hits_limit)
{
	struct framer		f;
	enum framer_status	st;
	char			buf[40];

	memset(buf, '}', sizeof(buf));
	memcpy(buf, "{\"", 2);
	framer_init(&f, 32);
	ck_assert_uint_eq(framer_feed(&f, buf, sizeof(buf), &st), 32);
	ck_assert_int_eq(st, FRAMER_TOO_LARGE);
	ck_assert_int_eq(f.in_string, 1);
}
END_TEST

/*
 * The framer's rules one byte at a time, as the first version of the
 * framer applied them: the model the table-driven scan must agree with.
 * Returns the outcome after feeding s[0, n) in one piece from a fresh
 * state, the object's length in *len and the whitespace in *skipped.
 */
static enum framer_status
model_frame(const char *s, size_t n, size_t max, size_t *skipped,
    size_t *len)
{
	unsigned int	depth = 0;
	int		in_string = 0, escaped = 0;
	size_t		i = 0;

	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' ||
	    s[i] == '\r'))
		i++;
	*skipped = i;
	*len = 0;
	if (i == n)
		return (FRAMER_NEED_MORE);
	if (s[i] != '{')
		return (FRAMER_NOT_OBJECT);
	for (; i < n; i++) {
		if (*len == max)
			return (FRAMER_TOO_LARGE);
		(*len)++;
		if (escaped)
			escaped = 0;
		else if (in_string && s[i] == '\\')
			escaped = 1;
		else if (s[i] == '"')
			in_string = !in_string;
		else if (!in_string && (s[i] == '{' || s[i] == '['))
			depth++;
		else if (!in_string && (s[i] == '}' || s[i] == ']') &&
		    --depth == 0)
			return (FRAMER_COMPLETE);
	}
	return (FRAMER_NEED_MORE);
}

/*
 * Random streams over the bytes that matter (and one that does not), cut
 * at random points: the framer agrees with the model on the outcome, the
 * object's span and the whitespace before it.
 */
START_TEST(test_agrees_with_byte_model)
{
	static const char	alphabet[] = "{}[]\"\\ \na";
	char			buf[96];
	struct framer		f;
	enum framer_status	st, want;
	size_t			n, pos, used, skipped, len, max, i;
	int			round;

	srandom(7);
	for (round = 0; round < 200000; round++) {
		n = 1 + (size_t)random() % sizeof(buf);
		for (i = 0; i < n; i++)
			buf[i] = alphabet[random() % (sizeof(alphabet) - 1)];
		if (random() % 2)
			buf[random() % n] = '{';
		max = 1 + (size_t)random() % 64;
		want = model_frame(buf, n, max, &skipped, &len);
		framer_init(&f, max);
		st = FRAMER_NEED_MORE;
		for (pos = 0; pos < n && st == FRAMER_NEED_MORE; pos += used)
			used = framer_feed(&f, buf + pos, 1 +
			    (size_t)random() % (n - pos), &st);
		ck_assert_int_eq(st, want);
		ck_assert_uint_eq(f.skipped, skipped);
		ck_assert_uint_eq(f.length, len);
	}
}
END_TEST

static Suite *
framer_suite(void)
{
	Suite	*s = suite_create("framer");
	TCase	*tc = tcase_create("framer");

	build_stream();
	tcase_add_test(tc, test_one_chunk);
	tcase_add_test(tc, test_one_byte_at_a_time);
	tcase_add_loop_test(tc, test_split_at_every_boundary, 0,
	    (int)stream_len + 1);
	tcase_add_test(tc, test_leading_whitespace_counted);
	tcase_add_test(tc, test_whitespace_only_and_drain);
	tcase_add_test(tc, test_no_whitespace_between);
	tcase_add_test(tc, test_exactly_max_completes);
	tcase_add_test(tc, test_too_large_at_max_plus_one);
	tcase_add_test(tc, test_request_limit);
	tcase_add_test(tc, test_not_object);
	tcase_add_test(tc, test_mismatched_closer_ends_frame);
	tcase_add_test(tc, test_complete_is_sticky);
	tcase_add_test(tc, test_escapes_and_strings);
	tcase_add_test(tc, test_unclosed_string_hits_limit);
	tcase_add_test(tc, test_agrees_with_byte_model);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (suite_run(framer_suite()));
}
