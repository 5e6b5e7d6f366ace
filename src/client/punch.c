/*
 * containment_breach_punch: punch a UDP hole through the rendezvous
 * daemon with libcontainment_breach, print what was learned, optionally
 * exchange a message or chat through the hole.
 *
 * Output on stdout, one fact per line, stable and parseable:
 *   public IP:PORT                  our public endpoint (from the Ack)
 *   partner IP:PORT                 the partner's public endpoint
 *   partner-local IP:PORT           its LAN endpoint, if the daemon gave one
 *   punched IP:PORT via public|local
 *   received TEXT                   a message from the partner
 *   failed IP:PORT REASON           Server mode: one client could not be
 *                                   punched (not fatal)
 * On failure, one line "error: REASON" on stderr and exit status 1; a
 * usage error exits 2.
 *
 * Messages travel as "CBM1 <seq> <text>" and are acknowledged with
 * "CBM1ACK <seq>"; --send repeats its message every 200 ms until it is
 * acknowledged.
 */
#include "autoconf.h"

#include <sys/socket.h>

#include <errno.h>
#include <time.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "containment_breach.h"

#define RESEND_MS	200
#define LINGER_MS	500	/* keep answering probes before exiting */
#define WAIT_PEER_MS	1000	/* after our message got through */
#define MAX_PEERS	64
#define MSG_MAX		1200

/* A partner punched: where, and how the message exchange stands. */
struct peer {
	struct sockaddr_storage	 addr;
	socklen_t		 addrlen;
	int			 acked;		/* our message got through */
	int			 heard;		/* its message arrived */
	long			 last_seq;	/* of its last message shown */
	unsigned int		 waited_ms;	/* since acked, not heard */
	uint64_t		 give_up_ms;	/* --send: ack deadline */
};

struct punch {
	struct event_base	*base;
	struct cbc		*c;
	struct cbc_options	 opt;
	const char		*send_text;
	int			 chat;
	int			 quiet;
	long			 count;		/* Server: stop after these */
	long			 done;		/* partners finished */
	int			 exit_code;
	int			 finishing;
	long			 seq;
	struct peer		 peers[MAX_PEERS];
	int			 npeers;
	struct event		*tick;
	struct event		*stdin_ev;
	struct evbuffer		*stdin_buf;
	int			 stdin_started;
	struct event		*linger;
	struct event		*sigint;
	struct event		*sigterm;
};

