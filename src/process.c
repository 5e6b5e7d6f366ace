/*
 * The process's life: pidfile, detaching, dropping privileges.
 *
 * The pidfile is locked with flock() for as long as the daemon lives, so
 * "is another daemon running?" is the kernel's answer, not a guess from a
 * pid that may have been reused: a locked file means a live daemon, and
 * the start is refused; an unlocked one is stale, whatever it says, and
 * is taken over.  It is locked before the sockets are bound and written
 * once the process that will serve (after -daemon's forks) is known.
 *
 * -daemon forks twice (the second child is no session leader, so it can
 * never acquire a terminal), moves to / and points the standard
 * descriptors at /dev/null.  The first parent stays until the daemon
 * says it is ready, through a pipe, and exits 0 then, or 1 if the daemon
 * died first: whoever started it learns whether it started.
 */
#include "autoconf.h"

#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "process.h"

#define PROCESS_LOCK_ATTEMPTS	5

static long	process_pidfile_read(int);
static void	process_wait_ready(int) __attribute__((noreturn));
static int	process_check_dropped(const struct passwd *, char *, size_t);

/* No pidfile, no parent waiting. */
void
process_init(struct process *p)
{
	p->pid_fd = -1;
	p->pid_path = NULL;
	p->ready_fd = -1;
}

/*
 * Opens and locks the pidfile.  Held by a live daemon: refused.  Left by
 * a dead one: taken over.  A file unlinked by its exiting owner between
 * our open() and flock() is not the one under the name any more, so the
 * name is checked again after the lock.
 */
int
process_pidfile_lock(struct process *p, const char *path, char *why,
    size_t whylen)
{
	struct stat	st_fd, st_path;
	long		pid;
	int		fd, attempt;

	for (attempt = 0; attempt < PROCESS_LOCK_ATTEMPTS; attempt++) {
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW |
		    O_NOCTTY, 0644);
		if (fd == -1) {
			snprintf(why, whylen, "pidfile %s: %s", path,
			    strerror(errno));
			return (-1);
		}
		if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
			if (errno == EWOULDBLOCK)
				snprintf(why, whylen, "pidfile %s: already "
				    "running as pid %ld", path,
				    process_pidfile_read(fd));
			else
				snprintf(why, whylen, "pidfile %s: lock: %s",
				    path, strerror(errno));
			close(fd);
			return (-1);
		}
		if (fstat(fd, &st_fd) == 0 && stat(path, &st_path) == 0 &&
		    st_fd.st_dev == st_path.st_dev &&
		    st_fd.st_ino == st_path.st_ino)
			break;
		close(fd);
		fd = -1;
	}
	if (fd == -1) {
		snprintf(why, whylen, "pidfile %s: keeps changing", path);
		return (-1);
	}
	if ((p->pid_path = strdup(path)) == NULL) {
		snprintf(why, whylen, "out of memory");
		close(fd);
		return (-1);
	}
	if ((pid = process_pidfile_read(fd)) > 0)
		log_info("replacing stale pidfile %s pid=%ld", path, pid);
	p->pid_fd = fd;
	return (0);
}

/* Writes our pid into the locked pidfile. */
int
process_pidfile_write(struct process *p, char *why, size_t whylen)
{
	char	buf[32];
	int	n;

	if (p->pid_fd == -1)
		return (0);
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(p->pid_fd, 0) == -1 ||
	    pwrite(p->pid_fd, buf, (size_t)n, 0) != n) {
		snprintf(why, whylen, "pidfile %s: %s", p->pid_path,
		    strerror(errno));
		return (-1);
	}
	return (0);
}

/*
 * Removes the pidfile at exit.  Without the right to (privileges dropped
 * and a directory only root may write), it is emptied instead; either way
 * the lock goes with the descriptor, so the next start takes it over.
 */
void
process_pidfile_remove(struct process *p)
{
	if (p->pid_fd == -1)
		return;
	if (unlink(p->pid_path) == -1) {
		log_warn("cannot remove pidfile %s: %s; emptying it",
		    p->pid_path, strerror(errno));
		if (ftruncate(p->pid_fd, 0) == -1)
			log_warn("cannot empty pidfile %s: %s", p->pid_path,
			    strerror(errno));
	}
	close(p->pid_fd);
	free(p->pid_path);
	p->pid_fd = -1;
	p->pid_path = NULL;
}

