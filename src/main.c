/*
 * containment_breach: a UDP hole-punching rendezvous daemon.
 *
 * main() reads as the daemon's life: read the configuration (flags over
 * the file), open the log, lock the pidfile, bind, detach, drop root,
 * write the pidfile, build the modules on one event base, serve until
 * SIGTERM or SIGINT (SIGHUP reloads), then tear everything down in
 * reverse.
 */
#include "autoconf.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "admin.h"
#include "config.h"
#include "daemon.h"
#include "lease.h"
#include "log.h"
#include "match.h"
#include "net.h"
#include "notify.h"
#include "process.h"
#include "reload.h"
#include "session.h"
#include "udp.h"

/* Sessions get this long to flush "server shutting down" on exit. */
#define SHUTDOWN_GRACE_MS	800

struct daemon_sockets {
	struct net_sockets	 udp;
	struct net_sockets	 tcp;
};

/* The signals the daemon handles, and their events. */
static const int daemon_signals[] = { SIGTERM, SIGINT, SIGHUP };
#define DAEMON_NSIGNALS	(sizeof(daemon_signals) / sizeof(*daemon_signals))

static int	daemon_configure(struct config *, int, char *[]);
static void	daemon_log_open(const struct config *);
static void	daemon_bind(const struct config *, struct process *,
		    struct daemon_sockets *);
static void	daemon_detach(const struct config *, struct process *);
static void	daemon_start(struct daemon_ctx *, struct daemon_sockets *);
static void	daemon_stop(struct daemon_ctx *);
static void	daemon_log_listening(const struct daemon_ctx *,
		    const struct daemon_sockets *);
static void	lease_event_cb(void *, const struct lease *, uint64_t,
		    enum lease_event);
static void	signal_cb(evutil_socket_t, short, void *);
static void	block_stop_signals(void);
static void	sessions_drained_cb(void *);

int
main(int argc, char *argv[])
{
	struct config		conf;
	struct daemon_ctx	ctx;
	struct daemon_sockets	socks;
	struct process		proc;
	struct event		*sigs[DAEMON_NSIGNALS];
	size_t			i;
	int			rc;

	/*
	 * Before anything allocates through libevent: given allocation
	 * functions, libevent zeroes with malloc() and memset() instead of
	 * calling calloc(), which in glibc bypasses the per-thread cache of
	 * free chunks.  Every connection makes three such allocations.
	 */
	event_set_mem_functions(malloc, realloc, free);
	if ((rc = daemon_configure(&conf, argc, argv)) != -1)
		return (rc);
	log_init(conf.log_level);
	if (conf.udp_grace_clamped)
		log_warn("udp_grace is larger than lease_timeout; "
		    "using udp_grace=%u", conf.udp_grace);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);	/* until the event loop handles it */

	process_init(&proc);
	daemon_bind(&conf, &proc, &socks);
	daemon_log_open(&conf);
	daemon_detach(&conf, &proc);

	memset(&ctx, 0, sizeof(ctx));
	ctx.conf = &conf;
	ctx.argc = argc;
	ctx.argv = argv;
	ctx.start_ms = cb_now_ms();
	if ((ctx.base = event_base_new()) == NULL)
		fatalx("cannot create the event base");
	daemon_start(&ctx, &socks);

	for (i = 0; i < DAEMON_NSIGNALS; i++) {
		sigs[i] = evsignal_new(ctx.base, daemon_signals[i], signal_cb,
		    &ctx);
		if (sigs[i] == NULL || evsignal_add(sigs[i], NULL) == -1)
			fatalx("cannot install signal handlers");
	}

	daemon_log_listening(&ctx, &socks);
	log_info("started version=%s pid=%ld lease_timeout=%u udp_grace=%u",
	    PACKAGE_VERSION, (long)getpid(), conf.lease_timeout,
	    conf.udp_grace);
	process_ready(&proc);
	notify_ready();
	event_base_dispatch(ctx.base);

	/* A second signal during teardown must not kill the process. */
	block_stop_signals();
	for (i = 0; i < DAEMON_NSIGNALS; i++)
		event_free(sigs[i]);
	daemon_stop(&ctx);
	net_close(&socks.udp);
	net_close(&socks.tcp);
	event_base_free(ctx.base);
	libevent_global_shutdown();
	process_pidfile_remove(&proc);
	log_info("stopped");
	log_close();
	config_free(&conf);
	return (0);
}

/*
 * The command line is checked on its own first (help, version and flag
 * errors print as they always have), then the configuration is built:
 * the file, and the flags again over it.  Returns the exit status, or -1
 * to run.
 */
static int
daemon_configure(struct config *conf, int argc, char *argv[])
{
	char	why[512];

	config_init(conf);
	switch (config_parse_args(conf, argc, argv, stdout, stderr)) {
	case CONFIG_RUN:
		break;
	case CONFIG_EXIT_OK:
		config_free(conf);
		return (0);
	case CONFIG_EXIT_USAGE:
		config_free(conf);
		return (2);
	}
	config_free(conf);
	if (config_build(conf, argc, argv, why, sizeof(why)) == -1) {
		fprintf(stderr, "%s: %s\n", PACKAGE_NAME, why);
		config_free(conf);
		return (2);
	}
	return (-1);
}

/*
 * Opens the log target, once the sockets are bound: until then, a
 * failure goes to stderr, where whoever started the daemon sees it.  A
 * detached daemon has no stderr, so there "stderr" means syslog.
 */
