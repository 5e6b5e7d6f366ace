/*
 * Inside the configuration module: the option table's layout, shared by
 * config.c (which parses and prints) and config_table.c (which lists the
 * options).  Nothing outside those two files includes this.
 */
#ifndef CB_CONFIG_INT_H
#define CB_CONFIG_INT_H

#include <stddef.h>

#define CONFIG_STR(x)		CONFIG_STR1(x)
#define CONFIG_STR1(x)		#x
#define CONFIG_FIELD(conf, off, type) \
	((type *)(void *)((char *)(conf) + (off)))
#define CONFIG_CFIELD(conf, off, type) \
	((const type *)(const void *)((const char *)(conf) + (off)))

/* Longest address text we look at; any IP literal is shorter. */
#define CONFIG_HOST_MAX		64
/* Longest path an option takes. */
#define CONFIG_PATH_MAX		1024

enum config_type {
	CONFIG_INT,		/* int, decimal in [min, max] */
	CONFIG_UINT,		/* unsigned int, decimal in [min, max] */
	CONFIG_BOOL,		/* int, 0 or 1 */
	CONFIG_IP,		/* IP literal, or empty for every address */
	CONFIG_ADDRPORT,	/* IPv4:PORT or [IPv6]:PORT, or "off" */
	CONFIG_LOG_LEVEL,	/* enum log_level */
	CONFIG_PATH,		/* absolute path, or empty for none */
	CONFIG_LOG_TARGET,	/* "stderr", "syslog" or an absolute path */
	CONFIG_USER,		/* a user name the system knows */
};

/* The option is a command-line action, not a setting (no file key). */
#define CONFIG_ARGS_ONLY	0x1
/* A reload cannot change it: it needs a restart. */
#define CONFIG_RESTART		0x2

struct config_option {
	const char		*name;
	enum config_type	 type;
	long long		 min;		/* numbers and ports */
	long long		 max;
	const char		*def;		/* default, as its text */
	size_t			 off;		/* value, or address text */
	size_t			 addr_off;	/* address: sockaddr_storage */
	size_t			 addrlen_off;	/* address: socklen_t */
	int			 flags;		/* CONFIG_ARGS_ONLY */
	const char		*help;
};

/* The options, sorted by name: the usage lists them in table order. */
extern const struct config_option config_options[];
extern const size_t config_noptions_;

#define CONFIG_NOPTIONS	config_noptions_

#endif /* CB_CONFIG_INT_H */
