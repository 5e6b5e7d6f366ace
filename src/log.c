/*
 * Logging, one line per event with a UTC timestamp and a level, to stderr,
 * to syslog (LOG_DAEMON; syslog adds its own timestamp) or appended to a
 * file, which log_reopen() opens again after logrotate has moved it.
 * The level and the target are the only file-static state in the daemon:
 * every module logs, and threading a context through each log call would
 * buy nothing.
 */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"

enum log_target {
	LOG_TO_STDERR,
	LOG_TO_SYSLOG,
	LOG_TO_FILE,
};

static enum log_level log_threshold = LOG_LEVEL_INFO;
static enum log_target log_target = LOG_TO_STDERR;
static int log_fd = -1;			/* LOG_TO_FILE */
static char *log_path;			/* LOG_TO_FILE */

static const char *const log_level_names[] = {
	[LOG_LEVEL_DEBUG] = "debug",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_WARN] = "warn",
	[LOG_LEVEL_ERROR] = "error",
};

static const int log_syslog_priorities[] = {
	[LOG_LEVEL_DEBUG] = LOG_DEBUG,
	[LOG_LEVEL_INFO] = LOG_INFO,
	[LOG_LEVEL_WARN] = LOG_WARNING,
	[LOG_LEVEL_ERROR] = LOG_ERR,
};

static void	log_vwrite(enum log_level, const char *, va_list)
		    __attribute__((format(printf, 2, 0)));
static void	log_libevent(int, const char *);
static int	log_open_file(const char *, char *, size_t);

void
log_init(enum log_level level)
{
	log_threshold = level;
	event_set_log_callback(log_libevent);
}

void
log_set_level(enum log_level level)
{
	log_threshold = level;
}

/*
 * Sends what follows to target: "stderr", "syslog" or a file path.  On
 * failure the current target stays and why says what went wrong.
 */
int
log_open(const char *target, char *why, size_t whylen)
{
	char	*path;
	int	 fd;

	if (strcmp(target, "stderr") == 0 || strcmp(target, "syslog") == 0) {
		log_close();
		if (strcmp(target, "syslog") == 0) {
			openlog(PACKAGE_NAME, LOG_PID | LOG_NDELAY, LOG_DAEMON);
			log_target = LOG_TO_SYSLOG;
		}
		return (0);
	}
	if ((path = strdup(target)) == NULL) {
		snprintf(why, whylen, "out of memory");
		return (-1);
	}
	if ((fd = log_open_file(path, why, whylen)) == -1) {
		free(path);
		return (-1);
	}
	log_close();
	log_target = LOG_TO_FILE;
	log_fd = fd;
	log_path = path;
	return (0);
}

/*
 * Opens the log file again under its name, for logrotate; a no-op for
 * the other targets.  On failure the old file stays in use.
 */
int
log_reopen(char *why, size_t whylen)
{
	int	fd;

	if (log_target != LOG_TO_FILE)
		return (0);
	if ((fd = log_open_file(log_path, why, whylen)) == -1)
		return (-1);
	close(log_fd);
	log_fd = fd;
	return (0);
}

/* Back to stderr, closing the file or the syslog connection. */
void
log_close(void)
{
	if (log_target == LOG_TO_SYSLOG)
		closelog();
	if (log_fd != -1)
		close(log_fd);
	free(log_path);
	log_fd = -1;
	log_path = NULL;
	log_target = LOG_TO_STDERR;
}

int
log_enabled(enum log_level level)
{
	return (level >= log_threshold);
}

/* Parses "debug", "info", "warn" or "error"; returns -1 otherwise. */
int
log_level_parse(const char *name, enum log_level *level)
{
	size_t	i;

	for (i = 0; i < sizeof(log_level_names) / sizeof(*log_level_names);
	    i++) {
		if (strcmp(name, log_level_names[i]) == 0) {
			*level = (enum log_level)i;
			return (0);
		}
	}
	return (-1);
}

const char *
log_level_name(enum log_level level)
{
	return (log_level_names[level]);
}

/* Opens a log file for appending. */
static int
log_open_file(const char *path, char *why, size_t whylen)
{
	int	fd;

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY,
	    0640);
	if (fd == -1)
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
	return (fd);
}

/* Formats the whole line first so concurrent writers never interleave. */
static void
log_vwrite(enum log_level level, const char *fmt, va_list ap)
{
	struct timespec	ts;
	struct tm	tm;
	char		line[1024];
	int		n, m;

	if (!log_enabled(level))
		return;
	if (log_target == LOG_TO_SYSLOG) {
		vsyslog(log_syslog_priorities[level], fmt, ap);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof(line),
	    "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, log_level_names[level]);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	if (m < 0)
		m = 0;
	n += m;
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (log_target == LOG_TO_FILE) {
		if (write(log_fd, line, (size_t)n) == -1)
			return;		/* nowhere left to say so */
	} else
		fwrite(line, 1, (size_t)n, stderr);
}

#define LOG_FUNCTION(name, level)					\
void									\
name(const char *fmt, ...)						\
{									\
	va_list	ap;							\
									\
	va_start(ap, fmt);						\
	log_vwrite(level, fmt, ap);					\
	va_end(ap);							\
}

LOG_FUNCTION(log_debug, LOG_LEVEL_DEBUG)
LOG_FUNCTION(log_info, LOG_LEVEL_INFO)
LOG_FUNCTION(log_warn, LOG_LEVEL_WARN)
LOG_FUNCTION(log_error, LOG_LEVEL_ERROR)

/* Logs at error level and exits: for start-up failures only. */
void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, fmt, ap);
	va_end(ap);
	exit(1);
}

/* Routes libevent's own warnings into our log. */
static void
log_libevent(int severity, const char *msg)
{
	switch (severity) {
	case EVENT_LOG_DEBUG:
		log_debug("libevent: %s", msg);
		break;
	case EVENT_LOG_MSG:
		log_info("libevent: %s", msg);
		break;
	case EVENT_LOG_WARN:
		log_warn("libevent: %s", msg);
		break;
	default:
		log_error("libevent: %s", msg);
		break;
	}
}
