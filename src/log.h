/*
 * Logging: one line per notable event, with a level, to stderr, syslog or
 * a file.  Lines read "2026-11-25T11:06:28.123Z info listening
 * udp=[::]:6969" (syslog gets them without the timestamp).
 */
#ifndef CB_LOG_H
#define CB_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum log_level {
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARN,
	LOG_LEVEL_ERROR,
};

void		 log_init(enum log_level);
void		 log_set_level(enum log_level);
int		 log_open(const char *, char *, size_t);
int		 log_reopen(char *, size_t);
void		 log_close(void);
int		 log_enabled(enum log_level);
int		 log_level_parse(const char *, enum log_level *);
const char	*log_level_name(enum log_level);

void		 log_debug(const char *, ...)
		    __attribute__((format(printf, 1, 2)));
void		 log_info(const char *, ...)
		    __attribute__((format(printf, 1, 2)));
void		 log_warn(const char *, ...)
		    __attribute__((format(printf, 1, 2)));
void		 log_error(const char *, ...)
		    __attribute__((format(printf, 1, 2)));
void		 fatalx(const char *, ...)
		    __attribute__((format(printf, 1, 2), noreturn));

#endif /* CB_LOG_H */
