/*
 * Unit tests for the configuration file and config_build(): comments,
 * blank lines and whitespace, every key, every class of error with its
 * exact "FILE:LINE: problem" text, flags over the file whatever their
 * order, missing files (default and named) and the admin token file.
 *
 * Each test writes its files into a fresh directory under $TMPDIR and
 * builds the configuration as the daemon does, with "-config=FILE" and
 * the case's flags as the command line.
 */
#include "autoconf.h"

#include <sys/stat.h>
#include <netinet/in.h>

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "suite.h"

#define MAX_ARGS	8
#define WHY_MAX		512

/* A file that is refused, and the problem after "FILE:". */
struct bad_file {
	const char	*text;
	const char	*problem;	/* "LINE: problem" */
};

/* The scratch directory of one test and the files in it. */
struct scratch {
	char	dir[256];
	char	conf[300];
	char	token[300];
};

static void	scratch_init(struct scratch *);
static void	scratch_free(struct scratch *);
static void	write_file(const char *, const char *, size_t);
static int	build(const struct scratch *, const char *const *,
		    struct config *, char *);

/* Makes the directory and names the files in it. */
static void
scratch_init(struct scratch *s)
{
	const char	*tmp = getenv("TMPDIR");

	snprintf(s->dir, sizeof(s->dir), "%s/cb-conf-XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(s->dir));
	snprintf(s->conf, sizeof(s->conf), "%s/cb.conf", s->dir);
	snprintf(s->token, sizeof(s->token), "%s/token", s->dir);
}

static void
scratch_free(struct scratch *s)
{
	unlink(s->conf);
	unlink(s->token);
	rmdir(s->dir);
}

static void
write_file(const char *path, const char *text, size_t len)
{
	FILE	*fp;

	ck_assert_ptr_nonnull(fp = fopen(path, "w"));
	ck_assert_uint_eq(fwrite(text, 1, len, fp), len);
	ck_assert_int_eq(fclose(fp), 0);
}

/*
 * config_build() with "-config=<s->conf>" followed by args; a "%C" arg
 * is dropped and marks where the -config flag goes instead.
 */
static int
build(const struct scratch *s, const char *const *args, struct config *conf,
    char *why)
{
	char	*argv[MAX_ARGS + 3], config_arg[320];
	char	 prog[] = "containment_breach";
	int	 argc = 0, placed = 0, rc;

	snprintf(config_arg, sizeof(config_arg), "-config=%s", s->conf);
	argv[argc++] = prog;
	for (; args != NULL && *args != NULL; args++) {
		ck_assert_int_lt(argc, MAX_ARGS);
		if (strcmp(*args, "%C") == 0) {
			argv[argc++] = config_arg;
			placed = 1;
		} else
			argv[argc++] = (char *)(uintptr_t)*args;
	}
	if (!placed)
		argv[argc++] = config_arg;
	argv[argc] = NULL;
	*why = '\0';
	rc = config_build(conf, argc, argv, why, WHY_MAX);
	return (rc);
}

static const struct bad_file bad_files[] = {
	{ "foo = 1\n", "1: unknown key \"foo\"" },
	{ "Port = 1\n", "1: unknown key \"Port\"" },
	{ "port\n", "1: expected \"key = value\"" },
	{ "port 6969\n", "1: expected \"key = value\"" },
	{ "\n\n  = 5\n", "3: missing key before '='" },
	{ "# a comment\n\nport = abc\n",
	  "3: invalid value \"abc\" for key port: not a decimal integer" },
	{ "port = 70000\n",
	  "1: invalid value \"70000\" for key port: must be 1 to 65535" },
	{ "port =\n", "1: invalid value \"\" for key port: "
	  "not a decimal integer" },
	{ "lease_timeout = 0\n", "1: invalid value \"0\" for key "
	  "lease_timeout: must be 1 to 86400" },
	{ "port = 6969 # the default\n", "1: invalid value \"6969 # the "
	  "default\" for key port: not a decimal integer" },
	{ "udp_grace = 1e3\n", "1: invalid value \"1e3\" for key udp_grace: "
	  "not a decimal integer" },
	{ "bind = localhost\n", "1: invalid value \"localhost\" for key bind: "
	  "not an IPv4 or IPv6 address" },
	{ "admin = localhost:80\n", "1: invalid value \"localhost:80\" for "
	  "key admin: must be IPv4:PORT, [IPv6]:PORT or \"off\"" },
	{ "log_level = verbose\n", "1: invalid value \"verbose\" for key "
	  "log_level: must be debug, info, warn or error" },
	{ "daemon = yes\n", "1: invalid value \"yes\" for key daemon: "
	  "must be true or false" },
	{ "daemon\n", "1: expected \"key = value\"" },
	{ "pidfile = cb.pid\n", "1: invalid value \"cb.pid\" for key "
	  "pidfile: must be an absolute path" },
	{ "log = file\n", "1: invalid value \"file\" for key log: "
	  "must be stderr, syslog or an absolute path" },
	{ "user = no-such-user-cb\n", "1: invalid value \"no-such-user-cb\" "
	  "for key user: no such user" },
	{ "admin_token_file = token\n", "1: invalid value \"token\" for key "
	  "admin_token_file: must be an absolute path" },
	{ "config = /etc/other.conf\n",
	  "1: \"config\" is a command-line flag, not a file key" },
	{ "version = true\n",
	  "1: \"version\" is a command-line flag, not a file key" },
	{ "help = true\n", "1: unknown key \"help\"" },
	{ "-port = 1\n", "1: unknown key \"-port\"" },
	{ "port = 1\nlease_timeout = 5\nport = 2\n",
	  "3: duplicate key \"port\" (first on line 1)" },
	{ "log_level=debug\n# x\nlog_level = debug\n",
	  "3: duplicate key \"log_level\" (first on line 1)" },
	{ "fo\"o\x01 = 1\n", "1: unknown key \"fo?o?\"" },
	{ "port = \"6969\"\n", "1: invalid value \"?6969?\" for key port: "
	  "not a decimal integer" },
	{ "port = 1\nbad line\nport = 2\n", "2: expected \"key = value\"" },
};
#define N_BAD_FILES	(sizeof(bad_files) / sizeof(*bad_files))

/* Every class of error, with the file, the line and the problem. */
START_TEST(test_bad_file)
{
	struct scratch	s;
	struct config	conf;
	char		why[WHY_MAX], want[WHY_MAX];

	scratch_init(&s);
	write_file(s.conf, bad_files[_i].text, strlen(bad_files[_i].text));
	ck_assert_int_eq(build(&s, NULL, &conf, why), -1);
	snprintf(want, sizeof(want), "%s:%s", s.conf, bad_files[_i].problem);
	ck_assert_str_eq(why, want);
	config_free(&conf);
	scratch_free(&s);
}
END_TEST

/* A line over 4096 bytes, and a NUL byte, are refused by line. */
START_TEST(test_bad_bytes)
{
	static const char	 nul[] = "port = 1\nlog_level = i\0nfo\n";
	struct scratch		 s;
	struct config		 conf;
	char			 why[WHY_MAX], want[WHY_MAX], *big;

	scratch_init(&s);
	ck_assert_ptr_nonnull(big = malloc(6000));
	memcpy(big, "# ok\nbind = ", 12);
	memset(big + 12, 'x', 6000 - 13);
	big[5999] = '\n';
	write_file(s.conf, big, 6000);
	free(big);
	ck_assert_int_eq(build(&s, NULL, &conf, why), -1);
	snprintf(want, sizeof(want), "%s:2: line too long", s.conf);
	ck_assert_str_eq(why, want);
	config_free(&conf);

	write_file(s.conf, nul, sizeof(nul) - 1);
	ck_assert_int_eq(build(&s, NULL, &conf, why), -1);
	snprintf(want, sizeof(want), "%s:2: NUL byte in line", s.conf);
	ck_assert_str_eq(why, want);
	config_free(&conf);
	scratch_free(&s);
}
END_TEST

/* Comments, blank lines, whitespace, CRLF, '#' inside a value. */
START_TEST(test_layout)
{
	static const char	text[] =
	    "# Containment Breach\n"
	    "\n"
	    "   # indented comment = not a key\n"
	    "#port = 1\n"
	    "\t port\t=\t1234  \r\n"
	    "lease_timeout=77\n"
	    "   \t\n"
	    "log = /var/log/a#b.log\n"
	    "bind =\n"
	    "admin = [::1]:7001";		/* no final newline */
	struct scratch		s;
	struct config		conf;
	char			why[WHY_MAX];

	scratch_init(&s);
	write_file(s.conf, text, sizeof(text) - 1);
	ck_assert_int_eq(build(&s, NULL, &conf, why), 0);
	ck_assert_str_eq(why, "");
	ck_assert_int_eq(conf.port, 1234);
	ck_assert_uint_eq(conf.lease_timeout, 77);
	ck_assert_str_eq(conf.log, "/var/log/a#b.log");
	ck_assert_ptr_null(conf.bind);
	ck_assert_str_eq(conf.admin, "[::1]:7001");
	ck_assert_uint_eq(conf.admin_addrlen, sizeof(struct sockaddr_in6));
	ck_assert_str_eq(conf.config_file, s.conf);
	config_free(&conf);
	scratch_free(&s);
}
END_TEST

/* Every file key at once, each away from its default. */
START_TEST(test_every_key)
{
	struct scratch	s;
	struct config	conf;
	char		why[WHY_MAX], text[1024];

	scratch_init(&s);
	write_file(s.token, "s3cret\n", 7);
	snprintf(text, sizeof(text),
	    "admin = 127.0.0.1:7002\n"
	    "admin_token_file = %s\n"
	    "bind = 127.0.0.1\n"
	    "daemon = true\n"
	    "lease_timeout = 60\n"
	    "log = syslog\n"
	    "log_level = warn\n"
	    "pidfile = /run/cb.pid\n"
	    "port = 7000\n"
	    "udp_grace = 5\n"
	    "user = nobody\n", s.token);
	write_file(s.conf, text, strlen(text));
	ck_assert_int_eq(build(&s, NULL, &conf, why), 0);
	ck_assert_str_eq(conf.admin, "127.0.0.1:7002");
	ck_assert_str_eq(conf.admin_token_file, s.token);
	ck_assert_str_eq(conf.admin_token, "s3cret");
	ck_assert_str_eq(conf.bind, "127.0.0.1");
	ck_assert_int_eq(conf.daemonize, 1);
	ck_assert_uint_eq(conf.lease_timeout, 60);
	ck_assert_str_eq(conf.log, "syslog");
	ck_assert_int_eq(conf.log_level, LOG_LEVEL_WARN);
	ck_assert_str_eq(conf.pidfile, "/run/cb.pid");
	ck_assert_int_eq(conf.port, 7000);
	ck_assert_uint_eq(conf.udp_grace, 5);
	ck_assert_str_eq(conf.user, "nobody");
	ck_assert_int_eq(conf.print_version, 0);
	config_free(&conf);
	scratch_free(&s);
}
END_TEST

/* Flags win over the file, before or after -config on the line. */
START_TEST(test_flags_over_file)
{
	static const char	text[] = "port = 1111\nlease_timeout = 50\n"
	    "log_level = debug\ndaemon = true\nudp_grace = 40\n";
	static const char *const after[] = {
		"%C", "-port=2222", "--daemon=false", NULL
	};
	static const char *const before[] = {
		"-port", "2222", "-daemon=false", "%C", NULL
	};
	static const char *const clamp[] = { "-lease_timeout=20", NULL };
	const char *const	*cases[] = { after, before };
	struct scratch		 s;
	struct config		 conf;
	char			 why[WHY_MAX];
	size_t			 i;

	scratch_init(&s);
	write_file(s.conf, text, sizeof(text) - 1);
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(build(&s, cases[i], &conf, why), 0);
		ck_assert_int_eq(conf.port, 2222);
		ck_assert_int_eq(conf.daemonize, 0);
		ck_assert_uint_eq(conf.lease_timeout, 50);	/* file */
		ck_assert_int_eq(conf.log_level, LOG_LEVEL_DEBUG);
		ck_assert_uint_eq(conf.udp_grace, 40);
		ck_assert_int_eq(conf.udp_grace_clamped, 0);
		config_free(&conf);
	}
	/* udp_grace from the file, lease_timeout from a flag: clamped. */
	ck_assert_int_eq(build(&s, clamp, &conf, why), 0);
	ck_assert_uint_eq(conf.lease_timeout, 20);
	ck_assert_uint_eq(conf.udp_grace, 20);
	ck_assert_int_eq(conf.udp_grace_clamped, 1);
	config_free(&conf);
	scratch_free(&s);
}
END_TEST

