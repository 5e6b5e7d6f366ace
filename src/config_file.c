/*
 * The configuration file, and the whole configuration built from it.
 *
 * The file holds "key = value" lines, one key per flag with the flag's
 * name (command-line actions such as -config and -version excepted).
 * Blank lines and lines whose first non-blank character is '#' are
 * skipped; a '#' anywhere else is part of the value.  Whitespace around
 * the key and the value is dropped.  Every value goes through the same
 * config_set() as the flags, so a bad value is refused with the same
 * reason.  A key given twice is an error: a file that says two things
 * about one setting is a mistake, not a preference.
 *
 * config_build() is the one way a configuration is made, at start and on
 * SIGHUP: defaults, then the file, then the command line again on top, so
 * flags win whatever their order; then the admin token is read.  An error
 * comes back as one "FILE:LINE: problem" text.
 */
#include "autoconf.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

#define CONFIG_LINE_MAX		4096	/* bytes in one line of the file */

static int	config_parse_quiet(struct config *, int, char *[], char *,
		    size_t);
static int	config_file_line(struct config *, char *, size_t *, size_t,
		    char *, size_t);
static char	*config_trim(char *);
static void	config_printable(char *, const char *, size_t);

/*
 * Builds conf from scratch: defaults, the file -config names (or the
 * default one), then argv over it, then the admin token.  The command
 * line must already have been checked by config_parse_args().  Returns
 * -1 with why set; conf must then only be freed.
 */
int
config_build(struct config *conf, int argc, char *argv[], char *why,
    size_t whylen)
{
	char	*path = NULL;
	int	 named, rc = -1;

	config_init(conf);
	if (config_parse_quiet(conf, argc, argv, why, whylen) == -1)
		return (-1);
	named = config_given(conf, "config");
	if (conf->config_file != NULL &&
	    (path = strdup(conf->config_file)) == NULL) {
		snprintf(why, whylen, "out of memory");
		return (-1);
	}
	config_free(conf);
	config_init(conf);
	if (path != NULL &&
	    config_load_file(conf, path, named, why, whylen) == -1)
		goto out;
	if (config_parse_quiet(conf, argc, argv, why, whylen) == -1 ||
	    config_load_token(conf, why, whylen) == -1)
		goto out;
	rc = 0;
out:
	free(path);
	return (rc);
}

/*
 * Reads the file into conf.  A missing file is an error only if required
 * (named on the command line).  Returns -1 with why as "FILE:LINE: ..."
 * or "FILE: ..."; conf may then hold part of the file.
 */
int
config_load_file(struct config *conf, const char *path, int required,
    char *why, size_t whylen)
{
	FILE	*fp;
	char	*line = NULL, problem[256];
	size_t	*seen, size = 0, lineno = 0;
	ssize_t	 len;
	int	 rc = 0;

	if ((fp = fopen(path, "re")) == NULL) {
		if (errno == ENOENT && !required)
			return (0);
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return (-1);
	}
	if ((seen = calloc(config_noptions(), sizeof(*seen))) == NULL) {
		fclose(fp);
		snprintf(why, whylen, "%s: out of memory", path);
		return (-1);
	}
	while (rc == 0 && (len = getline(&line, &size, fp)) != -1) {
		lineno++;
		if (len > CONFIG_LINE_MAX) {
			snprintf(problem, sizeof(problem), "line too long");
			rc = -1;
		} else if (memchr(line, '\0', (size_t)len) != NULL) {
			snprintf(problem, sizeof(problem), "NUL byte in line");
			rc = -1;
		} else
			rc = config_file_line(conf, line, seen, lineno,
			    problem, sizeof(problem));
	}
	if (rc == 0 && ferror(fp)) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		rc = -1;
	} else if (rc == -1)
		snprintf(why, whylen, "%s:%zu: %s", path, lineno, problem);
	free(line);
	free(seen);
	fclose(fp);
	return (rc);
}

/*
 * Reads the admin token from admin_token_file: the file's content less
 * trailing whitespace, which must be non-empty and free of whitespace and
 * control characters.  No file configured, no token.  The token itself
 * never goes into why.
 */