static void	usage(void) __attribute__((noreturn));
static void	say(struct punch *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static void	on_event(void *, const struct cbc_event *);
static void	on_data(struct punch *, const struct cbc_event *);
static struct peer *peer_of(struct punch *, const struct sockaddr *,
		    socklen_t, int);
static void	send_msg(struct punch *, struct peer *, long, const char *);
static void	tick_cb(evutil_socket_t, short, void *);
static void	stdin_cb(evutil_socket_t, short, void *);
static void	stdin_start(struct punch *);
static void	quiet_log(int, const char *);
static void	linger_cb(evutil_socket_t, short, void *);
static void	signal_cb(evutil_socket_t, short, void *);
static void	check_finished(struct punch *);
static void	check_give_up(struct punch *, struct peer *);
static uint64_t	now_ms(void);
static void	finish(struct punch *, int);
static void	parse_args(struct punch *, int, char **);

static void
usage(void)
{
	fprintf(stderr,
	    "usage: containment_breach_punch peer|client --server HOST:PORT "
	    "--local-peer-port N\n"
	    "           --remote IP:PEERPORT [options]\n"
	    "       containment_breach_punch server --server HOST:PORT "
	    "--local-peer-port N [options]\n"
	    "options: --bind IP[:PORT] --timeout SECONDS --send TEXT --chat "
	    "--count N\n"
	    "         --no-local --token TOKEN --quiet\n");
	exit(2);
}

/* A line on stdout, unless quiet and not essential. */
static void
say(struct punch *pu, int essential, const char *fmt, ...)
{
	va_list	ap;

	if (pu->quiet && !essential)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void
on_event(void *arg, const struct cbc_event *ev)
{
	struct punch	*pu = arg;
	struct peer	*p;

	switch (ev->type) {
	case CBC_EV_PUBLIC:
		say(pu, 0, "public %s", ev->endpoint);
		break;
	case CBC_EV_PARTNER:
		say(pu, 0, "partner %s", ev->endpoint);
		if (ev->local_endpoint != NULL)
			say(pu, 0, "partner-local %s", ev->local_endpoint);
		break;
	case CBC_EV_PUNCHED:
		say(pu, 0, "punched %s via %s", ev->endpoint, ev->via);
		if ((p = peer_of(pu, ev->addr, ev->addrlen, 1)) == NULL)
			break;
		if (pu->send_text != NULL) {
			p->give_up_ms = now_ms() + (pu->opt.timeout_ms != 0 ?
			    pu->opt.timeout_ms : 30000);
			send_msg(pu, p, 1, pu->send_text);
		} else
			p->acked = 1;
		if (pu->chat)
			stdin_start(pu);
		check_finished(pu);
		break;
	case CBC_EV_DATA:
		on_data(pu, ev);
		break;
	case CBC_EV_FAILED:
		say(pu, 0, "failed %s %s", ev->endpoint, ev->reason);
		break;
	case CBC_EV_ERROR:
		fprintf(stderr, "error: %s\n", ev->reason);
		finish(pu, 1);
		break;
	}
}

/* The partner at addr, added if new and add is set. */
static struct peer *
peer_of(struct punch *pu, const struct sockaddr *sa, socklen_t len, int add)
{
	struct peer	*p;
	int		 i;

	for (i = 0; i < pu->npeers; i++) {
		p = &pu->peers[i];
		if (p->addrlen == len && memcmp(&p->addr, sa, len) == 0)
			return (p);
	}
	if (!add || pu->npeers == MAX_PEERS)
		return (NULL);
	p = &pu->peers[pu->npeers++];
	memset(p, 0, sizeof(*p));
	memcpy(&p->addr, sa, len);
	p->addrlen = len;
	return (p);
}

static void
send_msg(struct punch *pu, struct peer *p, long seq, const char *text)
{
	char	buf[MSG_MAX + 32];
	int	n;

	n = snprintf(buf, sizeof(buf), "CBM1 %ld %s", seq, text);
	if (n > 0 && (size_t)n < sizeof(buf))
		cbc_send_to(pu->c, buf, (size_t)n,
		    (struct sockaddr *)&p->addr, p->addrlen);
}

/* A message or an acknowledgement from a partner. */
static void
on_data(struct punch *pu, const struct cbc_event *ev)
{
	struct peer	*p;
	char		 buf[MSG_MAX + 32], reply[32], *text;
	long		 seq;

	/* A message may beat our own "punched": its sender is the partner. */
	if ((p = peer_of(pu, ev->addr, ev->addrlen, 1)) == NULL ||
	    ev->len >= sizeof(buf))
		return;
	memcpy(buf, ev->data, ev->len);
	buf[ev->len] = '\0';
	if (strncmp(buf, "CBM1ACK ", 8) == 0) {
		if (strtol(buf + 8, NULL, 10) == 1 && !p->acked) {
			p->acked = 1;
			p->waited_ms = 0;
		}
	} else if (strncmp(buf, "CBM1 ", 5) == 0) {
		seq = strtol(buf + 5, &text, 10);
		if (*text != ' ')
			return;
		snprintf(reply, sizeof(reply), "CBM1ACK %ld", seq);
		cbc_send_to(pu->c, reply, strlen(reply), ev->addr,
		    ev->addrlen);
		if (seq != p->last_seq) {
			p->last_seq = seq;
			p->heard = 1;
			say(pu, 1, "received %s", text + 1);
		}
	}
	check_finished(pu);
}

/* Resends unacknowledged messages; notices a quiet partner. */
static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct punch	*pu = arg;
	struct peer	*p;
	int		 i;

	(void)fd;
	(void)what;
	for (i = 0; i < pu->npeers; i++) {
		p = &pu->peers[i];
		if (pu->send_text != NULL && !p->acked) {
			send_msg(pu, p, 1, pu->send_text);
			check_give_up(pu, p);
		}
		if (p->acked && !p->heard)
			p->waited_ms += RESEND_MS;
	}
	check_finished(pu);
}

/* Chat: each line of stdin goes to every partner. */
static void
stdin_cb(evutil_socket_t fd, short what, void *arg)
{
	struct punch	*pu = arg;
	char		*line;
	size_t		 len;
	int		 n, i;

	(void)what;
	n = evbuffer_read(pu->stdin_buf, fd, MSG_MAX);
	while ((line = evbuffer_readln(pu->stdin_buf, &len,
	    EVBUFFER_EOL_LF)) != NULL) {
		pu->seq++;
		for (i = 0; i < pu->npeers; i++)
			send_msg(pu, &pu->peers[i], pu->seq + 1, line);
		free(line);
	}
	if (n <= 0) {
		if (n == 0 && evbuffer_get_length(pu->stdin_buf) > 0) {
			/* A last line without its newline. */
			evbuffer_add(pu->stdin_buf, "\n", 1);
			stdin_cb(fd, what, arg);
			return;
		}
		event_del(pu->stdin_ev);
		finish(pu, 0);
	}
}

/*
 * Starts reading stdin once there is a partner.  A regular file or
 * /dev/null cannot be polled: it is read through at once.
 */
static void
stdin_start(struct punch *pu)
{
	if (pu->stdin_ev == NULL || pu->stdin_started)
		return;
	pu->stdin_started = 1;
	if (event_add(pu->stdin_ev, NULL) == 0)
		return;
	while (!pu->finishing)
		stdin_cb(STDIN_FILENO, EV_READ, pu);
}

/*
 * A partner is finished when our message got through (if any) and its
 * message arrived or it stayed silent WAIT_PEER_MS after that.
 */
static void
check_finished(struct punch *pu)
{
	struct peer	*p;
	long		 done = 0;
	int		 i;

	if (pu->chat)
		return;
	for (i = 0; i < pu->npeers; i++) {
		p = &pu->peers[i];
		if (p->acked && (p->heard || p->waited_ms >= WAIT_PEER_MS))
			done++;
	}
	if (pu->opt.mode == CBC_SERVER ? (pu->count > 0 && done >= pu->count) :
	    done > 0)
		finish(pu, 0);
}

/* libevent's own warnings would break the one-line error contract. */
static void
quiet_log(int severity, const char *msg)
{
	(void)severity;
	(void)msg;
}

static uint64_t
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

/*
 * --send: the partner never acknowledged our message.  Fatal in Peer and
 * Client mode; in Server mode that client is given up and the rest go on.
 */
static void
check_give_up(struct punch *pu, struct peer *p)
{
	char	ep[64];

	if (now_ms() < p->give_up_ms)
		return;
	if (pu->opt.mode != CBC_SERVER) {
		fprintf(stderr, "error: no acknowledgement of the message "
		    "from peer within %u s\n", (pu->opt.timeout_ms != 0 ?
		    pu->opt.timeout_ms : 30000) / 1000);
		finish(pu, 1);
		return;
	}
	say(pu, 0, "failed %s message not acknowledged",
	    cbc_endpoint_text((struct sockaddr *)&p->addr, ep, sizeof(ep)));
	p->acked = 1;
	p->heard = 1;
}

static void
linger_cb(evutil_socket_t fd, short what, void *arg)
{
	struct punch	*pu = arg;

	(void)fd;
	(void)what;
	event_base_loopbreak(pu->base);
}

/* Ends the run: at once on error, after a short linger on success. */
static void
finish(struct punch *pu, int code)
{
	struct timeval	tv = { 0, LINGER_MS * 1000 };

	if (pu->finishing)
		return;
	pu->finishing = 1;
	pu->exit_code = code;
	if (code != 0) {
		event_base_loopbreak(pu->base);
		return;
	}
	evtimer_add(pu->linger, &tv);
}

static void
signal_cb(evutil_socket_t fd, short what, void *arg)
{
	struct punch	*pu = arg;

	(void)fd;
	(void)what;
	pu->exit_code = 0;
	event_base_loopbreak(pu->base);
}

/* A whole number in [min, max], or a usage error. */
static long
number(const char *what, const char *s, long min, long max)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < min || v > max) {
		fprintf(stderr, "containment_breach_punch: bad %s \"%s\"\n",
		    what, s);
		usage();
	}
	return (v);
}

