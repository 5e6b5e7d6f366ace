/*
 * Unit tests for the option table and the command line: every form of
 * every flag, every class of error with its exact message, help, version,
 * "--", positional arguments, last-wins duplicates and the defaults.
 *
 * Each parse is summarised as one "key=value ..." line (dump()), and a
 * case names only the keys it changes, so every case also checks that
 * nothing else moved.
 */
#include "autoconf.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "suite.h"

#define PROG		"containment_breach"
#define MAX_ARGS	12
#define DUMP_MAX	512

#define USAGE_TEXT							\
	"Usage of containment_breach:\n"				\
	"  -admin string\n"						\
	"    \tAdmin HTTP address (ADDR:PORT), or \"off\" "		\
	"(default \"127.0.0.1:6970\")\n"				\
	"  -admin_token_file string\n"					\
	"    \tFile holding the admin API bearer token "		\
	"(empty: no token)\n"						\
	"  -bind string\n"						\
	"    \tIP address to listen on (empty: every address, "		\
	"IPv4 and IPv6)\n"						\
	"  -config string\n"						\
	"    \tConfiguration file (empty: none; a missing default "	\
	"is ignored) (default \"" SYSCONFDIR				\
	"/containment_breach.conf\")\n"				\
	"  -daemon\n"							\
	"    \tDetach from the terminal and run in the background\n"	\
	"  -lease_timeout int\n"					\
	"    \tPeerPort lease timeout in seconds (default 90)\n"	\
	"  -log string\n"						\
	"    \tLog to stderr, syslog or a file (an absolute path) "	\
	"(default \"stderr\")\n"					\
	"  -log_level string\n"						\
	"    \tLog level: debug, info, warn or error "			\
	"(default \"info\")\n"						\
	"  -max_connections int\n"					\
	"    \tMost open TCP connections (0: from RLIMIT_NOFILE)\n"	\
	"  -max_leases int\n"						\
	"    \tMost leases held (0: no limit) (default 1000000)\n"	\
	"  -max_leases_per_ip int\n"					\
	"    \tMost leases held for one public IP (0: no limit) "	\
	"(default 4096)\n"						\
	"  -pidfile string\n"						\
	"    \tWrite the process id to this file (an absolute path)\n"	\
	"  -port int\n"							\
	"    \tServer UDP/TCP port (default 6969)\n"			\
	"  -rate_limit_tcp int\n"					\
	"    \tNew TCP connections per second per IP, burst twice "	\
	"(0: off)\n"							\
	"  -rate_limit_udp int\n"					\
	"    \tUDP registrations per second per IP, burst twice "	\
	"(0: off)\n"							\
	"  -udp_grace int\n"						\
	"    \tSeconds a request waits for its UDP registration "	\
	"(default 10)\n"						\
	"  -user string\n"						\
	"    \tDrop privileges to this user after binding\n"		\
	"  -version\n"							\
	"    \tPrint the version and exit\n"

#define VERSION_LINE	PROG " " PACKAGE_VERSION "\n"

#define ERR_INT		"not a decimal integer"
#define ERR_PORT	"must be 1 to 65535"
#define ERR_SECONDS	"must be 1 to 86400"
#define ERR_IP		"not an IPv4 or IPv6 address"
#define ERR_ADDR	"must be IPv4:PORT, [IPv6]:PORT or \"off\""
#define ERR_ADDR_INT	"port is not a decimal integer"
#define ERR_ADDR_PORT	"port must be 1 to 65535"
#define ERR_LEVEL	"must be debug, info, warn or error"
#define ERR_BOOL	"must be true or false"
#define ERR_PATH	"must be an absolute path"
#define ERR_LOG		"must be stderr, syslog or an absolute path"
#define ERR_USER	"no such user"

/* One parse of a command line, with what it wrote. */
struct run {
	struct config		 conf;
	enum config_result	 result;
	char			*out;
	char			*err;
};

/* A command line that parses, and the keys it changes. */
struct ok_case {
	const char	*args[MAX_ARGS];
	const char	*changes;
};

/* A command line that fails, and the first line it writes on err. */
struct bad_case {
	const char	*args[MAX_ARGS];
	const char	*line;
};

/* A flag and a value it takes, for each of the four spellings. */
struct form_case {
	const char	*flag;
	const char	*value;
	const char	*changes;
};

