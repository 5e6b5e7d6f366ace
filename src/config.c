/*
 * Run-time configuration: one table of options (config_table.c) drives
 * the defaults, the command line, the usage text and the configuration
 * file.
 *
 * The command line is read exactly as the Go original's flag package read
 * it: -name=value, -name value, --name=value and --name value; a bool flag
 * takes only -name or -name=BOOL; "--", a lone "-" or the first argument
 * that is not a flag ends the flags, and any argument left over is an
 * error here (the contract forbids positional arguments).
 *
 * Every value goes through config_set(), which parses into temporaries and
 * changes the configuration only when the whole value is good, so the file
 * parser (config_file.c) and a reload reuse it without leaving
 * half-applied state.  Options marked CONFIG_RESTART are bound to sockets
 * or to the process itself; a reload keeps their running values.
 */
#include "autoconf.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/util.h>

#include "config.h"
#include "config_int.h"
#include "log.h"
#include "util.h"

struct config_type_info {
	const char		*usage;		/* type word; "" for bool */
	int			 quoted;	/* default shown as "text" */
	int			 owns_text;	/* field is a strdup'd char * */
	int			(*set)(struct config *,
				    const struct config_option *, const char *,
				    char *, size_t);
};

/* What one command-line argument turned out to be. */
enum config_arg {
	CONFIG_ARG_FLAG,	/* a flag, applied */
	CONFIG_ARG_END,		/* "--", a lone "-" or a positional argument */
	CONFIG_ARG_HELP,	/* -h, -help or --help */
	CONFIG_ARG_ERROR,	/* reported on the error stream */
};

static int	config_set_int(struct config *, const struct config_option *,
		    const char *, char *, size_t);
static int	config_set_bool(struct config *, const struct config_option *,
		    const char *, char *, size_t);
static int	config_set_ip(struct config *, const struct config_option *,
		    const char *, char *, size_t);
static int	config_set_addrport(struct config *,
		    const struct config_option *, const char *, char *, size_t);
static int	config_set_log_level(struct config *,
		    const struct config_option *, const char *, char *, size_t);
static int	config_set_path(struct config *, const struct config_option *,
		    const char *, char *, size_t);
static int	config_set_log_target(struct config *,
		    const struct config_option *, const char *, char *, size_t);
static int	config_set_user(struct config *, const struct config_option *,
		    const char *, char *, size_t);
static void	config_value_text(const struct config *,
		    const struct config_option *, char *, size_t);
static int	config_set_text(struct config *, size_t, const char *, char *,
		    size_t);
static void	config_set_addr(struct config *, const struct config_option *,
		    const struct sockaddr_storage *, socklen_t);
static int	config_split_hostport(const char *, const char **);
static void	config_finish(struct config *);
static enum config_arg config_parse_arg(struct config *, int, char *[],
		    int *, FILE *);
static void	config_put_escaped(FILE *, const char *, size_t);
static void	config_put_quoted(FILE *, const char *);
static int	config_is_zero(const char *);

static const struct config_type_info config_types[] = {
	[CONFIG_INT] = { "int", 0, 0, config_set_int },
	[CONFIG_UINT] = { "int", 0, 0, config_set_int },
	[CONFIG_BOOL] = { "", 0, 0, config_set_bool },
	[CONFIG_IP] = { "string", 1, 1, config_set_ip },
	[CONFIG_ADDRPORT] = { "string", 1, 1, config_set_addrport },
	[CONFIG_LOG_LEVEL] = { "string", 1, 0, config_set_log_level },
	[CONFIG_PATH] = { "string", 1, 1, config_set_path },
	[CONFIG_LOG_TARGET] = { "string", 1, 1, config_set_log_target },
	[CONFIG_USER] = { "string", 1, 1, config_set_user },
};