/* A missing named file is an error; a missing default is not. */
START_TEST(test_missing_file)
{
	static const char *const none[] = { "%C", "-config=", NULL };
	struct scratch	s;
	struct config	conf;
	char		why[WHY_MAX], want[WHY_MAX];

	scratch_init(&s);
	ck_assert_int_eq(build(&s, NULL, &conf, why), -1);
	snprintf(want, sizeof(want), "%s: No such file or directory", s.conf);
	ck_assert_str_eq(why, want);
	config_free(&conf);

	config_init(&conf);
	ck_assert_int_eq(config_load_file(&conf, s.conf, 0, why,
	    sizeof(why)), 0);
	ck_assert_int_eq(config_load_file(&conf, s.conf, 1, why,
	    sizeof(why)), -1);
	ck_assert_str_eq(why, want);
	config_free(&conf);

	/* "-config=" (empty) reads no file at all. */
	ck_assert_int_eq(build(&s, none, &conf, why), 0);
	ck_assert_ptr_null(conf.config_file);
	ck_assert_int_eq(conf.port, CONFIG_DEFAULT_PORT);
	config_free(&conf);

	/* A directory is no file: named, it is an error. */
	ck_assert_int_eq(mkdir(s.conf, 0700), 0);
	ck_assert_int_eq(build(&s, NULL, &conf, why), -1);
	snprintf(want, sizeof(want), "%s: Is a directory", s.conf);
	ck_assert_str_eq(why, want);
	config_free(&conf);
	rmdir(s.conf);
	scratch_free(&s);
}
END_TEST

