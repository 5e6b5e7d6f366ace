/*
 * libcontainment_breach: punching.
 *
 * An attempt sends "CBP1 SYN <nonce>" to the partner's public endpoint,
 * and to its LAN endpoint when the daemon gave one, every 150 ms until an
 * "ACK" echoing its nonce comes back or its deadline passes.  The first
 * answer wins, so whichever path works first (the LAN one for peers
 * behind one NAT) is the one used.  The protocol is described in
 * containment_breach.h.
 *
 * Probes from anyone are answered at any time once the handle has an
 * answer from the daemon, and in Server mode always: the partner may
 * still be probing after this side is done, and it needs our ACK to be
 * done too.
 */
#include "autoconf.h"

#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "cbc_int.h"

static void	 punch_tick_cb(evutil_socket_t, short, void *);
static void	 punch_send(struct cbc *, const struct sockaddr *, socklen_t,
		    enum cbc_probe_type, const char *, const char *);
static void	 punch_done(struct cbc_punch *, const struct sockaddr *,
		    socklen_t);
static struct cbc_punch *punch_by_addr(struct cbc *,
		    const struct sockaddr *);

/* Announces the partner and starts probing toward it. */
int
cbc_punch_start(struct cbc *c, const struct cbc_response *r)
{
	struct cbc_event	 ev;
	struct cbc_punch	*p;
	char			 ep[CBC_ENDPOINT_MAX], lep[CBC_ENDPOINT_MAX];

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return (-1);
	p->c = c;
	cbc_nonce(p->nonce);
	if (cbc_sockaddr_from(r->dest_ip, r->dest_port, c->family, &p->pub,
	    &p->publen) == -1 || (r->has_local && cbc_sockaddr_from(
	    r->local_ip, r->local_port, c->family, &p->loc,
	    &p->loclen) == -1) ||
	    (p->tick = evtimer_new(c->base, punch_tick_cb, p)) == NULL) {
		free(p);
		return (-1);
	}
	p->deadline_ms = cbc_now_ms() + c->opt.timeout_ms;
	TAILQ_INSERT_TAIL(&c->punches, p, entry);
	if (c->opt.mode != CBC_SERVER) {
		c->state = CBC_ST_PUNCHING;
		/* Without an Ack from this daemon, Source tells it. */
		if (!c->acked)
			cbc_emit_public(c, r->source_ip, r->source_port, 0);
	}
	memset(&ev, 0, sizeof(ev));
	ev.type = CBC_EV_PARTNER;
	ev.endpoint = cbc_format_endpoint((struct sockaddr *)&p->pub, ep,
	    sizeof(ep));
	if (p->loclen != 0)
		ev.local_endpoint = cbc_format_endpoint(
		    (struct sockaddr *)&p->loc, lep, sizeof(lep));
	cbc_emit(c, &ev);
	punch_tick_cb(-1, 0, p);
	return (0);
}

void
cbc_punch_free(struct cbc_punch *p)
{
	TAILQ_REMOVE(&p->c->punches, p, entry);
	event_free(p->tick);
	free(p);
}

static void
punch_send(struct cbc *c, const struct sockaddr *to, socklen_t tolen,
    enum cbc_probe_type type, const char *echo, const char *nonce)
{
	char	buf[64];
	int	n;

	if ((n = cbc_probe_format(buf, sizeof(buf), type, echo, nonce)) > 0)
		(void)sendto(c->fd, buf, (size_t)n, MSG_DONTWAIT, to, tolen);
}

