/*
 * Readiness notification for systemd (Type=notify): READY=1 once the
 * sockets are bound and the daemon serves, RELOADING=1 then READY=1
 * around a SIGHUP reload, STOPPING=1 when it starts shutting down.
 * sd_notify() does nothing when NOTIFY_SOCKET is not set, so the same
 * binary runs anywhere.
 */
#include "autoconf.h"

#include <time.h>

#include <systemd/sd-daemon.h>

#include "notify.h"

/* The sockets are bound and the daemon serves (again, after a reload). */
void
notify_ready(void)
{
	sd_notify(0, "READY=1");
}

/* systemd wants the monotonic time the reload started at. */
void
notify_reloading(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000ULL);
}

/* Shutdown has begun. */
void
notify_stopping(void)
{
	sd_notify(0, "STOPPING=1");
}
