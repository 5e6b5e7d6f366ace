/*
 * SIGHUP: build a fresh configuration exactly as at start (defaults, the
 * file, the command line on top, the admin token) and, if all of it is
 * good, apply what can change while the daemon runs:
 *
 *   lease_timeout  for leases created or refreshed from now on;
 *   udp_grace      for requests from now on;
 *   max_leases, max_leases_per_ip
 *                  for leases created from now on (none is dropped);
 *   max_connections, rate_limit_tcp
 *                  for connections accepted from now on;
 *   rate_limit_udp for datagrams from now on;
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
#include "udp.h"

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
	daemon_apply_limits(ctx, &fresh);
	config_free(ctx->conf);
	*ctx->conf = fresh;
	log_info("reloaded lease_timeout=%u udp_grace=%u log_level=%s "
	    "admin_token=%s max_connections=%zu max_leases=%u "
	    "max_leases_per_ip=%u rate_limit_udp=%u rate_limit_tcp=%u",
	    fresh.lease_timeout, fresh.udp_grace,
	    log_level_name(fresh.log_level),
	    fresh.admin_token != NULL ? "set" : "none",
	    tcp_server_max_connections(ctx->tcp), fresh.max_leases,
	    fresh.max_leases_per_ip, fresh.rate_limit_udp,
	    fresh.rate_limit_tcp);
	notify_ready();
}

const char *const daemon_limit_names[DAEMON_NLIMITS] = {
	"max_connections", "max_leases", "max_leases_per_ip",
	"rate_limit_udp", "rate_limit_tcp",
};

/*
 * The value of limit i as it is enforced: max_connections is the one in
 * force, derived from RLIMIT_NOFILE when configured as 0; 0 elsewhere
 * means no limit.
 */
uint64_t
daemon_limit(const struct daemon_ctx *ctx, size_t i)
{
	const struct config	*conf = ctx->conf;

	switch (i) {
	case 0:
		return (tcp_server_max_connections(ctx->tcp));
	case 1:
		return (conf->max_leases);
	case 2:
		return (conf->max_leases_per_ip);
	case 3:
		return (conf->rate_limit_udp);
	default:
		return (conf->rate_limit_tcp);
	}
}

/* Hands the limits to the modules that enforce them: at start and reload. */
void
daemon_apply_limits(struct daemon_ctx *ctx, const struct config *conf)
{
	lease_registry_set_max(ctx->leases, conf->max_leases);
	lease_registry_set_max_per_ip(ctx->leases, conf->max_leases_per_ip);
	udp_intake_set_rate(ctx->udp, conf->rate_limit_udp);
	tcp_server_set_limits(ctx->tcp, conf->max_connections,
	    conf->rate_limit_tcp);
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