/* The spellings Go's strconv.ParseBool accepts. */
static const struct {
	const char	*text;
	int		 value;
} config_bools[] = {
	{ "1", 1 }, { "t", 1 }, { "T", 1 },
	{ "TRUE", 1 }, { "true", 1 }, { "True", 1 },
	{ "0", 0 }, { "f", 0 }, { "F", 0 },
	{ "FALSE", 0 }, { "false", 0 }, { "False", 0 },
};

/* Sets every option to its default; the table's defaults must parse. */
void
config_init(struct config *conf)
{
	size_t	i;
	char	why[128];

	memset(conf, 0, sizeof(*conf));
	for (i = 0; i < CONFIG_NOPTIONS; i++) {
		if (config_set(conf, &config_options[i], config_options[i].def,
		    why, sizeof(why)) == -1)
			fatalx("bad default for %s: %s", config_options[i].name,
			    why);
	}
	config_finish(conf);
}

/* Frees the option texts; the structure can be initialised again. */
void
config_free(struct config *conf)
{
	const struct config_option	*opt;
	char				**text;
	size_t				 i;

	for (i = 0; i < CONFIG_NOPTIONS; i++) {
		opt = &config_options[i];
		if (!config_types[opt->type].owns_text)
			continue;
		text = CONFIG_FIELD(conf, opt->off, char *);
		free(*text);
		*text = NULL;
	}
	if (conf->admin_token != NULL) {
		explicit_bzero(conf->admin_token, strlen(conf->admin_token));
		free(conf->admin_token);
		conf->admin_token = NULL;
	}
}

/*
 * Parses the command line.  Help and the version go to out; an error goes
 * to err as one line, followed by the usage.
 */
enum config_result
config_parse_args(struct config *conf, int argc, char *argv[], FILE *out,
    FILE *err)
{
	enum config_arg	 arg = CONFIG_ARG_FLAG;
	int		 i = 1;

	while (i < argc && arg == CONFIG_ARG_FLAG)
		arg = config_parse_arg(conf, argc, argv, &i, err);
	if (arg == CONFIG_ARG_HELP) {
		config_usage(out);
		return (CONFIG_EXIT_OK);
	}
	if (arg == CONFIG_ARG_ERROR) {
		config_usage(err);
		return (CONFIG_EXIT_USAGE);
	}
	if (i < argc) {
		fprintf(err, "%s: unexpected argument: ", PACKAGE_NAME);
		config_put_quoted(err, argv[i]);
		fputc('\n', err);
		config_usage(err);
		return (CONFIG_EXIT_USAGE);
	}
	if (conf->print_version) {
		fprintf(out, "%s %s\n", PACKAGE_NAME, PACKAGE_VERSION);
		return (CONFIG_EXIT_OK);
	}
	config_finish(conf);
	return (CONFIG_RUN);
}

/* Prints the usage in the layout of Go's flag.PrintDefaults(). */
void
config_usage(FILE *fp)
{
	const struct config_option	*opt;
	const struct config_type_info	*ti;
	size_t				 i;

	fprintf(fp, "Usage of %s:\n", PACKAGE_NAME);
	for (i = 0; i < CONFIG_NOPTIONS; i++) {
		opt = &config_options[i];
		ti = &config_types[opt->type];
		fprintf(fp, "  -%s", opt->name);
		if (*ti->usage != '\0')
			fprintf(fp, " %s", ti->usage);
		fprintf(fp, "\n    \t%s", opt->help);
		if (!config_is_zero(opt->def)) {
			fputs(" (default ", fp);
			if (ti->quoted)
				config_put_quoted(fp, opt->def);
			else
				fputs(opt->def, fp);
			fputc(')', fp);
		}
		fputc('\n', fp);
	}
}

/*
 * Reads the flag at argv[*i] and, for "-name value", the value after it;
 * advances *i past what it used.  The rules are those of Go's
 * flag.FlagSet.parseOne().
 */