/* A flag and a value it refuses, for each of the four spellings. */
struct bad_value_case {
	const char	*flag;
	const char	*value;
	const char	*reason;
};

static void	run_parse(struct run *, const char *const *);
static void	run_free(struct run *);
static void	format_sa(const struct sockaddr_storage *, socklen_t, char *,
		    size_t);
static void	dump(const struct config *, char *, size_t);
static void	expect_changes(const struct config *, const char *);
static void	build_form(int, const char *, const char *, char *, size_t,
		    const char **);
static void	expect_usage_error(const struct run *, const char *);

static const char *const no_args[] = { NULL };

/* Parses args (without argv[0]), capturing out and err. */
static void
run_parse(struct run *r, const char *const *args)
{
	char	*argv[MAX_ARGS + 2];
	FILE	*out, *err;
	size_t	 outlen, errlen;
	int	 argc = 0, i;

	argv[argc++] = strdup(PROG);
	while (*args != NULL) {
		ck_assert_int_le(argc, MAX_ARGS);
		argv[argc++] = strdup(*args++);
	}
	argv[argc] = NULL;
	out = open_memstream(&r->out, &outlen);
	err = open_memstream(&r->err, &errlen);
	ck_assert_ptr_nonnull(out);
	ck_assert_ptr_nonnull(err);
	config_init(&r->conf);
	r->result = config_parse_args(&r->conf, argc, argv, out, err);
	fclose(out);
	fclose(err);
	for (i = 0; i < argc; i++)
		free(argv[i]);
}

/* Frees what run_parse() kept. */
static void
run_free(struct run *r)
{
	config_free(&r->conf);
	free(r->out);
	free(r->err);
}

/* "-" for no address, "a.b.c.d:P" or "[v6]:P"; "?" if the length lies. */
static void
format_sa(const struct sockaddr_storage *ss, socklen_t len, char *buf,
    size_t size)
{
	const struct sockaddr_in	*sin = (const void *)ss;
	const struct sockaddr_in6	*sin6 = (const void *)ss;
	char				 ip[INET6_ADDRSTRLEN];

	if (len == 0)
		snprintf(buf, size, "-");
	else if (ss->ss_family == AF_INET && len == sizeof(*sin))
		snprintf(buf, size, "%s:%u", inet_ntop(AF_INET,
		    &sin->sin_addr, ip, sizeof(ip)), ntohs(sin->sin_port));
	else if (ss->ss_family == AF_INET6 && len == sizeof(*sin6))
		snprintf(buf, size, "[%s]:%u", inet_ntop(AF_INET6,
		    &sin6->sin6_addr, ip, sizeof(ip)), ntohs(sin6->sin6_port));
	else
		snprintf(buf, size, "?");
}

/* The whole configuration as one line of "key=value" pairs. */
static void
dump(const struct config *c, char *buf, size_t size)
{
	char	bind_sa[64], admin_sa[64];

	format_sa(&c->bind_addr, c->bind_addrlen, bind_sa, sizeof(bind_sa));
	format_sa(&c->admin_addr, c->admin_addrlen, admin_sa,
	    sizeof(admin_sa));
	snprintf(buf, size, "port=%d lease_timeout=%u udp_grace=%u "
	    "clamped=%d bind=%s bind_sa=%s admin=%s admin_sa=%s "
	    "log_level=%s version=%d log=%s daemon=%d pidfile=%s user=%s "
	    "token_file=%s config=%s", c->port, c->lease_timeout,
	    c->udp_grace, c->udp_grace_clamped,
	    c->bind != NULL ? c->bind : "-", bind_sa,
	    c->admin != NULL ? c->admin : "-", admin_sa,
	    log_level_name(c->log_level), c->print_version, c->log,
	    c->daemonize, c->pidfile != NULL ? c->pidfile : "-",
	    c->user != NULL ? c->user : "-",
	    c->admin_token_file != NULL ? c->admin_token_file : "-",
	    c->config_file != NULL ? c->config_file : "-");
}

/*
 * Checks that conf is the default configuration except for changes, a
 * "key=value ..." list; every key named there must exist.
 */
