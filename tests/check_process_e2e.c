/*
 * End-to-end tests of the daemon as a system process: SIGHUP reloads
 * (leases and waiting sessions kept, the new lease_timeout for new
 * leases, a bad file keeping the old settings, restart-only keys
 * refused, the admin token replaced), the pidfile's life (written,
 * removed, a stale one replaced, a live one refused), -daemon detaching
 * and stopping on `kill $(cat pidfile)`, -user dropping root for good,
 * and -log=FILE reopened after a rename.
 *
 * Most daemons run under tests/harness.c.  Those that must not be its
 * child (-daemon) or must fail to start run through spawn() below, with
 * $CB_DAEMON_WRAPPER honoured the same way.  Tests that need root say
 * so on stderr and pass without checking when not run as root.
 */
#include "autoconf.h"

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "harness.h"
#include "rdv.h"
#include "suite.h"
#include "util.h"

#define MAX_ARGS	16
#define PATH_LEN	320

/* The scratch directory of one test and the files in it. */
struct scratch {
	char	dir[256];
	char	conf[PATH_LEN];
	char	pid[PATH_LEN];
	char	log[PATH_LEN];
	char	log1[PATH_LEN];
	char	token[PATH_LEN];
	char	out[PATH_LEN];	/* spawn()'s stdout and stderr */
};

/* A file and a text it must come to contain, for h_poll_until(). */
struct log_wait {
	const char	*path;
	const char	*text;
};

/* A harness daemon and a text its stderr must come to contain. */
struct dlog_wait {
	const struct h_daemon	*d;
	const char		*text;
};

static void	scratch_init(struct scratch *);
static void	scratch_free(struct scratch *);
static void	write_text(const char *, const char *);
static char	*read_text(const char *);
static int	file_has(void *);
static int	dlog_has(void *);
static void	expect_log(const char *, const char *);
static void	expect_dlog(const struct h_daemon *, const char *);
static long	read_pid(const char *);
static pid_t	spawn(const char *const *, const char *, uid_t);
static int	reap(pid_t, int);
static int	free_port(void);
static char	*proc_field(pid_t, const char *);
static json_object *get_lease(const struct h_daemon *,
		    const struct rdv_peer *);
static long long lease_int(const struct h_daemon *, const struct rdv_peer *,
		    const char *);
static void	expect_state(const struct h_daemon *,
		    const struct rdv_peer *, const char *);
static void	reload(struct h_daemon *, const char *);
static int	guard(pid_t);
static void	guard_release(int);

static void
scratch_init(struct scratch *s)
{
	const char	*tmp = getenv("TMPDIR");

	snprintf(s->dir, sizeof(s->dir), "%s/cb-proc-XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(s->dir));
	chmod(s->dir, 0755);
	snprintf(s->conf, sizeof(s->conf), "%s/cb.conf", s->dir);
	snprintf(s->pid, sizeof(s->pid), "%s/cb.pid", s->dir);
	snprintf(s->log, sizeof(s->log), "%s/cb.log", s->dir);
	snprintf(s->log1, sizeof(s->log1), "%s/cb.log.1", s->dir);
	snprintf(s->token, sizeof(s->token), "%s/token", s->dir);
	snprintf(s->out, sizeof(s->out), "%s/out", s->dir);
}

static void
scratch_free(struct scratch *s)
{
	unlink(s->conf);
	unlink(s->pid);
	unlink(s->log);
	unlink(s->log1);
	unlink(s->token);
	unlink(s->out);
	rmdir(s->dir);
}

/* Replaces a file's content (a rename, so a reader never sees half). */
static void
write_text(const char *path, const char *text)
{
	char	tmp[PATH_LEN + 8];
	FILE	*fp;

	snprintf(tmp, sizeof(tmp), "%s.new", path);
	ck_assert_ptr_nonnull(fp = fopen(tmp, "w"));
	ck_assert_int_ge(fputs(text, fp), 0);
	ck_assert_int_eq(fclose(fp), 0);
	chmod(tmp, 0644);
	ck_assert_int_eq(rename(tmp, path), 0);
}

/* A whole file, NUL-terminated, or NULL if it cannot be read. */
static char *
read_text(const char *path)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*fp, *mem;
	int	 c;

	if ((fp = fopen(path, "r")) == NULL)
		return (NULL);
	ck_assert_ptr_nonnull(mem = open_memstream(&buf, &len));
	while ((c = fgetc(fp)) != EOF)
		fputc(c, mem);
	fclose(mem);
	fclose(fp);
	return (buf);
}

