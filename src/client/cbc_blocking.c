/*
 * libcontainment_breach: the blocking API, the libevent engine run on a
 * private event_base.  cbc_connect() runs the loop until the punch
 * succeeds or fails; cbc_recv() runs it until a datagram that is not a
 * probe arrives, so probes keep being answered while the application
 * waits.  Datagrams that arrive while nobody waits are held in a small
 * ring; beyond that the oldest are dropped, as a socket buffer would.
 */
#include "autoconf.h"

#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "cbc_int.h"

static void	blocking_cb(void *, const struct cbc_event *);
static void	copy_text(char *, size_t, const char *);

static void
copy_text(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src != NULL ? src : "");
}

static void
blocking_cb(void *arg, const struct cbc_event *ev)
{
	struct cbc		*c = arg;
	struct cbc_result	*r = c->result;
	struct cbc_datagram	*d;
	int			 slot;

	switch (ev->type) {
	case CBC_EV_PUBLIC:
		copy_text(r->public_endpoint, sizeof(r->public_endpoint),
		    ev->endpoint);
		break;
	case CBC_EV_PARTNER:
		copy_text(r->partner_endpoint, sizeof(r->partner_endpoint),
		    ev->endpoint);
		copy_text(r->partner_local, sizeof(r->partner_local),
		    ev->local_endpoint);
		break;
	case CBC_EV_PUNCHED:
		copy_text(r->punched_endpoint, sizeof(r->punched_endpoint),
		    ev->endpoint);
		copy_text(r->via, sizeof(r->via), ev->via);
		c->done = 1;
		event_base_loopbreak(c->base);
		break;
	case CBC_EV_DATA:
		if (ev->len > sizeof(d->data))
			break;
		if (c->qlen == CBC_RECV_QUEUE) {
			c->qhead = (c->qhead + 1) % CBC_RECV_QUEUE;
			c->qlen--;
		}
		slot = (c->qhead + c->qlen++) % CBC_RECV_QUEUE;
		d = &c->queue[slot];
		memcpy(d->data, ev->data, ev->len);
		d->len = ev->len;
		memcpy(&d->from, ev->addr, ev->addrlen);
		d->fromlen = ev->addrlen;
		event_base_loopbreak(c->base);
		break;
	case CBC_EV_FAILED:
		break;
	case CBC_EV_ERROR:
		copy_text(c->err, sizeof(c->err), ev->reason);
		c->done = -1;
		event_base_loopbreak(c->base);
		break;
	}
}

/*
 * Registers, asks the daemon and punches, blocking.  Server mode is not
 * offered here (it never ends); use the libevent API.
 */
struct cbc *
cbc_connect(const struct cbc_options *opt, struct cbc_result *result,
    char *err, size_t errlen)
{
	static struct cbc_result	 unused;
	struct event_base		*base;
	struct cbc			*c;

	if (opt->mode == CBC_SERVER) {
		snprintf(err, errlen, "Server mode needs the libevent API");
		return (NULL);
	}
	if ((base = event_base_new()) == NULL) {
		snprintf(err, errlen, "cannot create an event base");
		return (NULL);
	}
	if ((c = cbc_new(base, opt, blocking_cb, NULL, err, errlen)) == NULL) {
		event_base_free(base);
		return (NULL);
	}
	c->arg = c;
	c->own_base = 1;
	c->result = result != NULL ? result : &unused;
	memset(c->result, 0, sizeof(*c->result));
	if ((c->queue = calloc(CBC_RECV_QUEUE, sizeof(*c->queue))) == NULL ||
	    cbc_start(c) == -1) {
		snprintf(err, errlen, "cannot start");
		cbc_free(c);
		return (NULL);
	}
	while (c->done == 0)
		event_base_loop(c->base, EVLOOP_ONCE);
	if (c->done == -1) {
		snprintf(err, errlen, "%s", c->err);
		cbc_free(c);
		return (NULL);
	}
	return (c);
}

/* Sends a datagram to the punched partner. */
ssize_t
cbc_send(struct cbc *c, const void *buf, size_t len)
{
	if (c->peerlen == 0) {
		errno = ENOTCONN;
		return (-1);
	}
	return (cbc_send_to(c, buf, len, (struct sockaddr *)&c->peer,
	    c->peerlen));
}

/* Waits up to timeout_ms (-1: forever) for one datagram that is data. */
ssize_t
cbc_recv(struct cbc *c, void *buf, size_t size, int timeout_ms)
{
	struct cbc_datagram	*d;
	struct timeval		 tv;
	uint64_t		 end = cbc_now_ms() + (uint64_t)timeout_ms;
	uint64_t		 now;
	size_t			 n;

	if (c->queue == NULL) {
		errno = EINVAL;
		return (-1);
	}
	while (c->qlen == 0) {
		if (c->done == -1)
			return (-1);
		if (timeout_ms < 0) {
			event_base_loop(c->base, EVLOOP_ONCE);
			continue;
		}
		if ((now = cbc_now_ms()) >= end)
			return (0);
		tv.tv_sec = (time_t)((end - now) / 1000);
		tv.tv_usec = (suseconds_t)((end - now) % 1000) * 1000;
		event_base_loopexit(c->base, &tv);
		event_base_dispatch(c->base);
	}
	d = &c->queue[c->qhead];
	c->qhead = (c->qhead + 1) % CBC_RECV_QUEUE;
	c->qlen--;
	n = d->len < size ? d->len : size;
	memcpy(buf, d->data, n);
	return ((ssize_t)n);
}
