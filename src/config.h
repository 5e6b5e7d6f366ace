/*
 * Run-time configuration: defaults, the flag table and its validation.
 * Flags keep the Go original's spellings (-port=6969, -port 6969,
 * --port=6969, --port 6969).
 */
#ifndef CB_CONFIG_H
#define CB_CONFIG_H

#include <sys/socket.h>

#include <stdio.h>

#include "log.h"

#define CONFIG_DEFAULT_PORT		6969
#define CONFIG_DEFAULT_LEASE_TIMEOUT	90
#define CONFIG_DEFAULT_UDP_GRACE	10
#define CONFIG_DEFAULT_ADMIN		"127.0.0.1:6970"
#define CONFIG_DEFAULT_MAX_LEASES	1000000
#define CONFIG_DEFAULT_MAX_LEASES_PER_IP 4096
#define CONFIG_DEFAULT_FILE	SYSCONFDIR "/containment_breach.conf"
#define CONFIG_TOKEN_MAX	4096	/* bytes read from the token file */

struct config {
	int		 port;		/* UDP and TCP, 1..65535 */
	unsigned int	 lease_timeout;	/* seconds, 1..86400 */
	unsigned int	 udp_grace;	/* seconds, 1..86400, <= lease_timeout */
	int		 udp_grace_clamped; /* set when udp_grace was lowered */
	char		*bind;		/* IP literal, NULL for every address */
	struct sockaddr_storage bind_addr; /* parsed bind, port 0 */
	socklen_t	 bind_addrlen;	/* 0 when bind is NULL */
	char		*admin;		/* "ADDR:PORT", or "off" */
	struct sockaddr_storage admin_addr; /* parsed admin address */
	socklen_t	 admin_addrlen;	/* 0 when the admin API is off */
	char		*admin_token;	/* bearer token, NULL when unset */
	char		*admin_token_file; /* where admin_token is read from */
	enum log_level	 log_level;
	char		*log;		/* "stderr", "syslog" or a file */
	int		 daemonize;	/* -daemon: detach */
	char		*pidfile;	/* NULL: none */
	char		*user;		/* drop to this user; NULL: stay */
	char		*config_file;	/* -config; NULL: read no file */
	unsigned int	 max_connections; /* 0: from RLIMIT_NOFILE */
	unsigned int	 max_leases;	/* 0: no limit */
	unsigned int	 max_leases_per_ip; /* 0: no limit */
	unsigned int	 rate_limit_udp; /* registrations/s per IP; 0: off */
	unsigned int	 rate_limit_tcp; /* connections/s per IP; 0: off */
	int		 print_version;	/* -version: print it and exit */
	unsigned int	 args_given;	/* options set on the command line */
};

struct config_option;

enum config_result {
	CONFIG_RUN,		/* parsed; start the daemon */
	CONFIG_EXIT_OK,		/* -help or -version printed; exit 0 */
	CONFIG_EXIT_USAGE,	/* error and usage printed; exit 2 */
};

void		 config_init(struct config *);
void		 config_free(struct config *);
enum config_result config_parse_args(struct config *, int, char *[],
		    FILE *, FILE *);
void		 config_usage(FILE *);

/* For the configuration file (config_file.c) and reloads. */
const struct config_option *config_find(const char *, size_t);
int		 config_set(struct config *, const struct config_option *,
		    const char *, char *, size_t);
const char	*config_option_name(const struct config_option *);
int		 config_option_is_key(const struct config_option *);
size_t		 config_option_index(const struct config_option *);
size_t		 config_noptions(void);
int		 config_given(const struct config *, const char *);
void		 config_keep_restart_only(struct config *,
		    const struct config *);

/* config_file.c: the file, the command line over it, the token. */
int		 config_build(struct config *, int, char *[], char *,
		    size_t);
int		 config_load_file(struct config *, const char *, int, char *,
		    size_t);
int		 config_load_token(struct config *, char *, size_t);

#endif /* CB_CONFIG_H */