static int
file_has(void *arg)
{
	struct log_wait	*w = arg;
	char		*text;
	int		 found;

	if ((text = read_text(w->path)) == NULL)
		return (0);
	found = strstr(text, w->text) != NULL;
	free(text);
	return (found);
}

static int
dlog_has(void *arg)
{
	struct dlog_wait	*w = arg;

	return (h_daemon_log_contains(w->d, w->text));
}

/* Waits until the file holds the text. */
static void
expect_log(const char *path, const char *text)
{
	struct log_wait	w = { path, text };

	ck_assert_msg(h_poll_until(file_has, &w, H_TIMEOUT_MS) == 1,
	    "%s never said \"%s\"", path, text);
}

/* Waits until the harness daemon's stderr holds the text. */
static void
expect_dlog(const struct h_daemon *d, const char *text)
{
	struct dlog_wait	w = { d, text };

	ck_assert_msg(h_poll_until(dlog_has, &w, H_TIMEOUT_MS) == 1,
	    "the daemon never logged \"%s\"", text);
}

/* The pid in a pidfile, 0 if empty, -1 if absent. */
static long
read_pid(const char *path)
{
	char	*text;
	long	 pid;

	if ((text = read_text(path)) == NULL)
		return (-1);
	pid = strtol(text, NULL, 10);
	free(text);
	return (pid);
}

/*
 * Runs [wrapper...] $CB_BINARY args..., output to the file out, as uid
 * (or as we are, if uid is (uid_t)-1).
 */