/* Splits --remote IP:PEERPORT (IPv6 as [V6]:PEERPORT). */
static void
parse_remote(struct punch *pu, char *s)
{
	char	*colon = strrchr(s, ':');

	if (colon == NULL)
		usage();
	*colon = '\0';
	pu->opt.remote_peer_port = (uint32_t)number("remote PeerPort",
	    colon + 1, 0, INT_MAX);
	if (s[0] == '[' && colon > s + 1 && colon[-1] == ']') {
		colon[-1] = '\0';
		s++;
	}
	pu->opt.remote_ip = s;
}

static void
parse_args(struct punch *pu, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "local-peer-port", required_argument, NULL, 'l' },
		{ "remote", required_argument, NULL, 'r' },
		{ "bind", required_argument, NULL, 'b' },
		{ "timeout", required_argument, NULL, 't' },
		{ "send", required_argument, NULL, 'S' },
		{ "count", required_argument, NULL, 'n' },
		{ "chat", no_argument, NULL, 'c' },
		{ "no-local", no_argument, NULL, 'L' },
		{ "token", required_argument, NULL, 'T' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int	ch, have_lpp = 0;

	if (argc < 2)
		usage();
	if (strcmp(argv[1], "peer") == 0)
		pu->opt.mode = CBC_PEER;
	else if (strcmp(argv[1], "client") == 0)
		pu->opt.mode = CBC_CLIENT;
	else if (strcmp(argv[1], "server") == 0)
		pu->opt.mode = CBC_SERVER;
	else
		usage();
	optind = 2;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 's': pu->opt.server = optarg; break;
		case 'l':
			pu->opt.local_peer_port = (uint32_t)number(
			    "local PeerPort", optarg, 0, INT_MAX);
			have_lpp = 1;
			break;
		case 'r': parse_remote(pu, optarg); break;
		case 'b': pu->opt.bind = optarg; break;
		case 't':
			pu->opt.timeout_ms = (unsigned int)number("timeout",
			    optarg, 1, 86400) * 1000;
			break;
		case 'S': pu->send_text = optarg; break;
		case 'n':
			pu->count = number("count", optarg, 1, INT_MAX);
			break;
		case 'c': pu->chat = 1; break;
		case 'L': pu->opt.no_local = 1; break;
		case 'T': pu->opt.token = optarg; break;
		case 'q': pu->quiet = 1; break;
		default: usage();
		}
	}
	if (optind != argc || pu->opt.server == NULL || !have_lpp ||
	    (pu->opt.mode != CBC_SERVER) != (pu->opt.remote_ip != NULL) ||
	    (pu->send_text != NULL && strlen(pu->send_text) > MSG_MAX - 1))
		usage();
}