static enum config_arg
config_parse_arg(struct config *conf, int argc, char *argv[], int *i,
    FILE *err)
{
	const struct config_option	*opt;
	const char			*arg = argv[*i], *name, *value, *eq;
	size_t				 namelen;
	char				 why[128];

	if (arg[0] != '-' || arg[1] == '\0')
		return (CONFIG_ARG_END);
	name = arg + 1;
	if (*name == '-') {
		if (*++name == '\0') {
			(*i)++;		/* "--" */
			return (CONFIG_ARG_END);
		}
	}
	if (*name == '-' || *name == '=') {
		fprintf(err, "%s: bad flag syntax: ", PACKAGE_NAME);
		config_put_escaped(err, arg, strlen(arg));
		fputc('\n', err);
		return (CONFIG_ARG_ERROR);
	}
	(*i)++;
	value = NULL;
	if ((eq = strchr(name, '=')) != NULL)
		value = eq + 1;
	namelen = eq != NULL ? (size_t)(eq - name) : strlen(name);

	if ((opt = config_find(name, namelen)) == NULL) {
		if ((namelen == 1 && *name == 'h') ||
		    (namelen == 4 && strncmp(name, "help", 4) == 0))
			return (CONFIG_ARG_HELP);
		fprintf(err, "%s: flag provided but not defined: -",
		    PACKAGE_NAME);
		config_put_escaped(err, name, namelen);
		fputc('\n', err);
		return (CONFIG_ARG_ERROR);
	}
	if (value == NULL && opt->type == CONFIG_BOOL)
		value = "true";
	if (value == NULL) {
		if (*i >= argc) {
			fprintf(err, "%s: flag needs an argument: -%s\n",
			    PACKAGE_NAME, opt->name);
			return (CONFIG_ARG_ERROR);
		}
		value = argv[(*i)++];
	}
	if (config_set(conf, opt, value, why, sizeof(why)) == -1) {
		fprintf(err, "%s: invalid value ", PACKAGE_NAME);
		config_put_quoted(err, value);
		fprintf(err, " for flag -%s: %s\n", opt->name, why);
		return (CONFIG_ARG_ERROR);
	}
	conf->args_given |= 1U << config_option_index(opt);
	return (CONFIG_ARG_FLAG);
}

/* Looks an option up by a name that need not be NUL-terminated. */
const struct config_option *
config_find(const char *name, size_t len)
{
	size_t	i;

	for (i = 0; i < CONFIG_NOPTIONS; i++) {
		if (strncmp(config_options[i].name, name, len) == 0 &&
		    config_options[i].name[len] == '\0')
			return (&config_options[i]);
	}
	return (NULL);
}

/*
 * Sets one option from its text: the one entry point for defaults, flags
 * and the configuration file.  On error the option keeps its old value
 * and why holds the reason.
 */
int
config_set(struct config *conf, const struct config_option *opt,
    const char *value, char *why, size_t whylen)
{
	return (config_types[opt->type].set(conf, opt, value, why, whylen));
}

/* The option's name, as a flag and as a file key. */
const char *
config_option_name(const struct config_option *opt)
{
	return (opt->name);
}

/* Whether the option may appear in the configuration file. */
int
config_option_is_key(const struct config_option *opt)
{
	return (!(opt->flags & CONFIG_ARGS_ONLY));
}

/* The option's place in the table, 0 to config_noptions() - 1. */
size_t
config_option_index(const struct config_option *opt)
{
	return ((size_t)(opt - config_options));
}

/* How many options the table holds. */
size_t
config_noptions(void)
{
	return (CONFIG_NOPTIONS);
}

/* Whether the named option was set on the command line. */
int
config_given(const struct config *conf, const char *name)
{
	const struct config_option	*opt;

	if ((opt = config_find(name, strlen(name))) == NULL)
		return (0);
	return ((conf->args_given >> config_option_index(opt)) & 1);
}

/*
 * A reload: every option that needs a restart keeps its running value in
 * the new configuration, with a warning where the new one differed.
 */
