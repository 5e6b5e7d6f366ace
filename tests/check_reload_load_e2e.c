/*
 * Faults around time and configuration, end to end: SIGHUP sent again and
 * again with a changed config file while pairs keep matching, and the
 * wall clock stepped forward and back (with libfaketime, when installed)
 * under leases and a waiting session, which must neither notice: every
 * timeout runs on the monotonic clock.  After each, a fresh pair must
 * still match and the gauges must agree with /leases.
 */
#include "autoconf.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json.h>

#include "rdv.h"
#include "suite.h"

#define HUP_PAIRS	240	/* pairs matched during the reloads */
#define HUP_EVERY	30	/* a reload every this many pairs */
#define HUP_KEPT	50	/* idle leases that must outlive them */

#define STEP_TIMEOUT_S	4	/* -lease_timeout of the clock-step test */
#define STEP_S		864000	/* the step: ten days */

static struct h_daemon	d;

static const char *const faketime_libs[] = {
	"/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
	"/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
	"/usr/lib/faketime/libfaketime.so.1",
	"/usr/local/lib/faketime/libfaketime.so.1",
};

/* The "total" of a /leases listing. */
static long long
leases_total(const char *path)
{
	struct json_object	*j, *total;
	long long		 n;
	int			 status;

	j = h_get_json(&d, path, &status);
	ck_assert_int_eq(status, 200);
	ck_assert(json_object_object_get_ex(j, "total", &total));
	n = json_object_get_int64(total);
	json_object_put(j);
	return (n);
}

/* A fresh pair still matches, and /stats agrees with /leases. */
static void
still_healthy(void)
{
	rdv_match_fresh_pair(&d, "127.0.0.200", "127.0.0.201");
	ck_assert_int_eq(leases_total("/leases?limit=0"),
	    h_stat(&d, "leases"));
	ck_assert_int_eq(h_daemon_stop(&d), 0);
}

/* Replaces the file's contents with text. */
static void
write_text(const char *path, const char *text)
{
	FILE	*f;

	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
}

/* The HTTP status of GET /leases/IP/PEERPORT. */
static int
lease_status(const struct rdv_peer *p)
{
	struct h_http_response	r;
	char			path[128];
	int			status;

	snprintf(path, sizeof(path), "/leases/%s/%lld", p->ip, p->peer_port);
	ck_assert_int_eq(h_http(&d, "GET", path, NULL, &r), 0);
	status = r.status;
	h_http_response_free(&r);
	return (status);
}

/*
 * SIGHUP every HUP_EVERY pairs, each time with another lease_timeout and
 * log_level in the file, while pairs register and match one after the
 * other: each signal lands while a Peer waits for its partner.  No match
 * is lost, no session dropped, no lease forgotten.
 */