int
config_load_token(struct config *conf, char *why, size_t whylen)
{
	const char	*path = conf->admin_token_file;
	char		 buf[CONFIG_TOKEN_MAX + 1];
	ssize_t		 n;
	size_t		 len = 0, i;
	int		 fd;

	if (path == NULL)
		return (0);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return (-1);
	}
	while (len < sizeof(buf) && (n = read(fd, buf + len,
	    sizeof(buf) - len)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(why, whylen, "%s: %s", path, strerror(errno));
			close(fd);
			return (-1);
		}
		len += (size_t)n;
	}
	close(fd);
	while (len > 0 && isspace((unsigned char)buf[len - 1]))
		len--;
	for (i = 0; i < len; i++) {
		if (buf[i] <= ' ' || buf[i] == 0x7f)
			break;
	}
	if (len == 0 || len > CONFIG_TOKEN_MAX || i < len) {
		snprintf(why, whylen, "%s: %s", path, len == 0 ?
		    "the admin token is empty" : len > CONFIG_TOKEN_MAX ?
		    "the admin token is too long" :
		    "the admin token holds whitespace or control characters");
		explicit_bzero(buf, sizeof(buf));
		return (-1);
	}
	if ((conf->admin_token = strndup(buf, len)) == NULL)
		snprintf(why, whylen, "%s: out of memory", path);
	explicit_bzero(buf, sizeof(buf));
	return (conf->admin_token == NULL ? -1 : 0);
}

/* Applies argv to conf; any error (there should be none) comes back. */
static int
config_parse_quiet(struct config *conf, int argc, char *argv[], char *why,
    size_t whylen)
{
	char			*out = NULL, *err = NULL;
	size_t			 outlen, errlen;
	FILE			*fout, *ferr;
	enum config_result	 r = CONFIG_EXIT_USAGE;

	fout = open_memstream(&out, &outlen);
	ferr = open_memstream(&err, &errlen);
	if (fout != NULL && ferr != NULL)
		r = config_parse_args(conf, argc, argv, fout, ferr);
	if (fout != NULL)
		fclose(fout);
	if (ferr != NULL)
		fclose(ferr);
	if (r != CONFIG_RUN)
		snprintf(why, whylen, "command line: %.*s",
		    err != NULL ? (int)strcspn(err, "\n") : 0,
		    err != NULL ? err : "");
	free(out);
	free(err);
	return (r == CONFIG_RUN ? 0 : -1);
}

/* One line of the file; seen[] holds the line each key was set on. */
static int
config_file_line(struct config *conf, char *line, size_t *seen,
    size_t lineno, char *problem, size_t len)
{
	const struct config_option	*opt;
	char				*key, *value, *eq;
	char				 shown[64], why[128];
	size_t				 i;

	key = config_trim(line);
	if (*key == '\0' || *key == '#')
		return (0);
	if ((eq = strchr(key, '=')) == NULL) {
		snprintf(problem, len, "expected \"key = value\"");
		return (-1);
	}
	*eq = '\0';
	value = config_trim(eq + 1);
	key = config_trim(key);
	config_printable(shown, key, sizeof(shown));
	if (*key == '\0') {
		snprintf(problem, len, "missing key before '='");
		return (-1);
	}
	if ((opt = config_find(key, strlen(key))) == NULL) {
		snprintf(problem, len, "unknown key \"%s\"", shown);
		return (-1);
	}
	if (!config_option_is_key(opt)) {
		snprintf(problem, len, "\"%s\" is a command-line flag, not a "
		    "file key", shown);
		return (-1);
	}
	i = config_option_index(opt);
	if (seen[i] != 0) {
		snprintf(problem, len, "duplicate key \"%s\" (first on line "
		    "%zu)", shown, seen[i]);
		return (-1);
	}
	seen[i] = lineno;
	if (config_set(conf, opt, value, why, sizeof(why)) == -1) {
		config_printable(shown, value, sizeof(shown));
		snprintf(problem, len, "invalid value \"%s\" for key %s: %s",
		    shown, config_option_name(opt), why);
		return (-1);
	}
	return (0);
}

/* Drops leading and trailing whitespace, in place. */
static char *
config_trim(char *s)
{
	size_t	len;

	while (isspace((unsigned char)*s))
		s++;
	len = strlen(s);
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		s[--len] = '\0';
	return (s);
}

/*
 * Copies s for an error message: control characters and quotes become
 * '?', and a long text is cut with "...", so the message stays one line.
 */
static void
config_printable(char *buf, const char *s, size_t size)
{
	size_t	i;

	for (i = 0; s[i] != '\0' && i + 1 < size; i++) {
		buf[i] = (unsigned char)s[i] < ' ' || s[i] == 0x7f ||
		    s[i] == '"' ? '?' : s[i];
	}
	buf[i] = '\0';
	if (s[i] != '\0' && size > 4)
		memcpy(buf + size - 4, "...", 4);
}