void
config_keep_restart_only(struct config *fresh, const struct config *cur)
{
	const struct config_option	*opt;
	char				 now[CONFIG_PATH_MAX];
	char				 want[CONFIG_PATH_MAX];
	char				 why[128];
	size_t				 i;

	for (i = 0; i < CONFIG_NOPTIONS; i++) {
		opt = &config_options[i];
		if (!(opt->flags & CONFIG_RESTART))
			continue;
		config_value_text(cur, opt, now, sizeof(now));
		config_value_text(fresh, opt, want, sizeof(want));
		if (strcmp(now, want) == 0)
			continue;
		log_warn("reload: %s=\"%s\" needs a restart; keeping "
		    "%s=\"%s\"", opt->name, want, opt->name, now);
		if (config_set(fresh, opt, now, why, sizeof(why)) == -1)
			log_error("reload: cannot keep %s: %s", opt->name, why);
	}
}

/* An option's value as the text that would set it. */
static void
config_value_text(const struct config *conf, const struct config_option *opt,
    char *buf, size_t len)
{
	const char	*text;

	switch (opt->type) {
	case CONFIG_INT:
		snprintf(buf, len, "%d", *CONFIG_CFIELD(conf, opt->off, int));
		break;
	case CONFIG_UINT:
		snprintf(buf, len, "%u",
		    *CONFIG_CFIELD(conf, opt->off, unsigned int));
		break;
	case CONFIG_BOOL:
		snprintf(buf, len, "%s", *CONFIG_CFIELD(conf, opt->off, int) ?
		    "true" : "false");
		break;
	case CONFIG_LOG_LEVEL:
		snprintf(buf, len, "%s", log_level_name(
		    *CONFIG_CFIELD(conf, opt->off, enum log_level)));
		break;
	default:
		text = *(char *const *)(const void *)
		    ((const char *)conf + opt->off);
		snprintf(buf, len, "%s", text != NULL ? text : "");
		break;
	}
}

/* Rules between options, applied once all of them are known. */
static void
config_finish(struct config *conf)
{
	conf->udp_grace_clamped = conf->udp_grace > conf->lease_timeout;
	if (conf->udp_grace_clamped)
		conf->udp_grace = conf->lease_timeout;
}

/* A decimal integer within the option's bounds, no sign but '-'. */
static int
config_set_int(struct config *conf, const struct config_option *opt,
    const char *value, char *why, size_t whylen)
{
	const char	*errstr;
	long long	 n;

	if (parse_num(value, opt->min, opt->max, &n, &errstr) == -1) {
		if (strcmp(errstr, "invalid") == 0)
			snprintf(why, whylen, "not a decimal integer");
		else
			snprintf(why, whylen, "must be %lld to %lld", opt->min,
			    opt->max);
		return (-1);
	}
	if (opt->type == CONFIG_UINT)
		*CONFIG_FIELD(conf, opt->off, unsigned int) = (unsigned int)n;
	else
		*CONFIG_FIELD(conf, opt->off, int) = (int)n;
	return (0);
}

/* One of the spellings Go's strconv.ParseBool() takes. */
static int
config_set_bool(struct config *conf, const struct config_option *opt,
    const char *value, char *why, size_t whylen)
{
	size_t	i;

	for (i = 0; i < sizeof(config_bools) / sizeof(*config_bools); i++) {
		if (strcmp(value, config_bools[i].text) == 0) {
			*CONFIG_FIELD(conf, opt->off, int) =
			    config_bools[i].value;
			return (0);
		}
	}
	snprintf(why, whylen, "must be true or false");
	return (-1);
}

/*
 * An IPv4 or IPv6 literal, IPv6 optionally in brackets; the sockaddr gets
 * port 0.  "::ffff:a.b.c.d" is a.b.c.d, as everywhere in the daemon.
 * Empty means every address: no text and a zero length.
 */