START_TEST(test_sighup_during_load)
{
	static struct rdv_peer	kept[HUP_KEPT], a[HUP_PAIRS], b[HUP_PAIRS];
	char			conf[] = "/tmp/cb-reload-XXXXXX";
	char			arg[64], text[128];
	long long		timeout = 90;
	int			fd, i, reloads = 0;

	ck_assert_int_ne(fd = mkstemp(conf), -1);
	close(fd);
	write_text(conf, "lease_timeout = 90\nlog_level = info\n");
	snprintf(arg, sizeof(arg), "-config=%s", conf);
	ck_assert_int_eq(h_daemon_start(&d, arg, (char *)NULL), 0);
	for (i = 0; i < HUP_KEPT; i++) {
		rdv_peer_init(&kept[i], "127.0.8.2", 100 + i);
		rdv_register(&kept[i], &d);
	}
	rdv_wait_stat(&d, "leases", HUP_KEPT);
	for (i = 0; i < HUP_PAIRS; i++) {
		rdv_peer_init(&a[i], "127.0.9.2", 1000 + i);
		rdv_peer_init(&b[i], "127.0.9.3", 1000 + i);
		rdv_register(&a[i], &d);
		rdv_register(&b[i], &d);
		rdv_request(&a[i], &d, "Peer", &b[i]);
		if (i % HUP_EVERY == HUP_EVERY / 2) {
			timeout = 90 + 10 * ++reloads;
			snprintf(text, sizeof(text),
			    "lease_timeout = %lld\nlog_level = %s\n", timeout,
			    reloads % 2 ? "warn" : "info");
			write_text(conf, text);
			ck_assert_int_eq(kill(d.pid, SIGHUP), 0);
		}
		rdv_request(&b[i], &d, "Peer", &a[i]);
		if (i % HUP_EVERY == HUP_EVERY / 2)
			rdv_wait_stat(&d, "lease_timeout_s", timeout);
	}
	for (i = 0; i < HUP_PAIRS; i++) {
		rdv_expect_pair(&a[i], &b[i]);
		rdv_peer_close(&a[i]);
		rdv_peer_close(&b[i]);
	}
	ck_assert_int_ge(reloads, 5);
	ck_assert_int_eq(h_stat(&d, "matches.peer"), HUP_PAIRS);
	ck_assert_int_eq(h_stat(&d, "errors.timeout"), 0);
	ck_assert_int_eq(h_stat(&d, "errors.replaced"), 0);
	ck_assert_int_eq(h_stat(&d, "errors.evicted"), 0);
	ck_assert_int_eq(h_stat(&d, "leases_expired"), 0);
	ck_assert_int_eq(h_stat(&d, "leases"), HUP_KEPT + 2 * HUP_PAIRS);
	ck_assert_int_eq(leases_total("/leases?ip=127.0.8.2&limit=0"),
	    HUP_KEPT);
	ck_assert(!h_daemon_log_contains(&d, "config has errors"));
	for (i = 0; i < HUP_KEPT; i++)
		rdv_peer_close(&kept[i]);
	still_healthy();
	unlink(conf);
}
END_TEST

/* Steps the daemon's wall clock: libfaketime rereads the file each call. */
static void
step_clock(const char *path, const char *spec)
{
	write_text(path, spec);
}

/* Whether the daemon's log has a line stamped with the date t. */
static int
log_has_date(time_t t)
{
	struct tm	tm;
	char		day[32];

	gmtime_r(&t, &tm);
	strftime(day, sizeof(day), "%Y-%m-%dT", &tm);
	return (h_daemon_log_contains(&d, day));
}

/*
 * A lease registered just before the step must live its STEP_TIMEOUT_S
 * seconds, no fewer and not many more; a waiting Peer must stay waiting
 * and then match.
 */
static void
step_once(const char *ts, const char *spec, int sign, int round)
{
	struct rdv_peer	lease, w, p;
	uint64_t	t0;
	time_t		now;
	char		ip[3][32];

	snprintf(ip[0], sizeof(ip[0]), "127.0.10.%d", 2 + 3 * round);
	snprintf(ip[1], sizeof(ip[1]), "127.0.10.%d", 3 + 3 * round);
	snprintf(ip[2], sizeof(ip[2]), "127.0.10.%d", 4 + 3 * round);
	rdv_peer_init(&lease, ip[0], 1);
	rdv_peer_init(&w, ip[1], 2);
	rdv_peer_init(&p, ip[2], 3);
	t0 = h_now_ms();
	rdv_register(&lease, &d);
	rdv_register(&w, &d);
	rdv_wait_lease(&lease, &d);
	rdv_request(&w, &d, "Peer", &p);

	/* The step, and proof that the daemon's wall clock took it. */
	step_clock(ts, spec);
	ck_assert_int_eq(kill(d.pid, SIGHUP), 0);
	now = time(NULL) + sign * STEP_S;
	while (!log_has_date(now) && h_now_ms() - t0 < 1500)
		usleep(20 * 1000);
	ck_assert_msg(log_has_date(now), "the daemon's clock did not step");

	/* Not early: the lease and the wait outlive half the timeout. */
	ck_assert_uint_lt(h_now_ms() - t0, STEP_TIMEOUT_S * 1000 / 2);
	rdv_expect_silence(w.tcp, (int)(STEP_TIMEOUT_S * 1000 / 2 -
	    (h_now_ms() - t0)));
	ck_assert_int_eq(lease_status(&lease), 200);
	rdv_register(&p, &d);
	rdv_request(&p, &d, "Peer", &w);
	rdv_expect_pair(&w, &p);

	/* Not late: gone within a second and a half of its deadline. */
	while (lease_status(&lease) == 200 &&
	    h_now_ms() - t0 < STEP_TIMEOUT_S * 1000 + 1500)
		usleep(50 * 1000);
	ck_assert_int_eq(lease_status(&lease), 404);
	ck_assert_uint_ge(h_now_ms() - t0, STEP_TIMEOUT_S * 1000 - 100);
	rdv_peer_close(&lease);
	rdv_peer_close(&w);
	rdv_peer_close(&p);
}