/* The token: trailing whitespace stripped; empty or unreadable refused. */
START_TEST(test_token)
{
	static const struct {
		const char	*content;
		const char	*token;		/* NULL: refused */
		const char	*problem;
	} cases[] = {
		{ "abc\n", "abc", NULL },
		{ "abc", "abc", NULL },
		{ "a-b_c.D~9+/= \r\n\t\n", "a-b_c.D~9+/=", NULL },
		{ "", NULL, "the admin token is empty" },
		{ " \n\n", NULL, "the admin token is empty" },
		{ "two words\n", NULL,
		  "the admin token holds whitespace or control characters" },
		{ " lead\n", NULL,
		  "the admin token holds whitespace or control characters" },
		{ "a\x01z\n", NULL,
		  "the admin token holds whitespace or control characters" },
	};
	const char	*args[2] = { NULL, NULL };
	struct scratch	 s;
	struct config	 conf;
	char		 why[WHY_MAX], want[WHY_MAX], arg[320];
	size_t		 i;

	scratch_init(&s);
	write_file(s.conf, "", 0);
	snprintf(arg, sizeof(arg), "-admin_token_file=%s", s.token);
	args[0] = arg;
	ck_assert_int_eq(build(&s, args, &conf, why), -1);
	snprintf(want, sizeof(want), "%s: No such file or directory",
	    s.token);
	ck_assert_str_eq(why, want);
	config_free(&conf);
	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		write_file(s.token, cases[i].content,
		    strlen(cases[i].content));
		if (cases[i].token != NULL) {
			ck_assert_int_eq(build(&s, args, &conf, why), 0);
			ck_assert_str_eq(conf.admin_token, cases[i].token);
		} else {
			ck_assert_int_eq(build(&s, args, &conf, why), -1);
			snprintf(want, sizeof(want), "%s: %s", s.token,
			    cases[i].problem);
			ck_assert_str_eq(why, want);
		}
		config_free(&conf);
		ck_assert_ptr_null(conf.admin_token);
	}
	scratch_free(&s);
}
END_TEST