static int
config_set_ip(struct config *conf, const struct config_option *opt,
    const char *value, char *why, size_t whylen)
{
	struct sockaddr_storage	ss;
	struct in6_addr		in6;
	struct cb_ip		ip;
	char			literal[CONFIG_HOST_MAX];
	size_t			len = strlen(value);
	socklen_t		sslen = 0;

	memset(&ss, 0, sizeof(ss));
	if (len >= sizeof(literal))
		goto bad;
	if (value[0] == '[') {
		if (len < 2 || value[len - 1] != ']')
			goto bad;
		memcpy(literal, value + 1, len - 2);
		literal[len - 2] = '\0';
		if (inet_pton(AF_INET6, literal, &in6) != 1)
			goto bad;
	} else
		memcpy(literal, value, len + 1);
	if (*literal != '\0') {
		if (cb_ip_parse(&ip, literal) == -1)
			goto bad;
		sslen = cb_ip_to_sockaddr(&ip, 0, &ss);
	}
	if (config_set_text(conf, opt->off, literal, why, whylen) == -1)
		return (-1);
	config_set_addr(conf, opt, &ss, sslen);
	return (0);

bad:
	snprintf(why, whylen, "not an IPv4 or IPv6 address");
	return (-1);
}

/*
 * IPv4:PORT or [IPv6]:PORT with a literal address and a port within the
 * option's bounds, or "off" (a zero length).  evutil_parse_sockaddr_port()
 * builds the sockaddr, but it takes trailing junk and atoi() ports, so the
 * form is checked here first.
 */
static int
config_set_addrport(struct config *conf, const struct config_option *opt,
    const char *value, char *why, size_t whylen)
{
	struct sockaddr_storage	 ss;
	const char		*port, *errstr;
	long long		 n;
	int			 sslen = 0;

	memset(&ss, 0, sizeof(ss));
	if (strcmp(value, "off") != 0) {
		if (config_split_hostport(value, &port) == -1) {
			snprintf(why, whylen,
			    "must be IPv4:PORT, [IPv6]:PORT or \"off\"");
			return (-1);
		}
		if (parse_num(port, opt->min, opt->max, &n, &errstr) == -1) {
			if (strcmp(errstr, "invalid") == 0)
				snprintf(why, whylen,
				    "port is not a decimal integer");
			else
				snprintf(why, whylen, "port must be %lld to "
				    "%lld", opt->min, opt->max);
			return (-1);
		}
		sslen = sizeof(ss);
		if (evutil_parse_sockaddr_port(value,
		    (struct sockaddr *)&ss, &sslen) == -1) {
			snprintf(why, whylen, "not a usable address");
			return (-1);
		}
	}
	if (config_set_text(conf, opt->off, value, why, whylen) == -1)
		return (-1);
	config_set_addr(conf, opt, &ss, (socklen_t)sslen);
	return (0);
}

/*
 * Checks that value is "a.b.c.d:PORT" or "[IPv6]:PORT" with a literal of
 * the family its form implies, and points *port at the port's text.
 */
static int
config_split_hostport(const char *value, const char **port)
{
	unsigned char	 addr[sizeof(struct in6_addr)];
	char		 host[CONFIG_HOST_MAX];
	const char	*end;
	int		 family;

	if (*value == '[') {
		value++;
		if ((end = strchr(value, ']')) == NULL || end[1] != ':')
			return (-1);
		*port = end + 2;
		family = AF_INET6;
	} else {
		if ((end = strchr(value, ':')) == NULL ||
		    strchr(end + 1, ':') != NULL)
			return (-1);
		*port = end + 1;
		family = AF_INET;
	}
	if ((size_t)(end - value) >= sizeof(host))
		return (-1);
	memcpy(host, value, (size_t)(end - value));
	host[end - value] = '\0';
	return (inet_pton(family, host, addr) == 1 ? 0 : -1);
}

