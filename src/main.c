/*
 * containment_breach: a UDP hole-punching rendezvous daemon.
 *
 * main() reads as the daemon's life: parse flags, bind, build the modules
 * on one event base, serve until SIGTERM or SIGINT, then tear everything
 * down in reverse.
 */
#include "autoconf.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "admin.h"
#include "config.h"
#include "daemon.h"
#include "lease.h"
#include "log.h"
#include "match.h"
#include "net.h"
#include "session.h"
#include "udp.h"

/* Sessions get this long to flush "server shutting down" on exit. */
#define SHUTDOWN_GRACE_MS	800

struct daemon_sockets {
	struct net_sockets	 udp;
	struct net_sockets	 tcp;
};

static void	daemon_bind(const struct config *, struct daemon_sockets *);
static void	daemon_start(struct daemon_ctx *, struct daemon_sockets *);
static void	daemon_stop(struct daemon_ctx *);
static void	daemon_log_listening(const struct daemon_ctx *,
		    const struct daemon_sockets *);
static void	lease_event_cb(void *, const struct lease *,
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
	struct event		*sigterm, *sigint;

	config_init(&conf);
	switch (config_parse_args(&conf, argc, argv, stdout, stderr)) {
	case CONFIG_RUN:
		break;
	case CONFIG_EXIT_OK:
		config_free(&conf);
		return (0);
	case CONFIG_EXIT_USAGE:
		config_free(&conf);
		return (2);
	}
	log_init(conf.log_level);
	if (conf.udp_grace_clamped)
		log_warn("udp_grace is larger than lease_timeout; "
		    "using udp_grace=%u", conf.udp_grace);
	signal(SIGPIPE, SIG_IGN);

	memset(&ctx, 0, sizeof(ctx));
	ctx.conf = &conf;
	ctx.start_ms = cb_now_ms();
	if ((ctx.base = event_base_new()) == NULL)
		fatalx("cannot create the event base");
	daemon_bind(&conf, &socks);
	daemon_start(&ctx, &socks);

	sigterm = evsignal_new(ctx.base, SIGTERM, signal_cb, &ctx);
	sigint = evsignal_new(ctx.base, SIGINT, signal_cb, &ctx);
	if (sigterm == NULL || sigint == NULL ||
	    evsignal_add(sigterm, NULL) == -1 ||
	    evsignal_add(sigint, NULL) == -1)
		fatalx("cannot install signal handlers");

	daemon_log_listening(&ctx, &socks);
	log_info("started version=%s lease_timeout=%u udp_grace=%u",
	    PACKAGE_VERSION, conf.lease_timeout, conf.udp_grace);
	event_base_dispatch(ctx.base);

	/* A second signal during teardown must not kill the process. */
	block_stop_signals();
	event_free(sigint);
	event_free(sigterm);
	daemon_stop(&ctx);
	net_close(&socks.udp);
	net_close(&socks.tcp);
	event_base_free(ctx.base);
	libevent_global_shutdown();
	log_info("stopped");
	config_free(&conf);
	return (0);
}

/* Binds UDP and TCP on the one port; a daemon that cannot, exits. */
static void
daemon_bind(const struct config *conf, struct daemon_sockets *socks)
{
	const struct sockaddr	*addr;

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
lease_event_cb(void *arg, const struct lease *l, enum lease_event ev)
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
	match_lease_event(ctx->match, l, ev);
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
 * SIGTERM or SIGINT: every open session is told "server shutting down";
 * the loop ends once they have all closed, or after SHUTDOWN_GRACE_MS.
 */
static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon_ctx	*ctx = arg;
	struct timeval		 tv;

	(void)what;
	log_info("received %s, shutting down",
	    sig == SIGTERM ? "SIGTERM" : "SIGINT");
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
	sigprocmask(SIG_BLOCK, &set, NULL);
}

static void
sessions_drained_cb(void *arg)
{
	struct daemon_ctx	*ctx = arg;

	event_base_loopexit(ctx->base, NULL);
}
