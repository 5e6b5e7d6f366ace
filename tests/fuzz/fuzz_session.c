/*
 * libFuzzer target: arbitrary byte streams through the real TCP session
 * state machine.  The input's first byte picks which leases exist; the
 * rest is written in pieces whose sizes the input also chooses, to a
 * session adopted on one end of a socketpair, with the event loop run
 * between pieces.  Every path must keep the session table, the match
 * tables and the registry consistent (ASan and UBSan watch) and end with
 * everything freed.
 */
#include "autoconf.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "config.h"
#include "daemon.h"
#include "lease.h"
#include "log.h"
#include "match.h"
#include "session.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_lease_event(void *arg, const struct lease *l, uint64_t hash,
    enum lease_event ev)
{
	struct daemon_ctx	*ctx = arg;

	match_lease_event(ctx->match, l, hash, ev);
}

/* Leases for 127.0.0.2 and 127.0.0.3, PeerPorts 1 and 2, as bits say. */
static void
fuzz_leases(struct daemon_ctx *ctx, uint8_t bits)
{
	struct lease_key	key;
	int			i;

	memset(&key, 0, sizeof(key));
	for (i = 0; i < 4; i++) {
		if ((bits & (1 << i)) == 0)
			continue;
		cb_ip_parse(&key.ip, i < 2 ? "127.0.0.2" : "127.0.0.3");
		key.peer_port = (uint32_t)(i % 2 + 1);
		lease_upsert(ctx->leases, &key, (uint16_t)(40000 + i), 0);
	}
}

/* Writes data to fd in pieces, running the loop and draining replies. */
static void
fuzz_feed(struct event_base *base, int fd, const uint8_t *data, size_t size,
    uint8_t split)
{
	char	sink[4096];
	size_t	off = 0, piece;

	while (off < size) {
		piece = (size_t)split % 64 + 1;
		if (piece > size - off)
			piece = size - off;
		if (send(fd, data + off, piece, MSG_DONTWAIT) <= 0)
			break;
		off += piece;
		split = (uint8_t)(split * 31 + 7);
		event_base_loop(base, EVLOOP_NONBLOCK);
		while (recv(fd, sink, sizeof(sink), MSG_DONTWAIT) > 0)
			;
	}
	shutdown(fd, SHUT_WR);
	event_base_loop(base, EVLOOP_NONBLOCK);
	event_base_loop(base, EVLOOP_NONBLOCK);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config		 conf;
	struct daemon_ctx	 ctx;
	struct net_sockets	 none = { { -1, -1 }, 0 };
	struct sockaddr_in	 sin;
	int			 sv[2];

	if (size < 2)
		return (0);
	log_init(LOG_LEVEL_ERROR);
	config_init(&conf);
	memset(&ctx, 0, sizeof(ctx));
	ctx.conf = &conf;
	ctx.base = event_base_new();
	ctx.leases = lease_registry_new(ctx.base, conf.lease_timeout,
	    fuzz_lease_event, &ctx);
	ctx.match = match_new(ctx.leases, &ctx.stats,
	    tcp_server_match_callbacks());
	ctx.tcp = tcp_server_new(&ctx, &none);
	if (ctx.base == NULL || ctx.leases == NULL || ctx.match == NULL ||
	    ctx.tcp == NULL || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		abort();
	evutil_make_socket_nonblocking(sv[0]);
	evutil_make_socket_nonblocking(sv[1]);
	fuzz_leases(&ctx, data[0]);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(0x7f000002);
	tcp_server_adopt(ctx.tcp, sv[1], (struct sockaddr *)&sin);
	fuzz_feed(ctx.base, sv[0], data + 2, size - 2, data[1]);
	close(sv[0]);
	event_base_loop(ctx.base, EVLOOP_NONBLOCK);
	tcp_server_free(ctx.tcp);
	lease_registry_free(ctx.leases);
	match_free(ctx.match);
	event_base_free(ctx.base);
	config_free(&conf);
	return (0);
}
