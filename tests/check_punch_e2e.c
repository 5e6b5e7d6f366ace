/*
 * The client library and containment_breach_punch end to end on loopback:
 * the real daemon, real CLI processes (127.0.0.2, 127.0.0.3, ... as their
 * "public IPs"), and the library's blocking API in this process.  The
 * CLI's output lines are its interface, so they are checked exactly,
 * ephemeral ports aside (those are checked against each other).
 */
#include "autoconf.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/containment_breach.h"
#include "rdv.h"
#include "suite.h"
#include "util.h"

#define CLI_MAX_ARGS	24

static struct h_daemon	d;

/* A CLI process and its captured output. */
struct cli {
	pid_t	 pid;
	int	 status;		/* exit code, or -1 */
	char	 out_path[64];
	char	 err_path[64];
	char	 out[4096];
	char	 err[1024];
};

static void
start(const char *flag)
{
	ck_assert_int_eq(h_daemon_start(&d, flag, (const char *)NULL), 0);
}

static void
stop(void)
{
	ck_assert_int_eq(h_daemon_stop(&d), 0);
}

/* The CLI sits next to the daemon: src/client/containment_breach_punch. */
static const char *
cli_path(void)
{
	static char	 path[1024];
	const char	*bin = getenv("CB_BINARY");
	const char	*slash = strrchr(bin, '/');

	snprintf(path, sizeof(path), "%.*s/client/containment_breach_punch",
	    (int)(slash - bin), bin);
	return (path);
}

static const char	*cli_stdin = "/dev/null";

/* Runs the CLI: mode, then --server for the daemon, then the rest. */
static void
cli_start(struct cli *c, const char *mode, ...)
{
	const char	*argv[CLI_MAX_ARGS + 1], *arg;
	char		 server[32];
	va_list		 ap;
	int		 argc = 0, fd;

	memset(c, 0, sizeof(*c));
	snprintf(server, sizeof(server), "127.0.0.1:%d", d.port);
	argv[argc++] = cli_path();
	argv[argc++] = mode;
	argv[argc++] = "--server";
	argv[argc++] = server;
	va_start(ap, mode);
	while ((arg = va_arg(ap, const char *)) != NULL &&
	    argc < CLI_MAX_ARGS)
		argv[argc++] = arg;
	va_end(ap);
	argv[argc] = NULL;
	snprintf(c->out_path, sizeof(c->out_path), "/tmp/cbp-out.XXXXXX");
	snprintf(c->err_path, sizeof(c->err_path), "/tmp/cbp-err.XXXXXX");
	ck_assert_int_ne(fd = mkstemp(c->out_path), -1);
	close(fd);
	ck_assert_int_ne(fd = mkstemp(c->err_path), -1);
	close(fd);
	ck_assert_int_ne(c->pid = fork(), -1);
	if (c->pid == 0) {
		if (freopen(c->out_path, "w", stdout) == NULL ||
		    freopen(c->err_path, "w", stderr) == NULL ||
		    freopen(cli_stdin, "r", stdin) == NULL)
			_exit(126);
		execv(argv[0], (char *const *)(void *)argv);
		_exit(127);
	}
}

static void
slurp(const char *path, char *buf, size_t size)
{
	FILE	*f = fopen(path, "r");
	size_t	 n = 0;

	if (f != NULL) {
		n = fread(buf, 1, size - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	unlink(path);
}

/* Waits for the CLI to exit within ms; kills it if it does not. */
static void
cli_wait(struct cli *c, int ms)
{
	int	st;

	c->status = -1;
	switch (h_reap(c->pid, h_now_ms() + (uint64_t)h_scale_ms(ms), &st)) {
	case 1:
		if (WIFEXITED(st))
			c->status = WEXITSTATUS(st);
		break;
	case 0:
		kill(c->pid, SIGKILL);
		waitpid(c->pid, &st, 0);
		break;
	}
	slurp(c->out_path, c->out, sizeof(c->out));
	slurp(c->err_path, c->err, sizeof(c->err));
}

/* The value after "key " on the line starting with it, or NULL. */
static char *
field(const char *out, const char *key, char *buf, size_t size)
{
	const char	*p = out;
	size_t		 klen = strlen(key), n;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, key, klen) == 0 && p[klen] == ' ') {
			n = strcspn(p + klen + 1, "\n");
			snprintf(buf, size, "%.*s", (int)n, p + klen + 1);
			return (buf);
		}
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	}
	return (NULL);
}

