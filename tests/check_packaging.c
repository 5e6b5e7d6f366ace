/*
 * What make install ships agrees with the daemon: the man page documents
 * every flag in the order -help lists them, containment_breach.conf(5)
 * documents every configuration key, and the example configuration in
 * etc/ holds every key exactly once, commented out, and parses once its
 * settings are uncommented.  The flags come from the daemon's own -help
 * ($CB_BINARY), the keys from the option table; the files from the source
 * tree ($CB_SRCDIR).
 */
#include "autoconf.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "suite.h"

#define MAX_FLAGS	64
#define NAME_MAX_LEN	64
#define LINE_MAX_LEN	1024

struct names {
	char	 v[MAX_FLAGS][NAME_MAX_LEN];
	size_t	 n;
};

static void	usage_flags(struct names *);
static FILE	*source_file(const char *);
static void	man_flags(struct names *);
static int	is_key(const char *);
static int	lines_starting(const char *, const char *);
static void	uncomment_example(const char *, char *, size_t);

/* The flags -help lists, in its order. */
static void
usage_flags(struct names *f)
{
	char	 cmd[LINE_MAX_LEN], line[LINE_MAX_LEN];
	FILE	*fp;
	size_t	 len;

	ck_assert_ptr_nonnull(getenv("CB_BINARY"));
	snprintf(cmd, sizeof(cmd), "'%s' -help", getenv("CB_BINARY"));
	ck_assert_ptr_nonnull(fp = popen(cmd, "r"));
	f->n = 0;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (strncmp(line, "  -", 3) != 0)
			continue;
		len = strcspn(line + 3, " \n");
		ck_assert_uint_lt(len, NAME_MAX_LEN);
		ck_assert_uint_lt(f->n, MAX_FLAGS);
		memcpy(f->v[f->n], line + 3, len);
		f->v[f->n++][len] = '\0';
	}
	ck_assert_int_eq(pclose(fp), 0);
	ck_assert_uint_gt(f->n, 5);
}

/* Opens a file of the source tree. */
static FILE *
source_file(const char *name)
{
	char	 path[LINE_MAX_LEN];
	FILE	*fp;

	ck_assert_ptr_nonnull(getenv("CB_SRCDIR"));
	snprintf(path, sizeof(path), "%s/%s", getenv("CB_SRCDIR"), name);
	fp = fopen(path, "r");
	ck_assert_msg(fp != NULL, "cannot open %s", path);
	return (fp);
}

/* The flags containment_breach(8) describes (".It Fl name"), in order. */
static void
man_flags(struct names *f)
{
	char	 line[LINE_MAX_LEN];
	FILE	*fp = source_file("man/containment_breach.8.in");
	size_t	 len;

	f->n = 0;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (strncmp(line, ".It Fl ", 7) != 0)
			continue;
		len = strcspn(line + 7, " \n");
		if (len == 1 && line[7] == 'h')
			continue;	/* -h, -help, --help: not in -help */
		ck_assert_uint_lt(len, NAME_MAX_LEN);
		ck_assert_uint_lt(f->n, MAX_FLAGS);
		memcpy(f->v[f->n], line + 7, len);
		f->v[f->n++][len] = '\0';
	}
	fclose(fp);
}

/* Whether the flag is also a configuration file key. */
static int
is_key(const char *name)
{
	const struct config_option	*opt;

	opt = config_find(name, strlen(name));
	ck_assert_msg(opt != NULL, "-%s is not in the option table", name);
	return (config_option_is_key(opt));
}

/* How many lines of the source file start with prefix. */
static int
lines_starting(const char *name, const char *prefix)
{
	char	 line[LINE_MAX_LEN];
	FILE	*fp = source_file(name);
	int	 n = 0;

	while (fgets(line, sizeof(line), fp) != NULL)
		n += strncmp(line, prefix, strlen(prefix)) == 0;
	fclose(fp);
	return (n);
}

/*
 * Writes the example configuration with its settings uncommented
 * ("#key = value" becomes "key = value") to a temporary file.
 */
static void
uncomment_example(const char *name, char *path, size_t pathlen)
{
	char	 line[LINE_MAX_LEN];
	FILE	*in = source_file(name), *out;
	int	 fd;

	snprintf(path, pathlen, "/tmp/cb_example_conf.XXXXXX");
	ck_assert_int_ne(fd = mkstemp(path), -1);
	ck_assert_ptr_nonnull(out = fdopen(fd, "w"));
	while (fgets(line, sizeof(line), in) != NULL) {
		if (line[0] == '#' && line[1] >= 'a' && line[1] <= 'z' &&
		    strstr(line, " =") != NULL)
			fputs(line + 1, out);
		else
			fputs(line, out);
	}
	fclose(in);
	ck_assert_int_eq(fclose(out), 0);
}

