/*
 * Readiness notification to the service manager.  Built with libsystemd
 * (configure --with-systemd), these are sd_notify() calls (notify.c);
 * otherwise they do nothing (notify_none.c), so callers need no #ifdef.
 */
#ifndef CB_NOTIFY_H
#define CB_NOTIFY_H

void		 notify_ready(void);
void		 notify_reloading(void);
void		 notify_stopping(void);

#endif /* CB_NOTIFY_H */
