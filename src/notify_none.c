/*
 * Readiness notification when built without libsystemd: nothing to tell.
 * The service then runs as Type=simple (or forking with -daemon).
 */
#include "autoconf.h"

#include "notify.h"

/* Nobody to tell that the daemon serves. */
void
notify_ready(void)
{
}

/* Nobody to tell that a reload began. */
void
notify_reloading(void)
{
}

/* Nobody to tell that the daemon stops. */
void
notify_stopping(void)
{
}