/*
 * The daemon alone runs under libfaketime, its wall clock stepped ten
 * days forward and then back; skipped without libfaketime or under a
 * wrapper.
 */
START_TEST(test_clock_step)
{
	char		 ts[] = "/tmp/cb-faketime-XXXXXX";
	char		 arg[32], *asan, *asan_saved = NULL;
	const char	*lib = NULL, *wrapper;
	size_t		 i;
	int		 fd;

	for (i = 0; i < sizeof(faketime_libs) / sizeof(faketime_libs[0]); i++)
		if (access(faketime_libs[i], R_OK) == 0) {
			lib = faketime_libs[i];
			break;
		}
	if (lib == NULL) {
		fprintf(stderr, "SKIP: test_clock_step: no libfaketime "
		    "(apt-get install libfaketime)\n");
		return;
	}
	if ((wrapper = getenv("CB_DAEMON_WRAPPER")) != NULL &&
	    *wrapper != '\0') {
		fprintf(stderr, "SKIP: test_clock_step: not under %s\n",
		    wrapper);
		return;
	}
	ck_assert_int_ne(fd = mkstemp(ts), -1);
	close(fd);
	step_clock(ts, "+0");

	/* Only the daemon runs under libfaketime, never this process. */
	if ((asan = getenv("ASAN_OPTIONS")) != NULL)
		asan_saved = strdup(asan);
	if (asprintf(&asan, "%s%sverify_asan_link_order=0",
	    asan_saved != NULL ? asan_saved : "",
	    asan_saved != NULL ? ":" : "") == -1)
		ck_abort();
	setenv("ASAN_OPTIONS", asan, 1);
	setenv("LD_PRELOAD", lib, 1);
	setenv("DONT_FAKE_MONOTONIC", "1", 1);
	setenv("FAKETIME_TIMESTAMP_FILE", ts, 1);
	setenv("FAKETIME_NO_CACHE", "1", 1);
	snprintf(arg, sizeof(arg), "-lease_timeout=%d", STEP_TIMEOUT_S);
	fd = h_daemon_start(&d, arg, "-udp_grace=1", "-config=",
	    "-log_level=info", (char *)NULL);
	unsetenv("LD_PRELOAD");
	unsetenv("DONT_FAKE_MONOTONIC");
	unsetenv("FAKETIME_TIMESTAMP_FILE");
	unsetenv("FAKETIME_NO_CACHE");
	if (asan_saved != NULL)
		setenv("ASAN_OPTIONS", asan_saved, 1);
	else
		unsetenv("ASAN_OPTIONS");
	free(asan);
	free(asan_saved);
	ck_assert_int_eq(fd, 0);

	step_once(ts, "+10d", 1, 0);
	step_once(ts, "-10d", -1, 1);
	ck_assert_int_eq(h_stat(&d, "errors.timeout"), 0);
	still_healthy();
	unlink(ts);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("reload_load_e2e");
	TCase	*tc = tcase_create("reload_load");

	tcase_set_timeout(tc, h_scale_ms(60000) / 1000);
	tcase_add_test(tc, test_sighup_during_load);
	tcase_add_test(tc, test_clock_step);
	suite_add_tcase(s, tc);
	return (suite_run(s));
}