static void
expect_changes(const struct config *conf, const char *changes)
{
	struct config	 def;
	char		 base[DUMP_MAX], want[DUMP_MAX] = "", got[DUMP_MAX];
	char		 chg[DUMP_MAX], *tok, *ctok, *save, *csave, *pick;
	size_t		 klen;
	int		 found = 0, nchanges = 0;

	config_init(&def);
	dump(&def, base, sizeof(base));
	config_free(&def);
	for (tok = strtok_r(base, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		klen = strcspn(tok, "=") + 1;
		pick = tok;
		snprintf(chg, sizeof(chg), "%s", changes);
		for (ctok = strtok_r(chg, " ", &csave); ctok != NULL;
		    ctok = strtok_r(NULL, " ", &csave)) {
			if (strncmp(ctok, tok, klen) == 0) {
				pick = ctok;
				found++;
			}
		}
		strcat(want, *want != '\0' ? " " : "");
		strcat(want, pick);
	}
	snprintf(chg, sizeof(chg), "%s", changes);
	for (ctok = strtok_r(chg, " ", &csave); ctok != NULL;
	    ctok = strtok_r(NULL, " ", &csave))
		nchanges++;
	ck_assert_msg(found == nchanges, "unknown key in \"%s\"", changes);
	dump(conf, got, sizeof(got));
	ck_assert_str_eq(got, want);
}

/* Spells flag and value in form 0..3: -f=v, -f v, --f=v, --f v. */
static void
build_form(int form, const char *flag, const char *value, char *buf,
    size_t size, const char **args)
{
	snprintf(buf, size, "%s%s%s%s", form >= 2 ? "--" : "-", flag,
	    form % 2 == 0 ? "=" : "", form % 2 == 0 ? value : "");
	args[0] = buf;
	args[1] = form % 2 == 0 ? NULL : value;
	args[2] = NULL;
}

/* An error: nothing on out; line, then the usage, on err. */
static void
expect_usage_error(const struct run *r, const char *line)
{
	char	want[4096];

	ck_assert_int_eq(r->result, CONFIG_EXIT_USAGE);
	ck_assert_str_eq(r->out, "");
	snprintf(want, sizeof(want), PROG ": %s\n" USAGE_TEXT, line);
	ck_assert_str_eq(r->err, want);
}

static const struct form_case form_cases[] = {
	{ "port", "1234", "port=1234" },
	{ "port", "1", "port=1" },
	{ "port", "65535", "port=65535" },
	{ "port", "0080", "port=80" },
	{ "lease_timeout", "77", "lease_timeout=77" },
	{ "lease_timeout", "86400", "lease_timeout=86400" },
	{ "lease_timeout", "10", "lease_timeout=10" },
	{ "udp_grace", "7", "udp_grace=7" },
	{ "udp_grace", "1", "udp_grace=1" },
	{ "udp_grace", "90", "udp_grace=90" },
	{ "bind", "127.0.0.1", "bind=127.0.0.1 bind_sa=127.0.0.1:0" },
	{ "bind", "0.0.0.0", "bind=0.0.0.0 bind_sa=0.0.0.0:0" },
	{ "bind", "::1", "bind=::1 bind_sa=[::1]:0" },
	{ "bind", "[::1]", "bind=::1 bind_sa=[::1]:0" },
	{ "bind", "::", "bind=:: bind_sa=[::]:0" },
	{ "bind", "[2001:db8::7]", "bind=2001:db8::7 bind_sa=[2001:db8::7]:0" },
	{ "bind", "::ffff:10.0.0.1",
	  "bind=::ffff:10.0.0.1 bind_sa=10.0.0.1:0" },
	{ "bind", "", "" },
	{ "admin", "[::1]:6970", "admin=[::1]:6970 admin_sa=[::1]:6970" },
	{ "admin", "0.0.0.0:6970", "admin=0.0.0.0:6970 admin_sa=0.0.0.0:6970" },
	{ "admin", "127.0.0.1:6970", "" },
	{ "admin", "off", "admin=off admin_sa=-" },
	{ "admin", "10.1.2.3:1", "admin=10.1.2.3:1 admin_sa=10.1.2.3:1" },
	{ "admin", "10.1.2.3:65535",
	  "admin=10.1.2.3:65535 admin_sa=10.1.2.3:65535" },
	{ "admin", "[2001:db8::1]:8080",
	  "admin=[2001:db8::1]:8080 admin_sa=[2001:db8::1]:8080" },
	{ "log_level", "debug", "log_level=debug" },
	{ "log_level", "info", "" },
	{ "log_level", "warn", "log_level=warn" },
	{ "log_level", "error", "log_level=error" },
	{ "log", "syslog", "log=syslog" },
	{ "log", "stderr", "" },
	{ "log", "/var/log/cb.log", "log=/var/log/cb.log" },
	{ "pidfile", "/run/cb.pid", "pidfile=/run/cb.pid" },
	{ "pidfile", "", "" },
	{ "user", "nobody", "user=nobody" },
	{ "user", "", "" },
	{ "admin_token_file", "/etc/cb.token", "token_file=/etc/cb.token" },
	{ "config", "/tmp/cb.conf", "config=/tmp/cb.conf" },
	{ "config", "", "config=-" },
};
#define N_FORM_CASES	(sizeof(form_cases) / sizeof(*form_cases))

/* Every accepted value, in every one of the four spellings. */
START_TEST(test_forms)
{
	const struct form_case	*fc = &form_cases[_i / 4];
	const char		*args[3];
	char			 buf[128];
	struct run		 r;

	build_form(_i % 4, fc->flag, fc->value, buf, sizeof(buf), args);
	run_parse(&r, args);
	ck_assert_int_eq(r.result, CONFIG_RUN);
	ck_assert_str_eq(r.out, "");
	ck_assert_str_eq(r.err, "");
	expect_changes(&r.conf, fc->changes);
	run_free(&r);
}
END_TEST

static const struct bad_value_case bad_values[] = {
	{ "port", "abc", ERR_INT },
	{ "port", "", ERR_INT },
	{ "port", "+5", ERR_INT },
	{ "port", "0x10", ERR_INT },
	{ "port", " 5", ERR_INT },
	{ "port", "5 ", ERR_INT },
	{ "port", "1.5", ERR_INT },
	{ "port", "1e3", ERR_INT },
	{ "port", "-", ERR_INT },
	{ "port", "0", ERR_PORT },
	{ "port", "-1", ERR_PORT },
	{ "port", "65536", ERR_PORT },
	{ "port", "70000", ERR_PORT },
	{ "port", "99999999999999999999", ERR_PORT },
	{ "port", "-99999999999999999999", ERR_PORT },
	{ "lease_timeout", "0", ERR_SECONDS },
	{ "lease_timeout", "-5", ERR_SECONDS },
	{ "lease_timeout", "86401", ERR_SECONDS },
	{ "lease_timeout", "abc", ERR_INT },
	{ "lease_timeout", "90s", ERR_INT },
	{ "udp_grace", "0", ERR_SECONDS },
	{ "udp_grace", "86401", ERR_SECONDS },
	{ "udp_grace", "4294967297", ERR_SECONDS },
	{ "udp_grace", "x", ERR_INT },
	{ "bind", "abc", ERR_IP },
	{ "bind", "localhost", ERR_IP },
	{ "bind", "1.2.3", ERR_IP },
	{ "bind", "1.2.3.4.5", ERR_IP },
	{ "bind", "256.1.1.1", ERR_IP },
	{ "bind", " 1.2.3.4", ERR_IP },
	{ "bind", "[1.2.3.4]", ERR_IP },
	{ "bind", "[::1", ERR_IP },
	{ "bind", "::1]", ERR_IP },
	{ "bind", "[]", ERR_IP },
	{ "bind", "[", ERR_IP },
	{ "bind", "1.2.3.4:80", ERR_IP },
	{ "bind", "[::1]:80", ERR_IP },
	{ "bind", "fe80::1%lo", ERR_IP },
	{ "bind", "1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:"
	  "cccc:dddd", ERR_IP },
	{ "admin", "127.0.0.1", ERR_ADDR },
	{ "admin", "localhost:80", ERR_ADDR },
	{ "admin", "[::1]", ERR_ADDR },
	{ "admin", "::1", ERR_ADDR },
	{ "admin", "::1:6970", ERR_ADDR },
	{ "admin", "[::1]6970", ERR_ADDR },
	{ "admin", "[1.2.3.4]:80", ERR_ADDR },
	{ "admin", "[fe80::1%lo]:80", ERR_ADDR },
	{ "admin", ":80", ERR_ADDR },
	{ "admin", "1.2.3.4:80:90", ERR_ADDR },
	{ "admin", "", ERR_ADDR },
	{ "admin", "OFF", ERR_ADDR },
	{ "admin", "1.2.3.4:", ERR_ADDR_INT },
	{ "admin", "[::1]:", ERR_ADDR_INT },
	{ "admin", "1.2.3.4:80x", ERR_ADDR_INT },
	{ "admin", "1.2.3.4:+80", ERR_ADDR_INT },
	{ "admin", "1.2.3.4: 80", ERR_ADDR_INT },
	{ "admin", "1.2.3.4:0x50", ERR_ADDR_INT },
	{ "admin", "1.2.3.4:0", ERR_ADDR_PORT },
	{ "admin", "1.2.3.4:-1", ERR_ADDR_PORT },
	{ "admin", "1.2.3.4:70000", ERR_ADDR_PORT },
	{ "admin", "[::1]:65536", ERR_ADDR_PORT },
	{ "log_level", "verbose", ERR_LEVEL },
	{ "log_level", "INFO", ERR_LEVEL },
	{ "log_level", "warning", ERR_LEVEL },
	{ "log_level", "", ERR_LEVEL },
	{ "log", "file", ERR_LOG },
	{ "log", "", ERR_LOG },
	{ "log", "Syslog", ERR_LOG },
	{ "pidfile", "run/cb.pid", ERR_PATH },
	{ "admin_token_file", "token", ERR_PATH },
	{ "config", "./cb.conf", ERR_PATH },
	{ "user", "no-such-user-cb", ERR_USER },
};
#define N_BAD_VALUES	(sizeof(bad_values) / sizeof(*bad_values))

/* Every refused value, in every spelling, with its exact message. */
START_TEST(test_bad_values)
{
	const struct bad_value_case	*bc = &bad_values[_i / 4];
	const char			*args[3];
	char				 buf[128], line[256];
	struct run			 r;

	build_form(_i % 4, bc->flag, bc->value, buf, sizeof(buf), args);
	run_parse(&r, args);
	snprintf(line, sizeof(line), "invalid value \"%s\" for flag -%s: %s",
	    bc->value, bc->flag, bc->reason);
	expect_usage_error(&r, line);
	run_free(&r);
}
END_TEST

static const struct bad_case bad_cases[] = {
	{ { "-foo" }, "flag provided but not defined: -foo" },
	{ { "--foo=1" }, "flag provided but not defined: -foo" },
	{ { "-foo", "-port=1" }, "flag provided but not defined: -foo" },
	{ { "-port=1", "-foo" }, "flag provided but not defined: -foo" },
	{ { "-Port=1" }, "flag provided but not defined: -Port" },
	{ { "-port_" }, "flag provided but not defined: -port_" },
	{ { "-p" }, "flag provided but not defined: -p" },
	{ { "-fo\no\"" }, "flag provided but not defined: -fo\\no\\\"" },
	{ { "-port" }, "flag needs an argument: -port" },
	{ { "--port" }, "flag needs an argument: -port" },
	{ { "-lease_timeout" }, "flag needs an argument: -lease_timeout" },
	{ { "--udp_grace" }, "flag needs an argument: -udp_grace" },
	{ { "-bind" }, "flag needs an argument: -bind" },
	{ { "-admin" }, "flag needs an argument: -admin" },
	{ { "-port=1", "--log_level" }, "flag needs an argument: -log_level" },
	{ { "-port", "--" },
	  "invalid value \"--\" for flag -port: " ERR_INT },
	{ { "-port", "-h" },
	  "invalid value \"-h\" for flag -port: " ERR_INT },
	{ { "-port=a\"b\\\n\x01" },
	  "invalid value \"a\\\"b\\\\\\n\\x01\" for flag -port: " ERR_INT },
	{ { "-version=yes" },
	  "invalid value \"yes\" for flag -version: " ERR_BOOL },
	{ { "--version=" },
	  "invalid value \"\" for flag -version: " ERR_BOOL },
	{ { "-version=on" },
	  "invalid value \"on\" for flag -version: " ERR_BOOL },
	{ { "-daemon=yes" },
	  "invalid value \"yes\" for flag -daemon: " ERR_BOOL },
	{ { "-version=2" },
	  "invalid value \"2\" for flag -version: " ERR_BOOL },
	{ { "---port=1" }, "bad flag syntax: ---port=1" },
	{ { "-=1" }, "bad flag syntax: -=1" },
	{ { "--=1" }, "bad flag syntax: --=1" },
	{ { "x" }, "unexpected argument: \"x\"" },
	{ { "-port=1", "x" }, "unexpected argument: \"x\"" },
	{ { "-port", "1", "extra" }, "unexpected argument: \"extra\"" },
	{ { "x", "-port=abc" }, "unexpected argument: \"x\"" },
	{ { "x", "-h" }, "unexpected argument: \"x\"" },
	{ { "-" }, "unexpected argument: \"-\"" },
	{ { "-port=1", "-", "-port=2" }, "unexpected argument: \"-\"" },
	{ { "--", "-port=1" }, "unexpected argument: \"-port=1\"" },
	{ { "--", "--" }, "unexpected argument: \"--\"" },
	{ { "--", "-h" }, "unexpected argument: \"-h\"" },
	{ { "--", "" }, "unexpected argument: \"\"" },
	{ { "" }, "unexpected argument: \"\"" },
	{ { "-version", "false" }, "unexpected argument: \"false\"" },
	{ { "-version", "x" }, "unexpected argument: \"x\"" },
	{ { "-version", "-port=abc" },
	  "invalid value \"abc\" for flag -port: " ERR_INT },
	{ { "-port=abc", "-h" },
	  "invalid value \"abc\" for flag -port: " ERR_INT },
	{ { "-port=1", "-port=abc" },
	  "invalid value \"abc\" for flag -port: " ERR_INT },
	{ { "-lease_timeout=0" },
	  "invalid value \"0\" for flag -lease_timeout: " ERR_SECONDS },
};
#define N_BAD_CASES	(sizeof(bad_cases) / sizeof(*bad_cases))

/* Unknown flags, missing values, bad syntax and positional arguments. */
START_TEST(test_bad_cases)
{
	struct run	r;

	run_parse(&r, bad_cases[_i].args);
	expect_usage_error(&r, bad_cases[_i].line);
	run_free(&r);
}
END_TEST

static const struct ok_case ok_cases[] = {
	{ { NULL }, "" },
	{ { "--" }, "" },
	{ { "-port=1", "--" }, "port=1" },
	{ { "-port=1", "-port=2" }, "port=2" },
	{ { "-port", "1", "--port", "3" }, "port=3" },
	{ { "--port=4", "-port", "5" }, "port=5" },
	{ { "-admin=off", "-admin=10.0.0.1:80" },
	  "admin=10.0.0.1:80 admin_sa=10.0.0.1:80" },
	{ { "-admin=10.0.0.1:80", "-admin=off" }, "admin=off admin_sa=-" },
	{ { "-bind=::1", "-bind=" }, "" },
	{ { "-bind=::1", "-bind", "10.0.0.1" },
	  "bind=10.0.0.1 bind_sa=10.0.0.1:0" },
	{ { "-log_level=debug", "-log_level=error" }, "log_level=error" },
	{ { "-version", "-version=false" }, "" },
	{ { "-daemon" }, "daemon=1" },
	{ { "--daemon=true", "-daemon=0" }, "" },
	{ { "-pidfile=/run/a.pid", "-pidfile=" }, "" },
	{ { "-log=/var/log/a", "-log", "syslog" }, "log=syslog" },
	{ { "-port=1", "-version=false" }, "port=1" },
	{ { "-lease_timeout=5" }, "lease_timeout=5 udp_grace=5 clamped=1" },
	{ { "-udp_grace=100" }, "udp_grace=90 clamped=1" },
	{ { "-udp_grace=90" }, "udp_grace=90" },
	{ { "-lease_timeout=5", "-udp_grace=5" },
	  "lease_timeout=5 udp_grace=5" },
	{ { "-udp_grace=30", "-lease_timeout=20" },
	  "lease_timeout=20 udp_grace=20 clamped=1" },
	{ { "-lease_timeout=1", "-udp_grace=86400" },
	  "lease_timeout=1 udp_grace=1 clamped=1" },
	{ { "-lease_timeout=86400", "-udp_grace=86400" },
	  "lease_timeout=86400 udp_grace=86400" },
	{ { "-port=7000", "--lease_timeout", "60", "-udp_grace=5",
	    "--bind=[::]", "-admin", "[::1]:7001", "-log_level=warn" },
	  "port=7000 lease_timeout=60 udp_grace=5 bind=:: bind_sa=[::]:0 "
	  "admin=[::1]:7001 admin_sa=[::1]:7001 log_level=warn" },
};
#define N_OK_CASES	(sizeof(ok_cases) / sizeof(*ok_cases))

/* Whole command lines: "--", last-wins duplicates, clamping. */
START_TEST(test_ok_cases)
{
	struct run	r;

	run_parse(&r, ok_cases[_i].args);
	ck_assert_int_eq(r.result, CONFIG_RUN);
	ck_assert_str_eq(r.out, "");
	ck_assert_str_eq(r.err, "");
	expect_changes(&r.conf, ok_cases[_i].changes);
	run_free(&r);
}
END_TEST

static const char *const help_cases[][MAX_ARGS] = {
	{ "-h" },
	{ "-help" },
	{ "--help" },
	{ "--h" },
	{ "-h=1" },
	{ "-help=false" },
	{ "-port=1", "-h" },
	{ "-h", "-port=abc" },
	{ "-help", "x" },
	{ "-version", "--help" },
};
#define N_HELP_CASES	(sizeof(help_cases) / sizeof(*help_cases))

/* -h, -help and --help: the usage on out, nothing on err, exit 0. */
START_TEST(test_help)
{
	struct run	r;

	run_parse(&r, help_cases[_i]);
	ck_assert_int_eq(r.result, CONFIG_EXIT_OK);
	ck_assert_str_eq(r.out, USAGE_TEXT);
	ck_assert_str_eq(r.err, "");
	run_free(&r);
}
END_TEST

static const char *const version_cases[][MAX_ARGS] = {
	{ "-version" },
	{ "--version" },
	{ "-version=true" },
	{ "-version=1" },
	{ "-version=t" },
	{ "-version=T" },
	{ "-version=TRUE" },
	{ "--version=True" },
	{ "-port=1", "-version" },
	{ "-version", "-port=1" },
	{ "-version", "--" },
	{ "-version=false", "-version" },
};
#define N_VERSION_CASES	(sizeof(version_cases) / sizeof(*version_cases))

/* -version and its true spellings: the version line on out, exit 0. */
START_TEST(test_version)
{
	struct run	r;

	run_parse(&r, version_cases[_i]);
	ck_assert_int_eq(r.result, CONFIG_EXIT_OK);
	ck_assert_str_eq(r.out, VERSION_LINE);
	ck_assert_str_eq(r.err, "");
	run_free(&r);
}
END_TEST

static const char *const bool_false[] = {
	"0", "f", "F", "false", "FALSE", "False",
};
#define N_BOOL_FALSE	(sizeof(bool_false) / sizeof(*bool_false))

/* -version=FALSE spellings, in both = forms: run, version off. */
START_TEST(test_version_false)
{
	const char	*args[2] = { NULL, NULL };
	char		 buf[64];
	struct run	 r;

	snprintf(buf, sizeof(buf), "%s=%s", _i % 2 ? "--version" :
	    "-version", bool_false[_i / 2]);
	args[0] = buf;
	run_parse(&r, args);
	ck_assert_int_eq(r.result, CONFIG_RUN);
	ck_assert_str_eq(r.out, "");
	ck_assert_str_eq(r.err, "");
	expect_changes(&r.conf, "");
	run_free(&r);
}
END_TEST

/* The defaults, spelled out rather than read back from the table. */
START_TEST(test_defaults)
{
	struct config	conf;
	char		got[DUMP_MAX];
	struct run	r;

	config_init(&conf);
	dump(&conf, got, sizeof(got));
	ck_assert_str_eq(got, "port=6969 lease_timeout=90 udp_grace=10 "
	    "clamped=0 bind=- bind_sa=- admin=127.0.0.1:6970 "
	    "admin_sa=127.0.0.1:6970 log_level=info version=0 log=stderr "
	    "daemon=0 pidfile=- user=- token_file=- "
	    "config=" SYSCONFDIR "/containment_breach.conf");
	ck_assert_ptr_null(conf.admin_token);
	ck_assert_ptr_null(conf.bind);
	config_free(&conf);

	run_parse(&r, no_args);
	ck_assert_int_eq(r.result, CONFIG_RUN);
	ck_assert_str_eq(r.out, "");
	ck_assert_str_eq(r.err, "");
	run_free(&r);
}
END_TEST

/* The usage text, byte for byte, in Go's layout and sorted by name. */
START_TEST(test_usage)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*fp;

	fp = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(fp);
	config_usage(fp);
	fclose(fp);
	ck_assert_str_eq(buf, USAGE_TEXT);
	free(buf);
}
END_TEST