/*
 * Detaches: fork, setsid, fork again, chdir /, std descriptors to
 * /dev/null.  Returns 0 in the daemon; the original process waits for
 * process_ready() and exits.
 */
int
process_daemonize(struct process *p, char *why, size_t whylen)
{
	pid_t	pid;
	int	fds[2], null;

	if (pipe2(fds, O_CLOEXEC) == -1) {
		snprintf(why, whylen, "pipe: %s", strerror(errno));
		return (-1);
	}
	if ((pid = fork()) == -1) {
		snprintf(why, whylen, "fork: %s", strerror(errno));
		return (-1);
	}
	if (pid != 0) {
		close(fds[1]);
		process_wait_ready(fds[0]);
	}
	close(fds[0]);
	if (setsid() == -1 || (pid = fork()) == -1)
		_exit(1);
	if (pid != 0)
		_exit(0);
	if (chdir("/") == -1 ||
	    (null = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1) {
		snprintf(why, whylen, "detach: %s", strerror(errno));
		return (-1);
	}
	if (dup2(null, STDIN_FILENO) == -1 || dup2(null, STDOUT_FILENO) == -1 ||
	    dup2(null, STDERR_FILENO) == -1) {
		snprintf(why, whylen, "dup2: %s", strerror(errno));
		return (-1);
	}
	if (null > STDERR_FILENO)
		close(null);
	p->ready_fd = fds[1];
	return (0);
}

/* Tells the waiting parent (-daemon) that the daemon serves. */
void
process_ready(struct process *p)
{
	if (p->ready_fd == -1)
		return;
	if (write(p->ready_fd, "r", 1) != 1)
		log_warn("cannot tell the parent we are ready: %s",
		    strerror(errno));
	close(p->ready_fd);
	p->ready_fd = -1;
}

/*
 * Becomes user: its supplementary groups, its group, then its uid, all
 * three ids of each; then makes sure root cannot be had back.
 */
int
process_drop_privileges(const char *user, char *why, size_t whylen)
{
	struct passwd	*pw;

	errno = 0;
	if ((pw = getpwnam(user)) == NULL) {
		snprintf(why, whylen, "user %s: %s", user,
		    errno != 0 ? strerror(errno) : "no such user");
		return (-1);
	}
	if (getuid() != pw->pw_uid || geteuid() != pw->pw_uid) {
		if (initgroups(pw->pw_name, pw->pw_gid) == -1 ||
		    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
		    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1) {
			snprintf(why, whylen, "cannot become user %s: %s",
			    user, strerror(errno));
			return (-1);
		}
	}
	return (process_check_dropped(pw, why, whylen));
}

/* Every uid and gid is the user's, and root is out of reach. */
static int
process_check_dropped(const struct passwd *pw, char *why, size_t whylen)
{
	uid_t	ruid, euid, suid;
	gid_t	rgid, egid, sgid;

	if (getresuid(&ruid, &euid, &suid) == -1 ||
	    getresgid(&rgid, &egid, &sgid) == -1 ||
	    ruid != pw->pw_uid || euid != pw->pw_uid || suid != pw->pw_uid ||
	    rgid != pw->pw_gid || egid != pw->pw_gid || sgid != pw->pw_gid) {
		snprintf(why, whylen, "user %s: the ids did not change",
		    pw->pw_name);
		return (-1);
	}
	if (pw->pw_uid != 0 && (setuid(0) != -1 || seteuid(0) != -1)) {
		snprintf(why, whylen, "user %s: root could be regained",
		    pw->pw_name);
		return (-1);
	}
	return (0);
}

/* The pid in a pidfile, or 0 if it holds none. */
static long
process_pidfile_read(int fd)
{
	char	buf[32];
	ssize_t	n;

	if ((n = pread(fd, buf, sizeof(buf) - 1, 0)) <= 0)
		return (0);
	buf[n] = '\0';
	return (strtol(buf, NULL, 10));
}

/* The first parent: exits 0 once the daemon is ready, 1 if it died. */
static void
process_wait_ready(int fd)
{
	ssize_t	n;
	char	c;

	do {
		n = read(fd, &c, 1);
	} while (n == -1 && errno == EINTR);
	if (n != 1) {
		fprintf(stderr, "%s: the daemon exited before it was ready; "
		    "see its log\n", PACKAGE_NAME);
		_exit(1);
	}
	_exit(0);
}