static void
daemon_log_open(const struct config *conf)
{
	const char	*target = conf->log;
	char		 why[512];

	if (conf->daemonize && strcmp(target, "stderr") == 0)
		target = "syslog";
	if (log_open(target, why, sizeof(why)) == -1)
		fatalx("cannot open the log: %s", why);
}

/*
 * Everything between binding and serving that makes this a system
 * daemon: the process detaches, drops root, and records its final pid in
 * the pidfile daemon_bind() locked.
 */
static void
daemon_detach(const struct config *conf, struct process *proc)
{
	char	why[512];

	if (conf->daemonize && process_daemonize(proc, why, sizeof(why)) == -1)
		fatalx("cannot detach: %s", why);
	if (conf->user != NULL &&
	    process_drop_privileges(conf->user, why, sizeof(why)) == -1)
		fatalx("refusing to run: %s", why);
	if (process_pidfile_write(proc, why, sizeof(why)) == -1)
		fatalx("%s", why);
}

/*
 * Locks the pidfile, so that a second daemon is refused before it touches
 * a port, then binds UDP and TCP on the one port; a daemon that cannot,
 * exits.
 */
static void
daemon_bind(const struct config *conf, struct process *proc,
    struct daemon_sockets *socks)
{
	const struct sockaddr	*addr;
	char			 why[512];

	if (conf->pidfile != NULL &&
	    process_pidfile_lock(proc, conf->pidfile, why, sizeof(why)) == -1)
		fatalx("%s", why);

	addr = (const struct sockaddr *)&conf->bind_addr;
	if (net_bind_port(addr, conf->bind_addrlen, conf->port, SOCK_DGRAM,
	    &socks->udp) == -1)
		fatalx("cannot bind udp port %d: %s", conf->port,
		    strerror(errno));
	if (net_bind_port(addr, conf->bind_addrlen, conf->port, SOCK_STREAM,
	    &socks->tcp) == -1)
		fatalx("cannot bind tcp port %d: %s", conf->port,
		    strerror(errno));
}

/* Builds the modules in dependency order. */
static void
daemon_start(struct daemon_ctx *ctx, struct daemon_sockets *socks)
{
	const struct config	*conf = ctx->conf;

	ctx->leases = lease_registry_new(ctx->base, conf->lease_timeout,
	    lease_event_cb, ctx);
	if (ctx->leases == NULL)
		fatalx("cannot create the lease registry");
	ctx->match = match_new(ctx->leases, &ctx->stats,
	    tcp_server_match_callbacks());
	if (ctx->match == NULL)
		fatalx("cannot create the match table");
	if ((ctx->udp = udp_intake_new(ctx, &socks->udp)) == NULL)
		fatalx("cannot start the udp intake");
	if ((ctx->tcp = tcp_server_new(ctx, &socks->tcp)) == NULL)
		fatalx("cannot start the tcp listener");
	daemon_apply_limits(ctx, conf);
	if (conf->admin_addrlen != 0 && (ctx->admin = admin_new(ctx,
	    (const struct sockaddr *)&conf->admin_addr,
	    conf->admin_addrlen)) == NULL)
		fatalx("cannot start the admin api on %s", conf->admin);
}

/* Frees the modules in reverse order of daemon_start(). */
static void
daemon_stop(struct daemon_ctx *ctx)
{
	admin_free(ctx->admin);
	tcp_server_free(ctx->tcp);
	udp_intake_free(ctx->udp);
	lease_registry_free(ctx->leases);
	match_free(ctx->match);
}

/* The registry's observer: the match hears of every lease change. */
static void
lease_event_cb(void *arg, const struct lease *l, uint64_t hash,
    enum lease_event ev)
{
	struct daemon_ctx	*ctx = arg;

	if (ev == LEASE_EXPIRED) {
		stats_inc(&ctx->stats, STAT_LEASES_EXPIRED);
		if (log_enabled(LOG_LEVEL_DEBUG)) {
			char	ip[CB_IP_STRLEN];

			log_debug("lease expired ip=%s peer_port=%u",
			    cb_ip_format(&lease_key(l)->ip, ip),
			    lease_key(l)->peer_port);
		}
	}
	match_lease_event(ctx->match, l, hash, ev);
}

static void
daemon_log_listening(const struct daemon_ctx *ctx,
    const struct daemon_sockets *socks)
{
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof(ss);
	char			addr[64];

	if (getsockname(socks->udp.fds[0], (struct sockaddr *)&ss,
	    &len) == 0)
		log_info("listening udp=%s tcp=%s admin=%s",
		    net_sockaddr_format((struct sockaddr *)&ss, addr,
		    sizeof(addr)), addr, ctx->conf->admin);
}

/*
 * SIGHUP reloads.  SIGTERM or SIGINT: every open session is told "server
 * shutting down"; the loop ends once they have all closed, or after
 * SHUTDOWN_GRACE_MS.
 */
static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon_ctx	*ctx = arg;
	struct timeval		 tv;

	(void)what;
	if (sig == SIGHUP) {
		daemon_reload(ctx);
		return;
	}
	log_info("received %s, shutting down",
	    sig == SIGTERM ? "SIGTERM" : "SIGINT");
	notify_stopping();
	tv.tv_sec = SHUTDOWN_GRACE_MS / 1000;
	tv.tv_usec = (SHUTDOWN_GRACE_MS % 1000) * 1000;
	event_base_loopexit(ctx->base, &tv);
	tcp_server_shutdown(ctx->tcp, sessions_drained_cb, ctx);
}

static void
block_stop_signals(void)
{
	sigset_t	set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
}

static void
sessions_drained_cb(void *arg)
{
	struct daemon_ctx	*ctx = arg;

	event_base_loopexit(ctx->base, NULL);
}
