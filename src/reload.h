/*
 * SIGHUP: re-read the configuration and apply what can change live.
 */
#ifndef CB_RELOAD_H
#define CB_RELOAD_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct daemon_ctx;

void		 daemon_reload(struct daemon_ctx *);
void		 daemon_apply_limits(struct daemon_ctx *,
		    const struct config *);

/* The limits in force, by name, for /stats ("limits") and /metrics. */
#define DAEMON_NLIMITS	5
extern const char *const daemon_limit_names[DAEMON_NLIMITS];
uint64_t	 daemon_limit(const struct daemon_ctx *, size_t);

#endif /* CB_RELOAD_H */