/* Checks one side of a punch against the other's public endpoint. */
static void
check_punched(const struct cli *self, const struct cli *other,
    const char *ip)
{
	char	mine[64], theirs[64], partner[64], line[96], *want;

	ck_assert_msg(self->status == 0, "exit %d, stderr %s, stdout %s",
	    self->status, self->err, self->out);
	ck_assert_str_eq(self->err, "");
	ck_assert_ptr_nonnull(field(self->out, "public", mine, sizeof(mine)));
	ck_assert_msg(strncmp(mine, ip, strlen(ip)) == 0 &&
	    mine[strlen(ip)] == ':', "public %s", mine);
	ck_assert_ptr_nonnull(field(other->out, "public", theirs,
	    sizeof(theirs)));
	ck_assert_ptr_nonnull(field(self->out, "partner", partner,
	    sizeof(partner)));
	ck_assert_str_eq(partner, theirs);
	snprintf(line, sizeof(line), "punched %s via public\n", theirs);
	want = strstr(self->out, line);
	ck_assert_msg(want != NULL, "no \"%s\" in %s", line, self->out);
}

START_TEST(test_peer_mode_send)
{
	struct cli	a, b;

	start(NULL);
	cli_start(&a, "peer", "--local-peer-port", "1", "--remote",
	    "127.0.0.3:2", "--bind", "127.0.0.2", "--send", "hello from a",
	    "--timeout", "10", (char *)NULL);
	cli_start(&b, "peer", "--local-peer-port", "2", "--remote",
	    "127.0.0.2:1", "--bind", "127.0.0.3", "--send", "hello from b",
	    "--timeout", "10", (char *)NULL);
	cli_wait(&a, 15000);
	cli_wait(&b, 15000);
	check_punched(&a, &b, "127.0.0.2");
	check_punched(&b, &a, "127.0.0.3");
	ck_assert_ptr_nonnull(strstr(a.out, "\nreceived hello from b\n"));
	ck_assert_ptr_nonnull(strstr(b.out, "\nreceived hello from a\n"));
	/* Both sent their LAN endpoint, so both were told the other's. */
	ck_assert_ptr_nonnull(strstr(a.out, "\npartner-local 127.0.0.3:"));
	ck_assert_int_eq(h_stat(&d, "matches.peer"), 1);
	ck_assert_int_ge(h_stat(&d, "udp_acks"), 2);
	stop();
}
END_TEST

/* --bind with a port, --no-local, --quiet: only what was received. */
START_TEST(test_peer_mode_options)
{
	struct cli	a, b;
	char		port[16];
	int		fd;

	start(NULL);
	fd = h_udp_socket("127.0.0.2", 0);
	snprintf(port, sizeof(port), "127.0.0.2:%d", cb_local_port(fd));
	close(fd);
	cli_start(&a, "peer", "--local-peer-port", "1", "--remote",
	    "127.0.0.3:2", "--bind", port, "--no-local", "--quiet", "--send",
	    "x", (char *)NULL);
	cli_start(&b, "peer", "--local-peer-port", "2", "--remote",
	    "127.0.0.2:1", "--bind", "127.0.0.3", "--send", "y",
	    (char *)NULL);
	cli_wait(&a, 15000);
	cli_wait(&b, 15000);
	ck_assert_int_eq(a.status, 0);
	ck_assert_int_eq(b.status, 0);
	ck_assert_str_eq(a.out, "received y\n");
	ck_assert_ptr_nonnull(strstr(b.out, port));
	ck_assert_ptr_null(strstr(b.out, "partner-local"));
	stop();
}
END_TEST

/*
 * --token: the punch works as before, and the lease it made moves only
 * for its token; a token the daemon would refuse is refused up front.
 */
START_TEST(test_token_option)
{
	struct cli	a, b, c;
	int		fd;

	start(NULL);
	cli_start(&a, "peer", "--local-peer-port", "1", "--remote",
	    "127.0.0.3:2", "--bind", "127.0.0.2", "--token",
	    "0123456789abcdef0123", "--send", "x", (char *)NULL);
	cli_start(&b, "peer", "--local-peer-port", "2", "--remote",
	    "127.0.0.2:1", "--bind", "127.0.0.3", "--send", "y",
	    (char *)NULL);
	cli_wait(&a, 15000);
	cli_wait(&b, 15000);
	ck_assert_int_eq(a.status, 0);
	ck_assert_int_eq(b.status, 0);
	ck_assert_ptr_nonnull(strstr(a.out, "\nreceived y\n"));
	ck_assert_ptr_nonnull(strstr(b.out, "\nreceived x\n"));
	ck_assert_int_eq(h_stat(&d, "udp_token_mismatch"), 0);
	ck_assert_int_ne(fd = h_udp_socket("127.0.0.2", 0), -1);
	ck_assert_int_eq(h_udp_send(fd, "127.0.0.1", d.port,
	    "{\"PeerPort\":1}", 14), 0);
	close(fd);
	rdv_wait_stat(&d, "udp_token_mismatch", 1);
	cli_start(&c, "server", "--local-peer-port", "3", "--token", "short",
	    (char *)NULL);
	cli_wait(&c, 15000);
	ck_assert_int_ne(c.status, 0);
	ck_assert_ptr_nonnull(strstr(c.err, "token"));
	stop();
}
END_TEST