int
main(int argc, char **argv)
{
	struct punch	 pu;
	struct timeval	 tv = { 0, RESEND_MS * 1000 };
	sigset_t	 block;
	char		 err[256];

	memset(&pu, 0, sizeof(pu));
	parse_args(&pu, argc, argv);
	event_set_log_callback(quiet_log);
	signal(SIGPIPE, SIG_IGN);
	if ((pu.base = event_base_new()) == NULL) {
		fprintf(stderr, "error: cannot create an event base\n");
		return (1);
	}
	pu.c = cbc_new(pu.base, &pu.opt, on_event, &pu, err, sizeof(err));
	if (pu.c == NULL) {
		fprintf(stderr, "error: %s\n", err);
		event_base_free(pu.base);
		return (1);
	}
	pu.tick = event_new(pu.base, -1, EV_PERSIST, tick_cb, &pu);
	pu.linger = evtimer_new(pu.base, linger_cb, &pu);
	pu.sigint = evsignal_new(pu.base, SIGINT, signal_cb, &pu);
	pu.sigterm = evsignal_new(pu.base, SIGTERM, signal_cb, &pu);
	if (pu.chat) {
		pu.stdin_ev = event_new(pu.base, STDIN_FILENO,
		    EV_READ | EV_PERSIST, stdin_cb, &pu);
		pu.stdin_buf = evbuffer_new();
	}
	event_add(pu.tick, &tv);
	event_add(pu.sigint, NULL);
	event_add(pu.sigterm, NULL);
	if (cbc_start(pu.c) == -1) {
		fprintf(stderr, "error: cannot start\n");
		pu.exit_code = 1;
	} else
		event_base_dispatch(pu.base);
	/*
	 * A second SIGTERM (timeout(1) signals the child and then its whole
	 * process group) must not kill us once freeing the signal events has
	 * restored the default action: we are exiting anyway.
	 */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, NULL);
	cbc_free(pu.c);
	event_free(pu.tick);
	event_free(pu.linger);
	event_free(pu.sigint);
	event_free(pu.sigterm);
	if (pu.stdin_ev != NULL)
		event_free(pu.stdin_ev);
	if (pu.stdin_buf != NULL)
		evbuffer_free(pu.stdin_buf);
	event_base_free(pu.base);
	return (pu.exit_code);
}
