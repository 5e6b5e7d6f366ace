/*
 * The process's life as an operator sees it: the pidfile, detaching from
 * the terminal (-daemon) and dropping root (-user).
 */
#ifndef CB_PROCESS_H
#define CB_PROCESS_H

#include <stddef.h>

struct process {
	int		 pid_fd;	/* the locked pidfile, or -1 */
	char		*pid_path;	/* its name, for the removal */
	int		 ready_fd;	/* -daemon: the waiting parent, or -1 */
};

void		 process_init(struct process *);
int		 process_pidfile_lock(struct process *, const char *, char *,
		    size_t);
int		 process_pidfile_write(struct process *, char *, size_t);
void		 process_pidfile_remove(struct process *);
int		 process_daemonize(struct process *, char *, size_t);
void		 process_ready(struct process *);
int		 process_drop_privileges(const char *, char *, size_t);

#endif /* CB_PROCESS_H */