/* --chat: lines of stdin to the partner; the end of input ends it. */
START_TEST(test_chat)
{
	struct cli	a, b;
	char		path[] = "/tmp/cbp-chat.XXXXXX";
	int		fd;

	start(NULL);
	ck_assert_int_ne(fd = mkstemp(path), -1);
	ck_assert_int_eq(write(fd, "hello chat\n", 11), 11);
	close(fd);
	cli_stdin = path;
	cli_start(&a, "peer", "--local-peer-port", "1", "--remote",
	    "127.0.0.3:2", "--bind", "127.0.0.2", "--chat", (char *)NULL);
	cli_stdin = "/dev/null";
	cli_start(&b, "peer", "--local-peer-port", "2", "--remote",
	    "127.0.0.2:1", "--bind", "127.0.0.3", (char *)NULL);
	cli_wait(&a, 15000);
	cli_wait(&b, 15000);
	unlink(path);
	check_punched(&a, &b, "127.0.0.2");
	check_punched(&b, &a, "127.0.0.3");
	ck_assert_ptr_nonnull(strstr(b.out, "\nreceived hello chat\n"));
	stop();
}
END_TEST

START_TEST(test_server_mode_two_clients)
{
	struct cli	s, c1, c2;
	char		line[96], ep[64];

	start(NULL);
	cli_start(&s, "server", "--local-peer-port", "7", "--bind",
	    "127.0.0.9", "--count", "2", "--send", "welcome", (char *)NULL);
	ck_assert_int_eq(h_wait_stat(&d, "servers", 1, H_TIMEOUT_MS), 0);
	cli_start(&c1, "client", "--local-peer-port", "1", "--remote",
	    "127.0.0.9:7", "--bind", "127.0.0.2", "--send", "one",
	    (char *)NULL);
	cli_wait(&c1, 15000);
	cli_start(&c2, "client", "--local-peer-port", "1", "--remote",
	    "127.0.0.9:7", "--bind", "127.0.0.3", (char *)NULL);
	cli_wait(&c2, 15000);
	cli_wait(&s, 15000);
	ck_assert_msg(s.status == 0, "server exit %d: %s", s.status, s.err);
	check_punched(&c1, &s, "127.0.0.2");
	check_punched(&c2, &s, "127.0.0.3");
	ck_assert_ptr_nonnull(strstr(c1.out, "\nreceived welcome\n"));
	ck_assert_ptr_nonnull(strstr(c2.out, "\nreceived welcome\n"));
	ck_assert_ptr_nonnull(strstr(s.out, "\nreceived one\n"));
	ck_assert_ptr_nonnull(field(c2.out, "public", ep, sizeof(ep)));
	snprintf(line, sizeof(line), "\npunched %s via public\n", ep);
	ck_assert_ptr_nonnull(strstr(s.out, line));
	ck_assert_int_eq(h_stat(&d, "matches.client"), 2);
	stop();
}
END_TEST

START_TEST(test_rendezvous_error)
{
	struct cli	c;

	start(NULL);
	cli_start(&c, "client", "--local-peer-port", "1", "--remote",
	    "127.0.0.9:7", "--bind", "127.0.0.2", (char *)NULL);
	cli_wait(&c, 10000);
	ck_assert_int_eq(c.status, 1);
	ck_assert_str_eq(c.err, "error: rendezvous error: no such server\n");
	stop();
}
END_TEST

START_TEST(test_partner_never_shows)
{
	struct cli	c;
	uint64_t	t0 = h_now_ms();

	start(NULL);
	cli_start(&c, "peer", "--local-peer-port", "1", "--remote",
	    "127.0.0.3:2", "--bind", "127.0.0.2", "--timeout", "1",
	    (char *)NULL);
	cli_wait(&c, 10000);
	ck_assert_int_eq(c.status, 1);
	ck_assert_str_eq(c.err, "error: no answer from rendezvous server "
	    "within 1 s (is the partner there?)\n");
	ck_assert_uint_ge(h_now_ms() - t0, 900);
	stop();
}
END_TEST