/* One round of probes, or the end of the attempt. */
static void
punch_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cbc_punch	*p = arg;
	struct cbc		*c = p->c;
	struct cbc_event	 ev;
	struct timeval		 tv = { 0, CBC_PROBE_MS * 1000 };
	char			 ep[CBC_ENDPOINT_MAX], reason[128];

	(void)fd;
	(void)what;
	if (cbc_now_ms() >= p->deadline_ms) {
		if (c->opt.mode != CBC_SERVER) {
			cbc_fail(c, "no response from peer within %u s",
			    (c->opt.timeout_ms + 999) / 1000);
			return;
		}
		memset(&ev, 0, sizeof(ev));
		ev.type = CBC_EV_FAILED;
		ev.endpoint = cbc_format_endpoint((struct sockaddr *)&p->pub,
		    ep, sizeof(ep));
		snprintf(reason, sizeof(reason), "no response from peer "
		    "within %u s", (c->opt.timeout_ms + 999) / 1000);
		ev.reason = reason;
		cbc_punch_free(p);
		cbc_emit(c, &ev);
		return;
	}
	punch_send(c, (struct sockaddr *)&p->pub, p->publen, CBC_PROBE_SYN,
	    NULL, p->nonce);
	if (p->loclen != 0 && !cbc_sockaddr_equal((struct sockaddr *)&p->loc,
	    (struct sockaddr *)&p->pub))
		punch_send(c, (struct sockaddr *)&p->loc, p->loclen,
		    CBC_PROBE_SYN, NULL, p->nonce);
	evtimer_add(p->tick, &tv);
}

/* The attempt toward this address, public or LAN, if there is one. */
static struct cbc_punch *
punch_by_addr(struct cbc *c, const struct sockaddr *sa)
{
	struct cbc_punch	*p;

	TAILQ_FOREACH(p, &c->punches, entry) {
		if (cbc_sockaddr_equal(sa, (struct sockaddr *)&p->pub) ||
		    (p->loclen != 0 && cbc_sockaddr_equal(sa,
		    (struct sockaddr *)&p->loc)))
			return (p);
	}
	return (NULL);
}

/* Our nonce echoed from `from`: this attempt is punched. */
static void
punch_done(struct cbc_punch *p, const struct sockaddr *from,
    socklen_t fromlen)
{
	struct cbc		*c = p->c;
	struct cbc_event	 ev;
	char			 ep[CBC_ENDPOINT_MAX];
	int			 local;

	local = p->loclen != 0 && !cbc_sockaddr_equal(from,
	    (struct sockaddr *)&p->pub) && cbc_sockaddr_equal(from,
	    (struct sockaddr *)&p->loc);
	cbc_punch_free(p);
	if (c->opt.mode != CBC_SERVER) {
		c->state = CBC_ST_PUNCHED;
		memcpy(&c->peer, from, fromlen);
		c->peerlen = fromlen;
		evtimer_del(c->deadline);
		evtimer_del(c->reg_timer);
	}
	memset(&ev, 0, sizeof(ev));
	ev.type = CBC_EV_PUNCHED;
	ev.endpoint = cbc_format_endpoint(from, ep, sizeof(ep));
	ev.via = local ? "local" : "public";
	ev.addr = from;
	ev.addrlen = fromlen;
	cbc_emit(c, &ev);
}

/*
 * Handles a datagram if it is a probe: returns 1 if it was (answered or
 * dropped), 0 if it is the application's.
 */
int
cbc_punch_input(struct cbc *c, const void *buf, size_t len,
    const struct sockaddr *from, socklen_t fromlen)
{
	struct cbc_probe	 pr;
	struct cbc_punch	*p;
	const char		*mine;

	if (cbc_probe_parse(buf, len, &pr) == -1)
		return (0);
	/* Before the daemon's answer there is no partner to talk to. */
	if (c->opt.mode != CBC_SERVER && c->state != CBC_ST_PUNCHING &&
	    c->state != CBC_ST_PUNCHED)
		return (1);
	p = punch_by_addr(c, from);
	mine = p != NULL ? p->nonce : c->nonce;
	if (pr.type == CBC_PROBE_SYN) {
		punch_send(c, from, fromlen, CBC_PROBE_ACK, pr.nonce, mine);
		return (1);
	}
	TAILQ_FOREACH(p, &c->punches, entry) {
		if (strcmp(p->nonce, pr.echo) == 0)
			break;
	}
	if (p == NULL)
		return (1);	/* a late or stray ACK: never answer it */
	punch_send(c, from, fromlen, CBC_PROBE_ACK, pr.nonce, p->nonce);
	punch_done(p, from, fromlen);
	return (1);
}