/* A level name as log_level_parse() knows it. */
static int
config_set_log_level(struct config *conf, const struct config_option *opt,
    const char *value, char *why, size_t whylen)
{
	enum log_level	level;

	if (log_level_parse(value, &level) == -1) {
		snprintf(why, whylen, "must be debug, info, warn or error");
		return (-1);
	}
	*CONFIG_FIELD(conf, opt->off, enum log_level) = level;
	return (0);
}

/* An absolute path, or empty for none. */
static int
config_set_path(struct config *conf, const struct config_option *opt,
    const char *value, char *why, size_t whylen)
{
	if (*value != '\0' && *value != '/') {
		snprintf(why, whylen, "must be an absolute path");
		return (-1);
	}
	if (strlen(value) >= CONFIG_PATH_MAX) {
		snprintf(why, whylen, "path too long");
		return (-1);
	}
	return (config_set_text(conf, opt->off, value, why, whylen));
}

/* "stderr", "syslog" or the absolute path of a file to append to. */
static int
config_set_log_target(struct config *conf, const struct config_option *opt,
    const char *value, char *why, size_t whylen)
{
	if (strcmp(value, "stderr") != 0 && strcmp(value, "syslog") != 0 &&
	    (*value != '/' || strlen(value) >= CONFIG_PATH_MAX)) {
		snprintf(why, whylen,
		    "must be stderr, syslog or an absolute path");
		return (-1);
	}
	return (config_set_text(conf, opt->off, value, why, whylen));
}

/* A user the system knows, or empty to stay who we are. */
static int
config_set_user(struct config *conf, const struct config_option *opt,
    const char *value, char *why, size_t whylen)
{
	if (*value != '\0' && getpwnam(value) == NULL) {
		snprintf(why, whylen, "no such user");
		return (-1);
	}
	return (config_set_text(conf, opt->off, value, why, whylen));
}

/* Replaces a strdup'd text field; the empty text is stored as NULL. */
static int
config_set_text(struct config *conf, size_t off, const char *text,
    char *why, size_t whylen)
{
	char	**field = CONFIG_FIELD(conf, off, char *), *copy = NULL;

	if (*text != '\0' && (copy = strdup(text)) == NULL) {
		snprintf(why, whylen, "out of memory");
		return (-1);
	}
	free(*field);
	*field = copy;
	return (0);
}

/* Stores a parsed address and its length (0 for none). */
static void
config_set_addr(struct config *conf, const struct config_option *opt,
    const struct sockaddr_storage *ss, socklen_t len)
{
	*CONFIG_FIELD(conf, opt->addr_off, struct sockaddr_storage) = *ss;
	*CONFIG_FIELD(conf, opt->addrlen_off, socklen_t) = len;
}

/*
 * Writes len bytes of s with control characters, quotes and backslashes
 * escaped as Go's %q does, so an error message stays on one line.
 */
static void
config_put_escaped(FILE *fp, const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i;

	for (i = 0; i < len; i++) {
		switch (p[i]) {
		case '"':
		case '\\':
			fprintf(fp, "\\%c", p[i]);
			break;
		case '\n':
			fputs("\\n", fp);
			break;
		case '\r':
			fputs("\\r", fp);
			break;
		case '\t':
			fputs("\\t", fp);
			break;
		default:
			if (p[i] < 0x20 || p[i] == 0x7f)
				fprintf(fp, "\\x%02x", p[i]);
			else
				fputc(p[i], fp);
			break;
		}
	}
}

/* Writes s in double quotes, escaped as Go's %q does. */
static void
config_put_quoted(FILE *fp, const char *s)
{
	fputc('"', fp);
	config_put_escaped(fp, s, strlen(s));
	fputc('"', fp);
}

/* Whether a default is its type's zero value, which Go's usage omits. */
static int
config_is_zero(const char *def)
{
	return (*def == '\0' || strcmp(def, "0") == 0 ||
	    strcmp(def, "false") == 0);
}