/* The partner matches at the daemon but never answers a probe. */
START_TEST(test_peer_silent_after_match)
{
	struct cli	c;
	struct rdv_peer	b;

	start(NULL);
	rdv_peer_init(&b, "127.0.0.3", 2);
	rdv_register(&b, &d);
	rdv_wait_lease(&b, &d);
	cli_start(&c, "peer", "--local-peer-port", "1", "--remote",
	    "127.0.0.3:2", "--bind", "127.0.0.2", "--timeout", "2",
	    (char *)NULL);
	rdv_request(&b, &d, "Peer", &(struct rdv_peer){ .ip = "127.0.0.2",
	    .peer_port = 1 });
	cli_wait(&c, 10000);
	ck_assert_int_eq(c.status, 1);
	ck_assert_str_eq(c.err, "error: no response from peer within 2 s\n");
	ck_assert_ptr_nonnull(strstr(c.out, "\npartner 127.0.0.3:"));
	ck_assert_int_eq(h_udp_pending(b.udp), 1);
	rdv_peer_close(&b);
	stop();
}
END_TEST

START_TEST(test_usage_errors)
{
	struct cli	c;

	start(NULL);
	cli_start(&c, "peer", "--local-peer-port", "1", (char *)NULL);
	cli_wait(&c, 5000);
	ck_assert_int_eq(c.status, 2);
	cli_start(&c, "server", "--local-peer-port", "x", (char *)NULL);
	cli_wait(&c, 5000);
	ck_assert_int_eq(c.status, 2);
	stop();
}
END_TEST

/* The blocking API in this process, against the CLI as the partner. */
START_TEST(test_blocking_api)
{
	struct cbc_options	 opt;
	struct cbc_result	 r;
	struct cbc		*c;
	struct cli		 b;
	char			 server[32], err[256], buf[64];
	ssize_t			 n;

	start(NULL);
	cli_start(&b, "peer", "--local-peer-port", "2", "--remote",
	    "127.0.0.2:1", "--bind", "127.0.0.3", "--send", "ping",
	    (char *)NULL);
	snprintf(server, sizeof(server), "127.0.0.1:%d", d.port);
	memset(&opt, 0, sizeof(opt));
	opt.mode = CBC_PEER;
	opt.server = server;
	opt.local_peer_port = 1;
	opt.remote_ip = "127.0.0.3";
	opt.remote_peer_port = 2;
	opt.bind = "127.0.0.2";
	opt.timeout_ms = (unsigned int)h_scale_ms(10000);
	c = cbc_connect(&opt, &r, err, sizeof(err));
	ck_assert_msg(c != NULL, "cbc_connect: %s", err);
	ck_assert_str_eq(r.via, "public");
	ck_assert_str_eq(r.punched_endpoint, r.partner_endpoint);
	ck_assert(strncmp(r.public_endpoint, "127.0.0.2:", 10) == 0);
	n = cbc_recv(c, buf, sizeof(buf) - 1, h_scale_ms(5000));
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	ck_assert_str_eq(buf, "CBM1 1 ping");
	ck_assert_int_eq(cbc_send(c, "CBM1ACK 1", 9), 9);
	ck_assert_int_eq(cbc_send(c, "CBM1 1 pong", 11), 11);
	cli_wait(&b, 10000);
	ck_assert_msg(b.status == 0, "partner exit %d: %s", b.status, b.err);
	ck_assert_ptr_nonnull(strstr(b.out, "\nreceived pong\n"));
	cbc_free(c);
	stop();
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("punch_e2e");
	TCase	*tc = tcase_create("punch");

	tcase_set_timeout(tc, h_scale_ms(60000) / 1000);
	tcase_add_test(tc, test_peer_mode_send);
	tcase_add_test(tc, test_peer_mode_options);
	tcase_add_test(tc, test_token_option);
	tcase_add_test(tc, test_chat);
	tcase_add_test(tc, test_server_mode_two_clients);
	tcase_add_test(tc, test_rendezvous_error);
	tcase_add_test(tc, test_partner_never_shows);
	tcase_add_test(tc, test_peer_silent_after_match);
	tcase_add_test(tc, test_usage_errors);
	tcase_add_test(tc, test_blocking_api);
	suite_add_tcase(s, tc);
	return (suite_run(s));
}
