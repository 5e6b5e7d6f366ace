/*
 * The daemon's one context: created in main(), passed to every module's
 * init function.  No other file keeps global state (log.c excepted).
 */
#ifndef CB_DAEMON_H
#define CB_DAEMON_H

#include <stdint.h>

#include "config.h"
#include "stats.h"

struct event;
struct event_base;
struct lease_registry;
struct match;
struct udp_intake;
struct tcp_server;
struct admin;

struct daemon_ctx {
	struct event_base	*base;
	struct config		*conf;
	struct stats		 stats;
	uint64_t		 start_ms;	/* monotonic, for uptime */
	int			 argc;		/* the command line, which */
	char			**argv;		/* a reload applies again */
	struct lease_registry	*leases;
	struct match		*match;
	struct udp_intake	*udp;
	struct tcp_server	*tcp;
	struct admin		*admin;
};

#endif /* CB_DAEMON_H */
