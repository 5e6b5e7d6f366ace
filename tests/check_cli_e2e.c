/*
 * End-to-end tests of the command line: runs the real daemon binary
 * (CB_BINARY, set by "make check") with help, version and bad flags, and
 * checks its exit status, stdout and stderr.  None of these command lines
 * starts the daemon; a child still running after CHILD_TIMEOUT_MS is
 * killed and the test fails rather than hangs.
 *
 * The expected usage comes from config_usage() in libcb.a, so these tests
 * check that the binary prints what the library does; check_config pins
 * the text itself.
 */
#include "autoconf.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "harness.h"
#include "suite.h"

#define PROG			"containment_breach"
#define MAX_ARGS		8
#define CHILD_TIMEOUT_MS	5000

/* What one run of the binary did. */
struct child {
	int	 status;		/* exit status; -1 if it did not exit */
	int	 timed_out;		/* killed after CHILD_TIMEOUT_MS */
	char	*out;			/* all of stdout, NUL-terminated */
	char	*err;			/* all of stderr, NUL-terminated */
	size_t	 outlen;
	size_t	 errlen;
};

/* A command line that must fail, and the line it must print first. */
struct usage_case {
	const char	*args[MAX_ARGS];
	const char	*line;
};

static int	read_some(int *, char **, size_t *);
static void	child_exec(const char *const *, int, int);
static void	child_run(const char *const *, struct child *);
static void	child_free(struct child *);
static char	*usage_text(void);

/*
 * Appends what is readable on *fd to the buffer; closes the descriptor
 * and sets it to -1 at end of file.
 */
static int
read_some(int *fd, char **buf, size_t *len)
{
	char	chunk[4096];
	ssize_t	n;

	n = read(*fd, chunk, sizeof(chunk));
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return (0);
	if (n <= 0) {
		close(*fd);
		*fd = -1;
		return (n == 0 ? 0 : -1);
	}
	if ((*buf = realloc(*buf, *len + (size_t)n + 1)) == NULL)
		return (-1);
	memcpy(*buf + *len, chunk, (size_t)n);
	*len += (size_t)n;
	(*buf)[*len] = '\0';
	return (0);
}

/* In the child: stdin from /dev/null, stdout and stderr to the pipes. */
static void
child_exec(const char *const *args, int out, int err)
{
	char		*argv[MAX_ARGS + 2];
	const char	*binary = getenv("CB_BINARY");
	int		 argc = 0, null;

	argv[argc++] = (char *)(uintptr_t)binary;
	while (*args != NULL && argc <= MAX_ARGS)
		argv[argc++] = (char *)(uintptr_t)*args++;
	argv[argc] = NULL;
	if ((null = open("/dev/null", O_RDONLY)) != -1)
		dup2(null, STDIN_FILENO);
	if (dup2(out, STDOUT_FILENO) == -1 || dup2(err, STDERR_FILENO) == -1)
		_exit(126);
	execv(binary, argv);
	_exit(127);
}

/*
 * Runs the binary with args, collecting stdout and stderr until both
 * close, then its status; kills it if that takes over CHILD_TIMEOUT_MS.
 */
static void
child_run(const char *const *args, struct child *c)
{
	struct pollfd	pfd[2];
	int		outp[2], errp[2], fds[2], wstatus = -1, i;
	uint64_t	deadline = h_now_ms() + CHILD_TIMEOUT_MS, now;
	pid_t		pid;

	memset(c, 0, sizeof(*c));
	c->out = calloc(1, 1);
	c->err = calloc(1, 1);
	ck_assert(c->out != NULL && c->err != NULL);
	ck_assert(pipe(outp) == 0 && pipe(errp) == 0);
	if ((pid = fork()) == 0) {
		close(outp[0]);
		close(errp[0]);
		child_exec(args, outp[1], errp[1]);
	}
	ck_assert_int_ne(pid, -1);
	close(outp[1]);
	close(errp[1]);
	fds[0] = outp[0];
	fds[1] = errp[0];
	while ((fds[0] != -1 || fds[1] != -1) &&
	    (now = h_now_ms()) < deadline) {
		for (i = 0; i < 2; i++) {
			pfd[i].fd = fds[i];
			pfd[i].events = POLLIN;
		}
		if (poll(pfd, 2, (int)(deadline - now)) == -1 &&
		    errno != EINTR)
			break;
		if (fds[0] != -1 && pfd[0].revents != 0)
			ck_assert_int_eq(read_some(&fds[0], &c->out,
			    &c->outlen), 0);
		if (fds[1] != -1 && pfd[1].revents != 0)
			ck_assert_int_eq(read_some(&fds[1], &c->err,
			    &c->errlen), 0);
	}
	if (h_reap(pid, deadline, &wstatus) == 0) {
		c->timed_out = 1;
		kill(pid, SIGKILL);
		waitpid(pid, &wstatus, 0);
	}
	for (i = 0; i < 2; i++)
		if (fds[i] != -1)
			close(fds[i]);
	c->status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
}

