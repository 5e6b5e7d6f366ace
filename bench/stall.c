/*
 * cb_bench stall: the longest time the daemon's event loop is held while
 * an admin URL streams (docs/reliability.md, "The /leases stall").
 *
 * The run has two phases of --duration / 2 each.  First the probe alone
 * (probe.c): its round trips are the baseline, what the machine's own
 * scheduling costs.  Then the probe again while --path is fetched from
 * the admin port back to back (http_stream.c).  Every answer to a probe
 * is a complete turn of the daemon's loop away, so the longest round
 * trip while streaming, next to the baseline's, bounds the longest
 * stall.  --count bounds the probes of each phase.
 *
 * Both run in this one process, from one ppoll() loop with a nanosecond
 * timeout; the probe's socket is served first on every wakeup and the
 * stream reads one buffer at a time, so the generator adds little to
 * what it measures.  The daemon, this process and anything else on the
 * machine share its CPUs, so the figures include their scheduling: the
 * one-minute load average is printed with them.
 */
#include "autoconf.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stall.h"

#define STALL_RETRY_NS		10000000	/* after a failed fetch */

static void	stall_http(struct bench_http *, short, uint64_t, uint64_t *);
static void	stall_phase(const struct bench_opts *, struct bench_probe *,
		    struct bench_http *, uint64_t);
static void	stall_print(const char *, struct bench_probe *);

/*
 * Moves the stream on: starts the next fetch once the retry time has
 * come, or serves the descriptor; a failure waits STALL_RETRY_NS, so
 * that a daemon refusing connections is not hammered.
 */
static void
stall_http(struct bench_http *h, short revents, uint64_t now,
    uint64_t *retry_ns)
{
	if (h->fd == -1) {
		if (now >= *retry_ns && bench_http_start(h) == -1)
			*retry_ns = now + STALL_RETRY_NS;
	} else if (revents != 0 && bench_http_io(h) == -1)
		*retry_ns = now + STALL_RETRY_NS;
}

/* One phase of ns nanoseconds: the probe, and the stream if h is set. */
static void
stall_phase(const struct bench_opts *o, struct bench_probe *p,
    struct bench_http *h, uint64_t ns)
{
	struct pollfd	 pfd[2];
	struct timespec	 ts;
	uint64_t	 now, end, wait, retry = 0;
	nfds_t		 nfds;

	bench_probe_reset(p);
	now = bench_now_ns();
	end = now + ns;
	while (now < end &&
	    (o->count == 0 || p->answered + p->lost < o->count)) {
		if (h != NULL && h->fd == -1)
			stall_http(h, 0, now, &retry);
		pfd[0].fd = p->fd;
		pfd[0].events = POLLIN;
		nfds = 1;
		if (h != NULL && h->fd != -1) {
			pfd[1].fd = h->fd;
			pfd[1].events = bench_http_events(h);
			nfds = 2;
		}
		wait = bench_probe_wait_ns(p, now);
		if (wait > end - now)
			wait = end - now;
		if (h != NULL && h->fd == -1 && retry > now &&
		    wait > retry - now)
			wait = retry - now;
		ts.tv_sec = (time_t)(wait / 1000000000);
		ts.tv_nsec = (long)(wait % 1000000000);
		if (ppoll(pfd, nfds, &ts, NULL) == -1 && errno != EINTR)
			break;
		if (pfd[0].revents != 0)
			bench_probe_read(p);
		now = bench_now_ns();
		if (nfds == 2)
			stall_http(h, pfd[1].revents, now, &retry);
		bench_probe_tick(p, now);
	}
	bench_probe_finish(p);
	if (h != NULL)
		bench_http_close(h);
}

/* One phase's probe figures, each key prefixed. */
static void
stall_print(const char *prefix, struct bench_probe *p)
{
	printf(" %sprobes=%llu %slost=%llu %sp50_ms=%.3f %sp99_ms=%.3f "
	    "%sp999_ms=%.3f %smax_ms=%.3f", prefix,
	    (unsigned long long)p->answered, prefix,
	    (unsigned long long)p->lost, prefix,
	    bench_lat_pct(&p->lat, 50) / 1e6, prefix,
	    bench_lat_pct(&p->lat, 99) / 1e6, prefix,
	    bench_lat_pct(&p->lat, 99.9) / 1e6, prefix,
	    bench_lat_pct(&p->lat, 100) / 1e6);
}

/* stall: the baseline phase, the streaming phase, one result line. */
int
bench_stall(const struct bench_opts *o)
{
	struct bench_probe	 p;
	struct bench_http	 h;
	uint64_t		 half = (uint64_t)(o->duration * 1e9 / 2);
	uint64_t		 invalid;
	double			 load[1] = { 0 };
	int			 rc;

	signal(SIGPIPE, SIG_IGN);
	if (bench_probe_open(&p, o) == -1) {
		bench_warnx("stall: cannot open the probe: %s",
		    strerror(errno));
		bench_probe_close(&p);
		return (-1);
	}
	bench_http_init(&h, o);
	stall_phase(o, &p, NULL, half);
	printf("mode=stall path=%s src_ips=%d", o->path != NULL ? o->path :
	    "/leases?limit=100000", p.src_ips);
	stall_print("base_", &p);
	invalid = p.invalid;
	rc = p.answered > 0 ? 0 : -1;
	stall_phase(o, &p, &h, half);
	stall_print("", &p);
	getloadavg(load, 1);
	printf(" invalid=%llu pages=%llu page_bytes=%.0f page_ms=%.1f "
	    "http_failed=%llu load1=%.2f\n",
	    (unsigned long long)(invalid + p.invalid),
	    (unsigned long long)h.pages,
	    h.pages != 0 ? (double)h.bytes / (double)h.pages : 0,
	    h.pages != 0 ? (double)h.page_ns / (double)h.pages / 1e6 : 0,
	    (unsigned long long)h.failed, load[0]);
	if (p.answered == 0 || h.pages == 0)
		rc = -1;
	bench_probe_close(&p);
	return (rc);
}