static pid_t
spawn(const char *const *args, const char *out, uid_t uid)
{
	const char	*wrapper = getenv("CB_DAEMON_WRAPPER");
	char		*argv[2 * MAX_ARGS + 2], *words = NULL, *w;
	int		 argc = 0, fd;
	pid_t		 pid;

	if (wrapper != NULL)
		ck_assert_ptr_nonnull(words = strdup(wrapper));
	for (w = words != NULL ? strtok(words, " \t") : NULL;
	    w != NULL && argc < MAX_ARGS; w = strtok(NULL, " \t"))
		argv[argc++] = w;
	argv[argc++] = getenv("CB_BINARY");
	while (*args != NULL && argc < 2 * MAX_ARGS)
		argv[argc++] = (char *)(uintptr_t)*args++;
	argv[argc] = NULL;
	ck_assert_int_ne(fd = open(out, O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC, 0666), -1);
	fchmod(fd, 0666);
	if ((pid = fork()) == 0) {
		if (dup2(fd, STDOUT_FILENO) == -1 ||
		    dup2(fd, STDERR_FILENO) == -1)
			_exit(126);
		if (uid != (uid_t)-1 && (setgroups(0, NULL) == -1 ||
		    setgid(uid) == -1 || setuid(uid) == -1))
			_exit(125);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(fd);
	free(words);
	ck_assert_int_ne(pid, -1);
	return (pid);
}

/* Waits for a child: its exit status, 128 + signal, or -1 at deadline. */
static int
reap(pid_t pid, int timeout_ms)
{
	int	status;

	if (h_reap(pid, h_now_ms() + (uint64_t)h_scale_ms(timeout_ms),
	    &status) != 1)
		return (-1);
	if (WIFEXITED(status))
		return (WEXITSTATUS(status));
	return (128 + WTERMSIG(status));
}

/* A port free for TCP and UDP on 127.0.0.1 at this moment. */
static int
free_port(void)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	int			fd, port;

	ck_assert_int_ne(fd = socket(AF_INET, SOCK_STREAM, 0), -1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	port = ntohs(sin.sin_port);
	close(fd);
	return (port);
}

/* The value of a /proc/PID/status line ("Uid:"), tabs as spaces. */
static char *
proc_field(pid_t pid, const char *name)
{
	char	 path[64], *text, *p, *end, *value;
	size_t	 i;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	ck_assert_ptr_nonnull(text = read_text(path));
	ck_assert_ptr_nonnull(p = strstr(text, name));
	p += strlen(name);
	p += strspn(p, " \t");
	end = p + strcspn(p, "\n");
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	ck_assert_ptr_nonnull(value = strndup(p, (size_t)(end - p)));
	for (i = 0; value[i] != '\0'; i++)
		if (value[i] == '\t')
			value[i] = ' ';
	free(text);
	return (value);
}

static json_object *
get_lease(const struct h_daemon *d, const struct rdv_peer *p)
{
	json_object	*o;
	char		 path[128];
	int		 status;

	snprintf(path, sizeof(path), "/leases/%s/%lld", p->ip, p->peer_port);
	o = h_get_json(d, path, &status);
	ck_assert_int_eq(status, 200);
	ck_assert_ptr_nonnull(o);
	return (o);
}

/* A number field of a peer's lease in /leases/IP/PORT. */
static long long
lease_int(const struct h_daemon *d, const struct rdv_peer *p,
    const char *field)
{
	json_object	*o = get_lease(d, p), *v;
	long long	 n;

	ck_assert(json_object_object_get_ex(o, field, &v));
	n = json_object_get_int64(v);
	json_object_put(o);
	return (n);
}

/* A lease's state: "idle", "waiting" or "server". */
static void
expect_state(const struct h_daemon *d, const struct rdv_peer *p,
    const char *state)
{
	json_object	*o = get_lease(d, p), *v;

	ck_assert(json_object_object_get_ex(o, "state", &v));
	ck_assert_str_eq(json_object_get_string(v), state);
	json_object_put(o);
}

/* Sends SIGHUP and waits for the daemon to log "text" after it. */
static void
reload(struct h_daemon *d, const char *text)
{
	ck_assert_int_eq(kill(d->pid, SIGHUP), 0);
	expect_dlog(d, text);
	ck_assert(h_daemon_alive(d));
}

/*
 * A reload with leases, a waiting Peer and a registered Server: none is
 * dropped, the waiting Peer still matches afterwards, the Server still
 * hears of its client, the new lease_timeout applies to new leases and
 * log_level changes live.  The flag -udp_grace stays over the file.
 */
START_TEST(test_reload_keeps_state)
{
	struct scratch	s;
	struct h_daemon	d;
	struct rdv_peer	a, b, srv, cli;
	char		arg[PATH_LEN + 16];

	scratch_init(&s);
	write_text(s.conf, "lease_timeout = 90\nudp_grace = 3\n");
	snprintf(arg, sizeof(arg), "-config=%s", s.conf);
	ck_assert_int_eq(h_daemon_start(&d, arg, "-udp_grace=7", NULL), 0);
	rdv_peer_init(&a, "127.0.0.2", 1);
	rdv_peer_init(&b, "127.0.0.3", 2);
	rdv_peer_init(&srv, "127.0.0.4", 3);
	rdv_peer_init(&cli, "127.0.0.5", 4);
	rdv_register(&a, &d);
	rdv_register(&srv, &d);
	rdv_wait_lease(&a, &d);
	rdv_wait_lease(&srv, &d);
	rdv_request(&a, &d, "Peer", &b);
	rdv_request(&srv, &d, "Server", NULL);
	rdv_wait_stat(&d, "waiting", 1);
	rdv_wait_stat(&d, "servers", 1);
	ck_assert_int_le(lease_int(&d, &a, "expires_in_s"), 90);

	write_text(s.conf, "# longer leases now\nlease_timeout = 600\n"
	    "udp_grace = 3\nlog_level = debug\n");
	reload(&d, "reloaded lease_timeout=600 udp_grace=7 log_level=debug");
	ck_assert_int_eq(h_stat(&d, "lease_timeout_s"), 600);
	ck_assert_int_eq(h_stat(&d, "leases"), 2);
	ck_assert_int_eq(h_stat(&d, "waiting"), 1);
	ck_assert_int_eq(h_stat(&d, "servers"), 1);
	ck_assert_int_eq(h_stat(&d, "tcp_connections"), 2);
	expect_state(&d, &a, "waiting");
	expect_state(&d, &srv, "server");
	ck_assert_int_le(lease_int(&d, &a, "expires_in_s"), 90);

	/* The waiting Peer still matches; B's lease is a new one. */
	rdv_register(&b, &d);
	rdv_wait_lease(&b, &d);
	ck_assert_int_gt(lease_int(&d, &b, "expires_in_s"), 590);
	rdv_request(&b, &d, "Peer", &a);
	rdv_expect_match(&a, &b);
	rdv_expect_match(&b, &a);
	expect_dlog(&d, "request type=Peer");	/* debug, live */

	/* The Server registered before the reload hears of a client. */
	rdv_register(&cli, &d);
	rdv_wait_lease(&cli, &d);
	rdv_request(&cli, &d, "Client", &srv);
	rdv_expect_match(&cli, &srv);
	{
		char	*line = rdv_success_line(&srv, &cli);

		rdv_expect_line(srv.tcp, line, H_TIMEOUT_MS);
		free(line);
	}
	/* A refresh takes the new lease_timeout too. */
	rdv_register(&a, &d);
	ck_assert(h_wait_stat(&d, "udp_datagrams", 5, H_TIMEOUT_MS) == 0);
	ck_assert_int_gt(lease_int(&d, &a, "expires_in_s"), 590);
	ck_assert_int_eq(h_stat(&d, "leases_expired"), 0);

	rdv_peer_close(&a);
	rdv_peer_close(&b);
	rdv_peer_close(&srv);
	rdv_peer_close(&cli);
	ck_assert_int_eq(h_daemon_stop(&d), 0);
	scratch_free(&s);
}
END_TEST

/*
 * A file with an error is not applied, and says where; a valid file
 * asking for another bind address is applied but for that.
 */
START_TEST(test_reload_bad_file)
{
	struct scratch	s;
	struct h_daemon	d;
	struct rdv_peer	a;
	char		arg[PATH_LEN + 16], want[PATH_LEN + 128];
	long long	port;

	scratch_init(&s);
	write_text(s.conf, "lease_timeout = 50\n");
	snprintf(arg, sizeof(arg), "-config=%s", s.conf);
	ck_assert_int_eq(h_daemon_start(&d, arg, NULL), 0);
	rdv_peer_init(&a, "127.0.0.2", 1);
	rdv_register(&a, &d);
	rdv_wait_lease(&a, &d);

	write_text(s.conf, "lease_timeout = 70\nlease_timeout = 0x10\n");
	snprintf(want, sizeof(want), "config has errors, not reloading: "
	    "%s:2: duplicate key \"lease_timeout\" (first on line 1)", s.conf);
	reload(&d, want);
	write_text(s.conf, "lease_timeout = 70\nudp_grace = 0\n");
	snprintf(want, sizeof(want), "config has errors, not reloading: "
	    "%s:2: invalid value \"0\" for key udp_grace: must be 1 to "
	    "86400", s.conf);
	reload(&d, want);
	ck_assert_int_eq(h_stat(&d, "lease_timeout_s"), 50);
	ck_assert_int_eq(h_stat(&d, "leases"), 1);

	unlink(s.conf);
	snprintf(want, sizeof(want), "config has errors, not reloading: "
	    "%s: No such file or directory", s.conf);
	reload(&d, want);
	ck_assert_int_eq(h_stat(&d, "lease_timeout_s"), 50);

	port = h_stat(&d, "port");
	write_text(s.conf, "lease_timeout = 80\nport = 1\nbind = ::1\n");
	reload(&d, "reloaded lease_timeout=80");
	/* -port on the command line wins over the file: nothing to say. */
	ck_assert(!h_daemon_log_contains(&d, "port=\"1\""));
	ck_assert(h_daemon_log_contains(&d, "reload: bind=\"::1\" needs a "
	    "restart; keeping bind=\"\""));
	ck_assert_int_eq(h_stat(&d, "port"), port);
	ck_assert_int_eq(h_stat(&d, "lease_timeout_s"), 80);
	ck_assert_int_eq(h_stat(&d, "leases"), 1);
	rdv_peer_close(&a);
	ck_assert_int_eq(h_daemon_stop(&d), 0);
	scratch_free(&s);
}
END_TEST

/*
 * A new udp_grace applies to the requests that come after the reload:
 * from 60 s down to 1 s, a request without its UDP registration is
 * answered "no UDP registration" within the second.
 */
START_TEST(test_reload_udp_grace)
{
	struct scratch	s;
	struct h_daemon	d;
	struct rdv_peer	a, b;
	char		arg[PATH_LEN + 16];

	scratch_init(&s);
	write_text(s.conf, "udp_grace = 60\n");
	snprintf(arg, sizeof(arg), "-config=%s", s.conf);
	ck_assert_int_eq(h_daemon_start(&d, arg, NULL), 0);
	write_text(s.conf, "udp_grace = 1\n");
	reload(&d, "reloaded lease_timeout=90 udp_grace=1");
	rdv_peer_init(&a, "127.0.0.2", 1);
	rdv_peer_init(&b, "127.0.0.3", 2);
	rdv_request(&a, &d, "Peer", &b);
	rdv_expect_error(&a, "no UDP registration", 3000);
	rdv_peer_close(&a);
	rdv_peer_close(&b);
	ck_assert_int_eq(h_daemon_stop(&d), 0);
	scratch_free(&s);
}
END_TEST

/* The status of GET /stats with "Authorization: Bearer token". */
static int
stats_status(const struct h_daemon *d, const char *token)
{
	struct h_http_response	r;
	char			header[128];
	int			status;

	snprintf(header, sizeof(header), "Authorization: Bearer %s\r\n",
	    token);
	ck_assert_int_eq(h_http(d, "GET", "/stats", header, &r), 0);
	status = r.status;
	h_http_response_free(&r);
	return (status);
}

/* The admin token is read at start and again on reload, never logged. */
START_TEST(test_reload_token)
{
	struct scratch		s;
	struct h_daemon		d;
	char			arg[PATH_LEN + 32];

	scratch_init(&s);
	write_text(s.token, "first-token\n");
	snprintf(arg, sizeof(arg), "-admin_token_file=%s", s.token);
	ck_assert_int_eq(h_daemon_start(&d, arg, "-config=", NULL), 0);
	ck_assert_int_eq(stats_status(&d, "first-token"), 200);

	write_text(s.token, "second-token\n");
	reload(&d, "admin_token=set");
	ck_assert_int_eq(stats_status(&d, "second-token"), 200);
	ck_assert_int_eq(stats_status(&d, "first-token"), 401);

	/* An empty token file: not reloaded, the second token stays. */
	write_text(s.token, "\n");
	reload(&d, "the admin token is empty");
	ck_assert_int_eq(stats_status(&d, "second-token"), 200);
	ck_assert(!h_daemon_log_contains(&d, "first-token"));
	ck_assert(!h_daemon_log_contains(&d, "second-token"));
	ck_assert_int_eq(h_daemon_stop(&d), 0);
	scratch_free(&s);
}
END_TEST

/* Written with the daemon's pid, removed at exit; a stale one replaced. */
START_TEST(test_pidfile_lifecycle)
{
	struct scratch	s;
	struct h_daemon	d;
	char		arg[PATH_LEN + 16];
	pid_t		dead;

	scratch_init(&s);
	snprintf(arg, sizeof(arg), "-pidfile=%s", s.pid);
	ck_assert_int_eq(h_daemon_start(&d, arg, "-config=", NULL), 0);
	ck_assert_int_eq(read_pid(s.pid), (long)d.pid);
	ck_assert_int_eq(h_daemon_stop(&d), 0);
	ck_assert_int_eq(access(s.pid, F_OK), -1);

	/* A stale pidfile: the pid of a process that has exited. */
	if ((dead = fork()) == 0)
		_exit(0);
	ck_assert_int_eq(reap(dead, H_TIMEOUT_MS), 0);
	{
		char	text[32];

		snprintf(text, sizeof(text), "%d\n", (int)dead);
		write_text(s.pid, text);
	}
	ck_assert_int_eq(h_daemon_start(&d, arg, "-config=", NULL), 0);
	ck_assert_int_eq(read_pid(s.pid), (long)d.pid);
	ck_assert(h_daemon_log_contains(&d, "replacing stale pidfile"));
	ck_assert_int_eq(h_daemon_stop(&d), 0);
	ck_assert_int_eq(access(s.pid, F_OK), -1);

	/* Stale and holding nonsense, even our own pid: still replaced. */
	write_text(s.pid, "garbage\n");
	ck_assert_int_eq(h_daemon_start(&d, arg, "-config=", NULL), 0);
	ck_assert_int_eq(read_pid(s.pid), (long)d.pid);
	ck_assert_int_eq(h_daemon_stop(&d), 0);
	scratch_free(&s);
}
END_TEST

/* A second daemon on a live pidfile is refused, exit 1, and says why. */
START_TEST(test_pidfile_live_refused)
{
	struct scratch	 s;
	struct h_daemon	 d;
	char		 arg[PATH_LEN + 16], port[32], admin[48];
	char		 want[64], *out;
	const char	*args[] = { arg, "-config=", port, admin, NULL };
	pid_t		 pid;

	scratch_init(&s);
	snprintf(arg, sizeof(arg), "-pidfile=%s", s.pid);
	ck_assert_int_eq(h_daemon_start(&d, arg, "-config=", NULL), 0);
	snprintf(port, sizeof(port), "-port=%d", free_port());
	snprintf(admin, sizeof(admin), "-admin=127.0.0.1:%d", free_port());
	pid = spawn(args, s.out, (uid_t)-1);
	ck_assert_int_eq(reap(pid, H_TIMEOUT_MS), 1);
	ck_assert_ptr_nonnull(out = read_text(s.out));
	snprintf(want, sizeof(want), "already running as pid %d",
	    (int)d.pid);
	ck_assert_msg(strstr(out, want) != NULL, "output: %s", out);
	free(out);
	ck_assert_int_eq(read_pid(s.pid), (long)d.pid);
	ck_assert(h_daemon_alive(&d));
	ck_assert_int_eq(h_daemon_stop(&d), 0);
	ck_assert_int_eq(access(s.pid, F_OK), -1);
	scratch_free(&s);
}
END_TEST

/*
 * A detached daemon is not the harness's: should the test die, a guard
 * process, which sees the end of its pipe when the test process ends,
 * kills it.  Returns the pipe's write end.
 */
static int
guard(pid_t pid)
{
	pid_t	g;
	int	fds[2], i;
	char	c;

	ck_assert_int_eq(pipe(fds), 0);
	if ((g = fork()) == 0) {
		for (i = 3; i < 1024; i++)
			if (i != fds[0])
				close(i);
		setpgid(0, 0);
		if (read(fds[0], &c, 1) != 1)
			kill(pid, SIGKILL);
		_exit(0);
	}
	ck_assert_int_ne(g, -1);
	close(fds[0]);
	return (fds[1]);
}

/* The test stopped the daemon itself: the guard may go. */
static void
guard_release(int fd)
{
	if (write(fd, "q", 1) != 1)
		fprintf(stderr, "cannot release the guard\n");
	close(fd);
}

/*
 * -daemon: the command returns once the daemon serves; the daemon is
 * another process, in its own session, in /, with /dev/null for its
 * standard descriptors, and `kill $(cat pidfile)` stops it cleanly.
 * The test process makes itself a subreaper so the detached daemon ends
 * up its child and can be reaped.
 */
START_TEST(test_daemon_detaches)
{
	struct scratch		 s;
	struct h_daemon		 d;
	struct h_http_response	 r;
	char			 pidarg[PATH_LEN + 16], logarg[PATH_LEN + 16];
	char			 port[32], admin[48], path[64], link[64];
	const char		*args[] = { "-daemon", "-config=", pidarg,
				    logarg, port, admin, "-bind=127.0.0.1",
				    NULL };
	pid_t			 starter, pid;
	int			 fd, status, g;
	ssize_t			 n;

	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	scratch_init(&s);
	memset(&d, 0, sizeof(d));
	d.port = free_port();
	d.admin_port = free_port();
	snprintf(pidarg, sizeof(pidarg), "-pidfile=%s", s.pid);
	snprintf(logarg, sizeof(logarg), "-log=%s", s.log);
	snprintf(port, sizeof(port), "-port=%d", d.port);
	snprintf(admin, sizeof(admin), "-admin=127.0.0.1:%d", d.admin_port);
	starter = spawn(args, s.out, (uid_t)-1);
	ck_assert_int_eq(reap(starter, 2 * H_TIMEOUT_MS), 0);

	/* Ready when the command returns: pidfile, log and admin API. */
	pid = (pid_t)read_pid(s.pid);
	ck_assert_int_gt(pid, 0);
	ck_assert_int_ne(pid, starter);
	ck_assert_int_eq(kill(pid, 0), 0);
	g = guard(pid);
	ck_assert_int_eq(h_http(&d, "GET", "/healthz", NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	h_http_response_free(&r);
	expect_log(s.log, "started");
	ck_assert_int_ne(getsid(pid), getsid(0));
	ck_assert_int_ne(getsid(pid), pid);	/* no session leader */
	snprintf(path, sizeof(path), "/proc/%d/cwd", (int)pid);
	ck_assert_int_gt(n = readlink(path, link, sizeof(link) - 1), 0);
	link[n] = '\0';
	ck_assert_str_eq(link, "/");
	for (fd = 0; fd <= 2; fd++) {
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, fd);
		ck_assert_int_gt(n = readlink(path, link, sizeof(link) - 1),
		    0);
		link[n] = '\0';
		ck_assert_str_eq(link, "/dev/null");
	}

	/* kill $(cat pidfile) */
	ck_assert_int_eq(kill((pid_t)read_pid(s.pid), SIGTERM), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	ck_assert_int_eq(access(s.pid, F_OK), -1);
	expect_log(s.log, "stopped");
	guard_release(g);
	scratch_free(&s);
}
END_TEST

/* -daemon that fails after detaching: the command itself exits 1. */
START_TEST(test_daemon_failure_reported)
{
	struct scratch	 s;
	char		 logarg[PATH_LEN + 16], port[32], admin[48], *out;
	const char	*args[] = { "-daemon", "-config=", logarg, port, admin,
			    "-bind=127.0.0.1", NULL };
	pid_t		 starter;
	int		 busy, one = 1;
	struct sockaddr_in sin;

	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	scratch_init(&s);
	/* The admin port is taken: admin_new() fails after the detach. */
	ck_assert_int_ne(busy = socket(AF_INET, SOCK_STREAM, 0), -1);
	setsockopt(busy, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(busy, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(busy, 1), 0);
	snprintf(logarg, sizeof(logarg), "-log=%s", s.log);
	snprintf(port, sizeof(port), "-port=%d", free_port());
	snprintf(admin, sizeof(admin), "-admin=127.0.0.1:%d",
	    cb_local_port(busy));
	starter = spawn(args, s.out, (uid_t)-1);
	ck_assert_int_eq(reap(starter, 2 * H_TIMEOUT_MS), 1);
	ck_assert_ptr_nonnull(out = read_text(s.out));
	ck_assert_msg(strstr(out, "exited before it was ready") != NULL,
	    "output: %s", out);
	free(out);
	expect_log(s.log, "admin");
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	close(busy);
	scratch_free(&s);
}
END_TEST

/* -user=nobody: every uid and gid is nobody's, no other group, no caps. */
START_TEST(test_user_drops)
{
	struct h_daemon	 d;
	struct passwd	*pw;
	struct rdv_peer	 a;
	char		 want[64], *v;

	if (geteuid() != 0) {
		fprintf(stderr, "SKIP test_user_drops: needs root\n");
		return;
	}
	ck_assert_ptr_nonnull(pw = getpwnam("nobody"));
	ck_assert_int_eq(h_daemon_start(&d, "-user=nobody", "-config=",
	    NULL), 0);
	snprintf(want, sizeof(want), "%u %u %u %u", pw->pw_uid, pw->pw_uid,
	    pw->pw_uid, pw->pw_uid);
	v = proc_field(d.pid, "Uid:");
	ck_assert_str_eq(v, want);
	free(v);
	snprintf(want, sizeof(want), "%u %u %u %u", pw->pw_gid, pw->pw_gid,
	    pw->pw_gid, pw->pw_gid);
	v = proc_field(d.pid, "Gid:");
	ck_assert_str_eq(v, want);
	free(v);
	v = proc_field(d.pid, "Groups:");
	snprintf(want, sizeof(want), "%u", pw->pw_gid);
	ck_assert_msg(*v == '\0' || strcmp(v, want) == 0, "Groups: %s", v);
	free(v);
	v = proc_field(d.pid, "CapEff:");
	ck_assert_str_eq(v, "0000000000000000");
	free(v);

	/* It still serves. */
	rdv_peer_init(&a, "127.0.0.2", 1);
	rdv_register(&a, &d);
	rdv_wait_lease(&a, &d);
	rdv_peer_close(&a);
	ck_assert_int_eq(h_daemon_stop(&d), 0);
}
END_TEST

/* Asked to drop to a user it cannot become, the daemon refuses to run. */
START_TEST(test_user_drop_fails)
{
	struct scratch	 s;
	struct passwd	*pw;
	char		 port[32], admin[48], *out;
	const char	*args[] = { "-user=root", "-config=", port, admin,
			    "-bind=127.0.0.1", NULL };
	pid_t		 pid;

	if (geteuid() != 0) {
		fprintf(stderr, "SKIP test_user_drop_fails: needs root\n");
		return;
	}
	ck_assert_ptr_nonnull(pw = getpwnam("nobody"));
	if (access(getenv("CB_BINARY"), X_OK) == -1) {
		fprintf(stderr, "SKIP test_user_drop_fails: binary\n");
		return;
	}
	scratch_init(&s);
	snprintf(port, sizeof(port), "-port=%d", free_port());
	snprintf(admin, sizeof(admin), "-admin=127.0.0.1:%d", free_port());
	pid = spawn(args, s.out, pw->pw_uid);
	ck_assert_int_eq(reap(pid, H_TIMEOUT_MS), 1);
	ck_assert_ptr_nonnull(out = read_text(s.out));
	ck_assert_msg(strstr(out, "refusing to run: cannot become user root")
	    != NULL, "output: %s", out);
	free(out);
	scratch_free(&s);
}
END_TEST

/* -log=FILE: appended to, and opened again on SIGHUP after a rename. */
START_TEST(test_log_file_reopen)
{
	struct scratch	 s;
	struct h_daemon	 d;
	char		 arg[PATH_LEN + 16], *text;

	scratch_init(&s);
	snprintf(arg, sizeof(arg), "-log=%s", s.log);
	write_text(s.log, "an old line\n");
	ck_assert_int_eq(h_daemon_start(&d, arg, "-config=", NULL), 0);
	expect_log(s.log, "started");
	ck_assert_int_eq(rename(s.log, s.log1), 0);
	ck_assert_int_eq(kill(d.pid, SIGHUP), 0);
	expect_log(s.log, "reloaded");
	ck_assert_int_eq(h_daemon_stop(&d), 0);

	ck_assert_ptr_nonnull(text = read_text(s.log1));
	ck_assert_ptr_eq(strstr(text, "an old line\n"), text);
	ck_assert_ptr_nonnull(strstr(text, "started"));
	ck_assert_ptr_nonnull(strstr(text, "received SIGHUP"));
	ck_assert_ptr_null(strstr(text, "reloaded"));
	free(text);
	ck_assert_ptr_nonnull(text = read_text(s.log));
	ck_assert_ptr_null(strstr(text, "started"));
	ck_assert_ptr_nonnull(strstr(text, "stopped"));
	free(text);
	ck_assert(!h_daemon_log_contains(&d, "started"));
	scratch_free(&s);
}
END_TEST

static Suite *
process_suite(void)
{
	Suite	*s = suite_create("process_e2e");
	TCase	*tc;

	tc = tcase_create("reload");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_reload_keeps_state);
	tcase_add_test(tc, test_reload_bad_file);
	tcase_add_test(tc, test_reload_udp_grace);
	tcase_add_test(tc, test_reload_token);
	tcase_add_test(tc, test_log_file_reopen);
	suite_add_tcase(s, tc);

	tc = tcase_create("process");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_pidfile_lifecycle);
	tcase_add_test(tc, test_pidfile_live_refused);
	tcase_add_test(tc, test_daemon_detaches);
	tcase_add_test(tc, test_daemon_failure_reported);
	tcase_add_test(tc, test_user_drops);
	tcase_add_test(tc, test_user_drop_fails);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (suite_run(process_suite()));
}
