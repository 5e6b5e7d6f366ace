/*
 * SIGHUP: build a fresh configuration exactly as at start (defaults, the
 * file, the command line on top, the admin token) and, if all of it is
 * good, apply what can change while the daemon runs:
 *
 *   lease_timeout  for leases created or refreshed from now on;
 *   udp_grace      for requests from now on;
 *   log_level, log the target; a log file is opened again in any case,
 *                  which is what logrotate needs;
 *   admin token    read by the admin API at each request.
 *
 * What is bound to sockets or to the process (port, bind, admin, daemon,
 * pidfile, user) keeps its running value, with a warning if the file
 * asked for another.  Nothing is torn down: not a lease, not a session.
 * A configuration with an error is not applied at all.
 */
#include "autoconf.h"

#include <string.h>

#include "config.h"
#include "daemon.h"
#include "lease.h"
#include "log.h"
#include "notify.h"
#include "reload.h"
#include "session.h"

static void	reload_log(const struct config *, struct config *);

/* Re-reads the configuration and applies it; see above. */
void
daemon_reload(struct daemon_ctx *ctx)
{
	struct config	fresh;
	char		why[512];

	notify_reloading();
	log_info("received SIGHUP, reloading config=%s",
	    ctx->conf->config_file != NULL ? ctx->conf->config_file : "none");
	if (config_build(&fresh, ctx->argc, ctx->argv, why,
	    sizeof(why)) == -1) {
		log_error("config has errors, not reloading: %s", why);
		config_free(&fresh);
		if (log_reopen(why, sizeof(why)) == -1)
			log_warn("cannot reopen the log: %s", why);
		notify_ready();
		return;
	}
	config_keep_restart_only(&fresh, ctx->conf);
	reload_log(ctx->conf, &fresh);
	if (fresh.udp_grace_clamped)
		log_warn("udp_grace is larger than lease_timeout; "
		    "using udp_grace=%u", fresh.udp_grace);
	lease_registry_set_ttl(ctx->leases, fresh.lease_timeout);
	tcp_server_set_udp_grace(ctx->tcp, fresh.udp_grace);
	config_free(ctx->conf);
	*ctx->conf = fresh;
	log_info("reloaded lease_timeout=%u udp_grace=%u log_level=%s "
	    "admin_token=%s", fresh.lease_timeout, fresh.udp_grace,
	    log_level_name(fresh.log_level),
	    fresh.admin_token != NULL ? "set" : "none");
	notify_ready();
}

/*
 * The log: a new target is opened (a detached daemon's "stderr" is
 * syslog, as at start); the same file is opened again.  If the new one
 * cannot be opened, the old one stays, and says so.
 */
static void
reload_log(const struct config *cur, struct config *fresh)
{
	const char	*target = fresh->log;
	char		 why[512];

	log_set_level(fresh->log_level);
	if (fresh->daemonize && strcmp(target, "stderr") == 0)
		target = "syslog";
	if (strcmp(cur->log, fresh->log) == 0) {
		if (log_reopen(why, sizeof(why)) == -1)
			log_warn("cannot reopen the log: %s", why);
		return;
	}
	if (log_open(target, why, sizeof(why)) == -1) {
		log_warn("cannot log to %s, keeping the old target: %s",
		    target, why);
		if (config_set(fresh, config_find("log", 3), cur->log, why,
		    sizeof(why)) == -1)
			log_warn("cannot keep the log target: %s", why);
	}
}
