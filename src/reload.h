/*
 * SIGHUP: re-read the configuration and apply what can change live.
 */
#ifndef CB_RELOAD_H
#define CB_RELOAD_H

struct daemon_ctx;

void		 daemon_reload(struct daemon_ctx *);

#endif /* CB_RELOAD_H */