/* A token longer than CONFIG_TOKEN_MAX is refused; no file, no token. */
START_TEST(test_token_limits)
{
	struct scratch	s;
	struct config	conf;
	char		why[WHY_MAX], want[WHY_MAX], arg[320], *big;
	const char	*args[2] = { NULL, NULL };

	scratch_init(&s);
	write_file(s.conf, "", 0);
	ck_assert_int_eq(build(&s, NULL, &conf, why), 0);
	ck_assert_ptr_null(conf.admin_token);
	ck_assert_ptr_null(conf.admin_token_file);
	config_free(&conf);

	ck_assert_ptr_nonnull(big = malloc(CONFIG_TOKEN_MAX + 1));
	memset(big, 'k', CONFIG_TOKEN_MAX + 1);
	write_file(s.token, big, CONFIG_TOKEN_MAX);
	snprintf(arg, sizeof(arg), "-admin_token_file=%s", s.token);
	args[0] = arg;
	ck_assert_int_eq(build(&s, args, &conf, why), 0);
	ck_assert_uint_eq(strlen(conf.admin_token), CONFIG_TOKEN_MAX);
	config_free(&conf);
	write_file(s.token, big, CONFIG_TOKEN_MAX + 1);
	ck_assert_int_eq(build(&s, args, &conf, why), -1);
	snprintf(want, sizeof(want), "%s: the admin token is too long",
	    s.token);
	ck_assert_str_eq(why, want);
	config_free(&conf);
	free(big);
	scratch_free(&s);
}
END_TEST

