/*
 * Soak: mixed traffic at a steady pace for CB_SOAK_SECONDS (skipped when
 * unset; CI runs a short one).  Valid Peer pairs, invalid datagrams,
 * invalid TCP requests and over-quota registrations interleave; every
 * pair must get its partner, the daemon's RSS must stay flat once warm,
 * and the log must hold no warning or error.
 */
#include "autoconf.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rdv.h"
#include "suite.h"

#define SOAK_PAIRS	20	/* pairs in flight per round */
#define SOAK_SAMPLES	64
#define SOAK_GREEDY	200	/* over-quota registrations per round */
#define SOAK_QUOTA	"-max_leases_per_ip=1000"

static struct h_daemon	d;

static long
daemon_rss_kb(void)
{
	char	path[64], line[256];
	long	kb = -1;
	FILE	*f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)d.pid);
	if ((f = fopen(path, "r")) == NULL)
		return (-1);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "VmRSS:", 6) == 0)
			kb = strtol(line + 6, NULL, 10);
	}
	fclose(f);
	return (kb);
}

/*
 * One greedy public IP registers SOAK_GREEDY new PeerPorts a round: far
 * more than -max_leases_per_ip lets it hold, so from the first seconds on
 * its registrations are dropped as over quota, beside the valid traffic.
 */
static void
soak_over_quota(int round)
{
	static int	fd = -1;
	char		reg[64];
	int		i, n;

	if (fd == -1 && (fd = h_udp_socket("127.0.9.2", 0)) == -1)
		ck_abort_msg("no greedy socket");
	for (i = 0; i < SOAK_GREEDY; i++) {
		n = snprintf(reg, sizeof(reg), "{\"PeerPort\":%d}",
		    round * SOAK_GREEDY + i);
		ck_assert_int_eq(h_udp_send(fd, "127.0.0.1", d.port, reg,
		    (size_t)n), 0);
	}
}

/* One round: SOAK_PAIRS pairs matched, with garbage in between. */
static void
soak_round(int round)
{
	static struct rdv_peer	a[SOAK_PAIRS], b[SOAK_PAIRS];
	static char		ip_a[32], ip_b[32];
	struct rdv_peer		junk;
	int			i;

	/*
	 * The pairs move over 50 pairs of IPs, round by round: from two IPs
	 * alone, a fast run would hold more leases per IP than the default
	 * -max_leases_per_ip allows.
	 */
	snprintf(ip_a, sizeof(ip_a), "127.0.7.%d", 2 + 2 * (round % 50));
	snprintf(ip_b, sizeof(ip_b), "127.0.7.%d", 3 + 2 * (round % 50));
	for (i = 0; i < SOAK_PAIRS; i++) {
		rdv_peer_init(&a[i], ip_a, round * SOAK_PAIRS + i);
		rdv_peer_init(&b[i], ip_b, round * SOAK_PAIRS + i);
		rdv_register(&a[i], &d);
		rdv_register(&b[i], &d);
		ck_assert_int_eq(h_udp_send(a[i].udp, "127.0.0.1", d.port,
		    "{\"PeerPort\":-1}", 15), 0);
		rdv_request(&a[i], &d, "Peer", &b[i]);
		rdv_request(&b[i], &d, "Peer", &a[i]);
	}
	soak_over_quota(round);
	rdv_peer_init(&junk, "127.0.8.4", 1);
	rdv_send(&junk, &d, "{\"LocalPeerPort\":[],\"ConnectionType\":1}");
	rdv_expect_error(&junk, "invalid request: ConnectionType must be a "
	    "string", H_TIMEOUT_MS);
	rdv_peer_close(&junk);
	for (i = 0; i < SOAK_PAIRS; i++) {
		rdv_expect_pair(&a[i], &b[i]);
		rdv_peer_close(&a[i]);
		rdv_peer_close(&b[i]);
	}
}

START_TEST(test_soak)
{
	const char	*env = getenv("CB_SOAK_SECONDS");
	long		 rss[SOAK_SAMPLES], warm, peak = 0;
	uint64_t	 t0, end, next_sample;
	int		 seconds = atoi(env), rounds = 0, n = 0, i;

	ck_assert_int_eq(h_daemon_start(&d, "-log_level=warn",
	    "-lease_timeout=2", "-udp_grace=2", SOAK_QUOTA, (char *)NULL), 0);
	t0 = h_now_ms();
	end = t0 + (uint64_t)seconds * 1000;
	next_sample = t0 + (uint64_t)seconds * 1000 / 5;	/* warm-up */
	while (h_now_ms() < end) {
		soak_round(rounds++);
		if (h_now_ms() >= next_sample && n < SOAK_SAMPLES) {
			rss[n++] = daemon_rss_kb();
			next_sample += (uint64_t)seconds * 1000 / 20 + 1;
		}
	}
	ck_assert_int_ge(n, 2);
	warm = rss[0];
	for (i = 1; i < n; i++)
		peak = rss[i] > peak ? rss[i] : peak;
	fprintf(stderr, "soak: %d rounds, %lld pairs, %lld over quota, "
	    "rss warm %ld kB peak %ld kB\n", rounds,
	    h_stat(&d, "matches.peer"), h_stat(&d, "udp_over_quota"), warm,
	    peak);
	ck_assert_int_eq(h_stat(&d, "matches.peer"),
	    (long long)rounds * SOAK_PAIRS);
	ck_assert_int_eq(h_stat(&d, "udp_invalid"),
	    (long long)rounds * SOAK_PAIRS);
	ck_assert_int_le(peak, warm + warm / 10 + 512);
	/* The greedy IP was held to its quota all along. */
	ck_assert_int_gt(h_stat(&d, "udp_over_quota"),
	    (long long)rounds * SOAK_GREEDY / 2);
	ck_assert(!h_daemon_log_contains(&d, " warn "));
	ck_assert(!h_daemon_log_contains(&d, " error "));
	ck_assert_int_eq(h_daemon_stop(&d), 0);
}
END_TEST

int
main(void)
{
	char	*env = getenv("CB_SOAK_SECONDS");
	Suite	*s;
	TCase	*tc;

	if (env == NULL || atoi(env) <= 0) {
		/* automake's SKIP: shown as such, never as a pass. */
		fprintf(stderr, "soak: set CB_SOAK_SECONDS to run it\n");
		return (77);
	}
	s = suite_create("soak");
	tc = tcase_create("soak");
	tcase_set_timeout(tc, atoi(env) + h_scale_ms(60000) / 1000);
	tcase_add_test(tc, test_soak);
	suite_add_tcase(s, tc);
	return (suite_run(s));
}