/* A refused value leaves the previous one in place (for reloads). */
START_TEST(test_failed_set_keeps_value)
{
	static const char *const args[] = {
		"-port=5", "-admin=10.0.0.1:80", "-bind=::1", "-port=abc", NULL
	};
	static const char *const args2[] = {
		"-port=5", "-admin=10.0.0.1:80", "-bind=::1",
		"-log_level=warn", "-admin=localhost:80", NULL
	};
	static const char *const args3[] = {
		"-bind=::1", "-bind=nope", NULL
	};
	struct run	r;

	run_parse(&r, args);
	ck_assert_int_eq(r.result, CONFIG_EXIT_USAGE);
	expect_changes(&r.conf, "port=5 admin=10.0.0.1:80 "
	    "admin_sa=10.0.0.1:80 bind=::1 bind_sa=[::1]:0");
	run_free(&r);

	run_parse(&r, args2);
	ck_assert_int_eq(r.result, CONFIG_EXIT_USAGE);
	expect_changes(&r.conf, "port=5 admin=10.0.0.1:80 "
	    "admin_sa=10.0.0.1:80 bind=::1 bind_sa=[::1]:0 log_level=warn");
	run_free(&r);

	run_parse(&r, args3);
	ck_assert_int_eq(r.result, CONFIG_EXIT_USAGE);
	expect_changes(&r.conf, "bind=::1 bind_sa=[::1]:0");
	run_free(&r);
}
END_TEST