/* A reload keeps what needs a restart and takes the rest. */
START_TEST(test_keep_restart_only)
{
	static const char *const args_old[] = {
		"-port=1000", "-bind=127.0.0.1", "-lease_timeout=30", NULL
	};
	static const char *const args_new[] = {
		"-port=2000", "-bind=::1", "-lease_timeout=60",
		"-admin=off", "-log_level=debug", "-daemon", NULL
	};
	struct scratch	s;
	struct config	cur, fresh;
	char		why[WHY_MAX];

	scratch_init(&s);
	write_file(s.conf, "", 0);
	ck_assert_int_eq(build(&s, args_old, &cur, why), 0);
	ck_assert_int_eq(build(&s, args_new, &fresh, why), 0);
	config_keep_restart_only(&fresh, &cur);
	ck_assert_int_eq(fresh.port, 1000);
	ck_assert_str_eq(fresh.bind, "127.0.0.1");
	ck_assert_uint_eq(fresh.bind_addrlen, sizeof(struct sockaddr_in));
	ck_assert_str_eq(fresh.admin, "127.0.0.1:6970");
	ck_assert_uint_eq(fresh.admin_addrlen, sizeof(struct sockaddr_in));
	ck_assert_int_eq(fresh.daemonize, 0);
	ck_assert_uint_eq(fresh.lease_timeout, 60);
	ck_assert_int_eq(fresh.log_level, LOG_LEVEL_DEBUG);
	config_free(&cur);
	config_free(&fresh);
	scratch_free(&s);
}
END_TEST

/*
 * The shipped example, etc/containment_breach.conf, parses as it is (every
 * key commented out) and with every "#key = default" line uncommented,
 * which must then give exactly the defaults.
 */
START_TEST(test_example_file)
{
	struct scratch	 s;
	struct config	 conf, def;
	char		 why[WHY_MAX], *text, *line, *save, *out;
	size_t		 keys = 0, outlen;
	FILE		*fp, *mem;
	int		 c;

	scratch_init(&s);
	ck_assert_ptr_nonnull(fp = fopen(TOP_SRCDIR
	    "/etc/containment_breach.conf", "r"));
	ck_assert_ptr_nonnull(mem = open_memstream(&text, &outlen));
	while ((c = fgetc(fp)) != EOF)
		fputc(c, mem);
	fclose(mem);
	fclose(fp);
	write_file(s.conf, text, strlen(text));
	ck_assert_int_eq(build(&s, NULL, &conf, why), 0);
	config_free(&conf);

	ck_assert_ptr_nonnull(mem = open_memstream(&out, &outlen));
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#' && line[1] >= 'a' && line[1] <= 'z' &&
		    strstr(line, " =") != NULL) {
			line++;
			keys++;
		}
		fprintf(mem, "%s\n", line);
	}
	fclose(mem);
	free(text);
	ck_assert_uint_eq(keys, config_noptions() - 2);	/* -config, -version */
	write_file(s.conf, out, strlen(out));
	free(out);
	ck_assert_int_eq(build(&s, NULL, &conf, why), 0);
	config_init(&def);
	ck_assert_int_eq(conf.port, def.port);
	ck_assert_uint_eq(conf.lease_timeout, def.lease_timeout);
	ck_assert_uint_eq(conf.udp_grace, def.udp_grace);
	ck_assert_ptr_null(conf.bind);
	ck_assert_str_eq(conf.admin, def.admin);
	ck_assert_ptr_null(conf.admin_token_file);
	ck_assert_str_eq(conf.log, def.log);
	ck_assert_int_eq(conf.log_level, def.log_level);
	ck_assert_int_eq(conf.daemonize, 0);
	ck_assert_ptr_null(conf.pidfile);
	ck_assert_ptr_null(conf.user);
	config_free(&def);
	config_free(&conf);
	scratch_free(&s);
}
END_TEST

static Suite *
config_file_suite(void)
{
	Suite	*s = suite_create("config_file");
	TCase	*tc;

	tc = tcase_create("errors");
	tcase_add_loop_test(tc, test_bad_file, 0, (int)N_BAD_FILES);
	tcase_add_test(tc, test_bad_bytes);
	tcase_add_test(tc, test_missing_file);
	suite_add_tcase(s, tc);

	tc = tcase_create("files");
	tcase_add_test(tc, test_layout);
	tcase_add_test(tc, test_every_key);
	tcase_add_test(tc, test_flags_over_file);
	tcase_add_test(tc, test_keep_restart_only);
	tcase_add_test(tc, test_example_file);
	suite_add_tcase(s, tc);

	tc = tcase_create("token");
	tcase_add_test(tc, test_token);
	tcase_add_test(tc, test_token_limits);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (suite_run(config_file_suite()));
}
