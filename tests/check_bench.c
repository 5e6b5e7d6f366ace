/*
 * Smoke test of the load generator, so that it does not rot: a tiny run
 * of every mode of $CB_BENCH against a real daemon (and the reference
 * sinks), each bounded by --count and --duration, checking the exit
 * status and that the one result line names the mode and its figures.
 * Rates are not checked: make check runs on busy machines and under
 * valgrind; docs/performance.md is where figures live.
 */
#include "autoconf.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <sys/wait.h>

#include <check.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "suite.h"
#include "util.h"

#define TEST_TIMEOUT_MS	60000
#define RUN_TIMEOUT_MS	20000
#define OUT_MAX		4096

static int	bench(char *, size_t, ...) __attribute__((sentinel));
static pid_t	bench_bg(const char *, const char *);
static int	free_port(void);
static const char *secs(int);
static void	start(struct h_daemon *);
static void	expect(int, const char *, const char *);
static Suite	*bench_suite(void);

static struct h_daemon	d;
static char		port[16], admin[16], pid[16], out[OUT_MAX];

/*
 * Runs $CB_BENCH with the arguments given, NULL-terminated; its exit
 * status (-1 if it had to be killed) and its stdout in buf.
 */
static int
bench(char *buf, size_t buflen, ...)
{
	char		*args[32];
	struct pollfd	 pfd;
	uint64_t	 end;
	va_list		 ap;
	size_t		 len = 0;
	ssize_t		 n;
	pid_t		 child;
	int		 p[2], i = 1, status;

	args[0] = getenv("CB_BENCH");
	ck_assert_msg(args[0] != NULL, "CB_BENCH is not set");
	va_start(ap, buflen);
	while (i < 31 && (args[i] = va_arg(ap, char *)) != NULL)
		i++;
	va_end(ap);
	args[i] = NULL;
	ck_assert_int_eq(pipe(p), 0);
	if ((child = fork()) == 0) {
		dup2(p[1], STDOUT_FILENO);
		close(p[0]);
		execv(args[0], args);
		_exit(127);
	}
	close(p[1]);
	pfd.fd = p[0];
	pfd.events = POLLIN;
	end = h_now_ms() + (uint64_t)h_scale_ms(RUN_TIMEOUT_MS);
	while (h_now_ms() < end && poll(&pfd, 1, 100) >= 0) {
		if ((pfd.revents & (POLLIN | POLLHUP)) == 0)
			continue;
		if ((n = read(p[0], buf + len, buflen - 1 - len)) <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	close(p[0]);
	if (h_now_ms() >= end)
		kill(child, SIGKILL);
	waitpid(child, &status, 0);
	fprintf(stderr, "%s: %s", args[1], buf);
	return (WIFEXITED(status) && h_now_ms() < end ?
	    WEXITSTATUS(status) : -1);
}

/* Starts cb_bench sink-tcp on port in the background; its PID. */
static pid_t
bench_bg(const char *mode, const char *p)
{
	pid_t	child;

	if ((child = fork()) == 0) {
		execl(getenv("CB_BENCH"), "cb_bench", mode, "--port", p,
		    "--duration", secs(5), (char *)NULL);
		_exit(127);
	}
	ck_assert_int_ne(child, -1);
	return (child);
}

/* A TCP and UDP port nobody uses on 127.0.0.1 at the moment. */
static int
free_port(void)
{
	struct sockaddr_in	sin;
	int			fd, p;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_ne(fd = socket(AF_INET, SOCK_STREAM, 0), -1);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	p = cb_local_port(fd);
	close(fd);
	return (p);
}

/* A --duration of s seconds, stretched under a wrapper such as valgrind. */
static const char *
secs(int s)
{
	static char	buf[4][16];
	static int	next;

	next = (next + 1) % 4;
	snprintf(buf[next], sizeof(buf[next]), "%d", h_scale_ms(s * 1000) /
	    1000);
	return (buf[next]);
}

/* A daemon, and its ports and PID as cb_bench arguments. */
static void
start(struct h_daemon *dd)
{
	ck_assert_int_eq(h_daemon_start(dd, (const char *)NULL), 0);
	snprintf(port, sizeof(port), "%d", dd->port);
	snprintf(admin, sizeof(admin), "%d", dd->admin_port);
	snprintf(pid, sizeof(pid), "%ld", (long)dd->pid);
}

/* The run exited rc and its result line holds every word of want. */
static void
expect(int rc, const char *mode, const char *want)
{
	char	 buf[256], *w, *save;

	ck_assert_int_eq(rc, 0);
	ck_assert_msg(strncmp(out, mode, strlen(mode)) == 0,
	    "no result line for %s: %s", mode, out);
	snprintf(buf, sizeof(buf), "%s", want);
	for (w = strtok_r(buf, " ", &save); w != NULL;
	    w = strtok_r(NULL, " ", &save))
		ck_assert_msg(strstr(out, w) != NULL, "%s not in %s", w, out);
}

START_TEST(test_udp)
{
	start(&d);
	expect(bench(out, sizeof(out), "udp", "--port", port, "--admin-port",
	    admin, "--count", "100", "--sockets", "4", "--duration", secs(2),
	    (char *)NULL), "mode=udp target=daemon", "sent=100 taken=100");
	ck_assert_int_eq(h_daemon_stop(&d), 0);
}
END_TEST

START_TEST(test_udp_sink)
{
	char	p[16];

	snprintf(p, sizeof(p), "%d", free_port());
	expect(bench(out, sizeof(out), "udp", "--sink", "--port", p,
	    "--count", "100", "--sockets", "4", "--duration", "2",
	    (char *)NULL), "mode=udp target=sink", "sent=100 taken=100");
}
END_TEST

START_TEST(test_pairs)
{
	start(&d);
	expect(bench(out, sizeof(out), "pairs", "--port", port,
	    "--admin-port", admin, "--count", "10", "--inflight", "2",
	    "--duration", secs(3), (char *)NULL), "mode=pairs",
	    "ok=10 bad=0 daemon_matches=10");
	expect(bench(out, sizeof(out), "clientserver", "--port", port,
	    "--admin-port", admin, "--count", "10", "--inflight", "2",
	    "--servers", "2", "--duration", secs(3), (char *)NULL),
	    "mode=clientserver", "ok=10 bad=0 daemon_matches=10");
	ck_assert_int_eq(h_daemon_stop(&d), 0);
}
END_TEST

/* Whether something accepts connections on 127.0.0.1:*(int *)arg. */
static int
listening(void *arg)
{
	int	fd = h_tcp_connect(NULL, "127.0.0.1", *(int *)arg, 100);

	if (fd == -1)
		return (0);
	close(fd);
	return (1);
}

START_TEST(test_exchange)
{
	char	p[16];
	pid_t	sink;
	int	sink_port = free_port();

	snprintf(p, sizeof(p), "%d", sink_port);
	sink = bench_bg("sink-tcp", p);
	ck_assert_int_eq(h_poll_until(listening, &sink_port, H_TIMEOUT_MS), 1);
	expect(bench(out, sizeof(out), "exchange", "--port", p,
	    "--admin-port", "0", "--count", "10", "--inflight", "2",
	    "--duration", "3", (char *)NULL), "mode=exchange", "ok=10 bad=0");
	kill(sink, SIGTERM);
	waitpid(sink, NULL, 0);
}
END_TEST

START_TEST(test_closed_loop)
{
	start(&d);
	expect(bench(out, sizeof(out), "ack", "--port", port, "--admin-port",
	    admin, "--count", "50", "--sockets", "2", "--window", "4",
	    "--duration", secs(3), (char *)NULL), "mode=ack", "invalid=0");
	/* The daemon ignores STUN: no answer may be counted, and it ends. */
	ck_assert_int_eq(bench(out, sizeof(out), "stun", "--port", port,
	    "--count", "50", "--sockets", "2", "--window", "4",
	    "--duration", "1", (char *)NULL), 1);
	ck_assert_ptr_nonnull(strstr(out, "answers=0 "));
	ck_assert_int_eq(h_daemon_stop(&d), 0);
}
END_TEST

START_TEST(test_fill)
{
	start(&d);
	expect(bench(out, sizeof(out), "fill-leases", "1000", "--port", port,
	    "--admin-port", admin, "--pid", pid, "--duration", secs(5),
	    (char *)NULL), "mode=fill-leases", "leases=1000");
	expect(bench(out, sizeof(out), "fill-sessions", "50", "--port", port,
	    "--admin-port", admin, "--pid", pid, "--duration", secs(5),
	    (char *)NULL), "mode=fill-sessions", "waiting=50");
	ck_assert_int_eq(h_daemon_stop(&d), 0);
}
END_TEST

START_TEST(test_stall)
{
	start(&d);
	expect(bench(out, sizeof(out), "fill-leases", "500", "--port", port,
	    "--admin-port", admin, "--pid", pid, "--duration", secs(5),
	    (char *)NULL), "mode=fill-leases", "leases=500");
	/*
	 * A listing of several chunks, and an offset that skips most; the
	 * run fails unless both phases had answers and a page came whole.
	 */
	expect(bench(out, sizeof(out), "stall", "--port", port,
	    "--admin-port", admin, "--path", "/leases?limit=400",
	    "--count", "100", "--duration", secs(2), (char *)NULL),
	    "mode=stall", "invalid=0 http_failed=0");
	expect(bench(out, sizeof(out), "stall", "--port", port,
	    "--admin-port", admin, "--path", "/leases?offset=450&limit=10",
	    "--count", "100", "--duration", secs(2), (char *)NULL),
	    "mode=stall", "invalid=0 http_failed=0");
	ck_assert_int_eq(h_daemon_stop(&d), 0);
}
END_TEST

/* One test case: every mode, tiny. */
static Suite *
bench_suite(void)
{
	Suite	*s = suite_create("bench");
	TCase	*tc = tcase_create("smoke");

	tcase_set_timeout(tc, h_scale_ms(TEST_TIMEOUT_MS) / 1000.0);
	tcase_add_test(tc, test_udp);
	tcase_add_test(tc, test_udp_sink);
	tcase_add_test(tc, test_pairs);
	tcase_add_test(tc, test_exchange);
	tcase_add_test(tc, test_closed_loop);
	tcase_add_test(tc, test_fill);
	tcase_add_test(tc, test_stall);
	suite_add_tcase(s, tc);
	return (s);
}

/* Runs the suite; fails if any test did. */
int
main(void)
{
	return (suite_run(bench_suite()));
}