/* containment_breach(8) lists every flag, in the order of -help. */
START_TEST(test_man_page_flags)
{
	struct names	*usage, *man;
	size_t		 i;

	ck_assert_ptr_nonnull(usage = calloc(1, sizeof(*usage)));
	ck_assert_ptr_nonnull(man = calloc(1, sizeof(*man)));
	usage_flags(usage);
	man_flags(man);
	for (i = 0; i < usage->n && i < man->n; i++)
		ck_assert_msg(strcmp(usage->v[i], man->v[i]) == 0,
		    "flag %zu: -help has -%s, the man page -%s", i,
		    usage->v[i], man->v[i]);
	ck_assert_msg(usage->n == man->n, "-help has %zu flags, the man "
	    "page %zu", usage->n, man->n);
	free(usage);
	free(man);
}
END_TEST

/* containment_breach.conf(5) describes every file key, once. */
START_TEST(test_every_key_documented)
{
	struct names	*usage;
	char		 prefix[LINE_MAX_LEN];
	size_t		 i, keys = 0;
	int		 n;

	ck_assert_ptr_nonnull(usage = calloc(1, sizeof(*usage)));
	usage_flags(usage);
	for (i = 0; i < usage->n; i++) {
		snprintf(prefix, sizeof(prefix), ".It Cm %s No = ",
		    usage->v[i]);
		n = lines_starting("man/containment_breach.conf.5.in", prefix);
		ck_assert_msg(n == (is_key(usage->v[i]) ? 1 : 0),
		    "containment_breach.conf(5) has %d entries %s", n, prefix);
		keys += (size_t)n;
	}
	ck_assert_uint_gt(keys, 5);
	free(usage);
}
END_TEST

/* The example holds each key once, commented out, and nothing else set. */
START_TEST(test_example_lists_every_key)
{
	struct names	*usage;
	char		 line[LINE_MAX_LEN], prefix[NAME_MAX_LEN + 8];
	FILE		*fp;
	size_t		 i;
	int		 n;

	ck_assert_ptr_nonnull(usage = calloc(1, sizeof(*usage)));
	usage_flags(usage);
	for (i = 0; i < usage->n; i++) {
		snprintf(prefix, sizeof(prefix), "#%s =", usage->v[i]);
		n = lines_starting("etc/containment_breach.conf", prefix);
		ck_assert_msg(n == (is_key(usage->v[i]) ? 1 : 0),
		    "etc/containment_breach.conf has %d lines %s", n, prefix);
	}
	fp = source_file("etc/containment_breach.conf");
	while (fgets(line, sizeof(line), fp) != NULL)
		ck_assert_msg(line[0] == '#' || line[0] == '\n',
		    "a setting not commented out: %s", line);
	fclose(fp);
	free(usage);
}
END_TEST

/* Uncommented, the example parses and sets every default it shows. */
START_TEST(test_example_parses_to_defaults)
{
	struct config	conf;
	char		path[64], why[256];
	int		rc;

	uncomment_example("etc/containment_breach.conf", path, sizeof(path));
	config_init(&conf);
	rc = config_load_file(&conf, path, 1, why, sizeof(why));
	unlink(path);
	ck_assert_msg(rc == 0, "%s", why);
	ck_assert_int_eq(conf.port, CONFIG_DEFAULT_PORT);
	ck_assert_uint_eq(conf.lease_timeout, CONFIG_DEFAULT_LEASE_TIMEOUT);
	ck_assert_uint_eq(conf.udp_grace, CONFIG_DEFAULT_UDP_GRACE);
	ck_assert_str_eq(conf.admin, CONFIG_DEFAULT_ADMIN);
	ck_assert_int_eq(conf.log_level, LOG_LEVEL_INFO);
	ck_assert_int_eq(conf.daemonize, 0);
	ck_assert_uint_eq(conf.bind_addrlen, 0);
	ck_assert_ptr_null(conf.admin_token_file);
	ck_assert_ptr_null(conf.pidfile);
	ck_assert_ptr_null(conf.user);
	config_free(&conf);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("packaging");
	TCase	*tc = tcase_create("shipped files");

	tcase_add_test(tc, test_man_page_flags);
	tcase_add_test(tc, test_every_key_documented);
	tcase_add_test(tc, test_example_lists_every_key);
	tcase_add_test(tc, test_example_parses_to_defaults);
	suite_add_tcase(s, tc);
	return (suite_run(s));
}