/* config_free() may run twice, and the structure can be set up again. */
START_TEST(test_free_twice_and_reinit)
{
	static const char *const args[] = {
		"-bind=::1", "-admin=[::1]:1", NULL
	};
	struct run	r;

	run_parse(&r, args);
	ck_assert_int_eq(r.result, CONFIG_RUN);
	config_free(&r.conf);
	ck_assert_ptr_null(r.conf.bind);
	ck_assert_ptr_null(r.conf.admin);
	config_free(&r.conf);
	config_init(&r.conf);
	expect_changes(&r.conf, "");
	run_free(&r);
}
END_TEST

/* No flags at all: argc 1, or even 0 as execve() allows. */
START_TEST(test_no_argv)
{
	char		*argv[] = { NULL };
	struct config	 conf;

	config_init(&conf);
	ck_assert_int_eq(config_parse_args(&conf, 0, argv, stdout, stderr),
	    CONFIG_RUN);
	expect_changes(&conf, "");
	config_free(&conf);
}
END_TEST

static Suite *
config_suite(void)
{
	Suite	*s = suite_create("config");
	TCase	*tc;

	tc = tcase_create("table");
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_usage);
	tcase_add_test(tc, test_failed_set_keeps_value);
	tcase_add_test(tc, test_free_twice_and_reinit);
	tcase_add_test(tc, test_no_argv);
	suite_add_tcase(s, tc);

	tc = tcase_create("flags");
	tcase_add_loop_test(tc, test_forms, 0, (int)N_FORM_CASES * 4);
	tcase_add_loop_test(tc, test_ok_cases, 0, (int)N_OK_CASES);
	tcase_add_loop_test(tc, test_help, 0, (int)N_HELP_CASES);
	tcase_add_loop_test(tc, test_version, 0, (int)N_VERSION_CASES);
	tcase_add_loop_test(tc, test_version_false, 0, (int)N_BOOL_FALSE * 2);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_loop_test(tc, test_bad_values, 0, (int)N_BAD_VALUES * 4);
	tcase_add_loop_test(tc, test_bad_cases, 0, (int)N_BAD_CASES);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (suite_run(config_suite()));
}
