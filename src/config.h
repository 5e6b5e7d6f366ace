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
	enum log_level	 log_level;
	int		 print_version;	/* -version: print it and exit */
};

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

#endif /* CB_CONFIG_H */