/* Frees what child_run() collected. */
static void
child_free(struct child *c)
{
	free(c->out);
	free(c->err);
}

/* The usage as the library prints it. */
static char *
usage_text(void)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*fp;

	fp = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(fp);
	config_usage(fp);
	fclose(fp);
	return (buf);
}

static const char *const help_cases[][MAX_ARGS] = {
	{ "-h" },
	{ "-help" },
	{ "--help" },
};
#define N_HELP_CASES	(sizeof(help_cases) / sizeof(*help_cases))

/* -h, -help, --help: the usage on stdout, stderr empty, exit 0. */
START_TEST(test_help)
{
	struct child	 c;
	char		*usage = usage_text();

	child_run(help_cases[_i], &c);
	ck_assert_int_eq(c.timed_out, 0);
	ck_assert_int_eq(c.status, 0);
	ck_assert_str_eq(c.out, usage);
	ck_assert_str_eq(c.err, "");
	child_free(&c);
	free(usage);
}
END_TEST

/* -version: one line on stdout, exit 0. */
START_TEST(test_version)
{
	static const char *const args[] = { "-version", NULL };
	struct child	c;

	child_run(args, &c);
	ck_assert_int_eq(c.timed_out, 0);
	ck_assert_int_eq(c.status, 0);
	ck_assert_str_eq(c.out, PROG " " PACKAGE_VERSION "\n");
	ck_assert_str_eq(c.err, "");
	child_free(&c);
}
END_TEST

static const struct usage_case usage_cases[] = {
	{ { "-port=abc" }, PROG ": invalid value \"abc\" for flag -port: "
	  "not a decimal integer" },
	{ { "-port=70000" }, PROG ": invalid value \"70000\" for flag "
	  "-port: must be 1 to 65535" },
	{ { "-lease_timeout=0" }, PROG ": invalid value \"0\" for flag "
	  "-lease_timeout: must be 1 to 86400" },
	{ { "-nosuchflag" }, PROG ": flag provided but not defined: "
	  "-nosuchflag" },
	{ { "x" }, PROG ": unexpected argument: \"x\"" },
	{ { "--port" }, PROG ": flag needs an argument: -port" },
	{ { "--", "x" }, PROG ": unexpected argument: \"x\"" },
	{ { "-admin=localhost:80" }, PROG ": invalid value \"localhost:80\" "
	  "for flag -admin: must be IPv4:PORT, [IPv6]:PORT or \"off\"" },
};
#define N_USAGE_CASES	(sizeof(usage_cases) / sizeof(*usage_cases))

/* A bad command line: the error, then the usage, on stderr; exit 2. */
START_TEST(test_usage_error)
{
	const struct usage_case	*uc = &usage_cases[_i];
	struct child		 c;
	char			*usage = usage_text(), *nl;

	child_run(uc->args, &c);
	ck_assert_int_eq(c.timed_out, 0);
	ck_assert_int_eq(c.status, 2);
	ck_assert_str_eq(c.out, "");
	ck_assert_ptr_nonnull(nl = strchr(c.err, '\n'));
	*nl = '\0';
	ck_assert_str_eq(c.err, uc->line);
	ck_assert_str_eq(nl + 1, usage);
	child_free(&c);
	free(usage);
}
END_TEST

static Suite *
cli_suite(void)
{
	Suite	*s = suite_create("cli_e2e");
	TCase	*tc = tcase_create("binary");

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_help, 0, (int)N_HELP_CASES);
	tcase_add_test(tc, test_version);
	tcase_add_loop_test(tc, test_usage_error, 0, (int)N_USAGE_CASES);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	if (getenv("CB_BINARY") == NULL || *getenv("CB_BINARY") == '\0') {
		fprintf(stderr, "CB_BINARY is not set; skipping\n");
		return (77);
	}
	return (suite_run(cli_suite()));
}
