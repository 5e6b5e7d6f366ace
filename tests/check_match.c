/*
 * Unit tests for the rendezvous rules, on a real lease registry, with the
 * session callbacks recorded instead of written to sockets.
 */
#include "autoconf.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "log.h"
#include "match.h"
#include "suite.h"

#define MAX_EVENTS	16

struct party {
	struct match_req	 req;
	int			 finished;
	int			 ready;
	int			 notified;
	struct rdv_response	 last;		/* last finish or notify */
};

static struct event_base	*base;
static struct lease_registry	*reg;
static struct match		*m;
static struct stats		 st;

static void
on_finish(void *owner, const struct rdv_response *r)
{
	struct party	*p = owner;

	ck_assert_int_eq(p->req.linked, 0);
	p->finished++;
	p->last = *r;
}

static void
on_notify(void *owner, const struct rdv_response *r)
{
	struct party	*p = owner;

	p->notified++;
	p->last = *r;
}

static void
on_ready(void *owner)
{
	((struct party *)owner)->ready++;
}

static const struct match_callbacks callbacks = {
	on_finish, on_notify, on_ready
};

static void
observer(void *arg, const struct lease *l, uint64_t hash,
    enum lease_event ev)
{
	(void)arg;
	match_lease_event(m, l, hash, ev);
}

static struct lease_key
key_of(const char *ip, uint32_t peer_port)
{
	struct lease_key	k;

	memset(&k, 0, sizeof(k));
	ck_assert_int_eq(cb_ip_parse(&k.ip, ip), 0);
	k.peer_port = peer_port;
	return (k);
}

static void
party_init(struct party *p, enum match_role role, const char *ip,
    uint32_t lpp, const char *rip, uint32_t rpp)
{
	memset(p, 0, sizeof(*p));
	p->req.role = role;
	p->req.owner = p;
	p->req.self = key_of(ip, lpp);
	if (rip != NULL)
		p->req.target = key_of(rip, rpp);
}

static void
udp(const char *ip, uint32_t peer_port, uint16_t udp_port)
{
	struct lease_key	k = key_of(ip, peer_port);

	lease_upsert(reg, &k, udp_port, 0);
}

static void
assert_endpoints(const struct party *p, const char *sip, uint16_t sport,
    const char *dip, uint16_t dport)
{
	struct cb_ip	ip;

	ck_assert_int_eq(p->last.error, RDV_OK);
	cb_ip_parse(&ip, sip);
	ck_assert(cb_ip_equal(&p->last.source.ip, &ip));
	ck_assert_uint_eq(p->last.source.port, sport);
	cb_ip_parse(&ip, dip);
	ck_assert(cb_ip_equal(&p->last.dest.ip, &ip));
	ck_assert_uint_eq(p->last.dest.port, dport);
}

static void
setup(void)
{
	log_set_level(LOG_LEVEL_WARN);
	memset(&st, 0, sizeof(st));
	base = event_base_new();
	reg = lease_registry_new(base, 90, observer, NULL);
	m = match_new(reg, &st, &callbacks);
	ck_assert_ptr_nonnull(m);
}

static void
teardown(void)
{
	lease_registry_free(reg);
	match_free(m);
	event_base_free(base);
}

START_TEST(test_peer_both_leases_first)
{
	struct party	a, b;

	udp("198.51.100.2", 1, 40001);
	udp("203.0.113.2", 2, 40002);
	party_init(&a, MATCH_ROLE_PEER, "198.51.100.2", 1, "203.0.113.2", 2);
	party_init(&b, MATCH_ROLE_PEER, "203.0.113.2", 2, "198.51.100.2", 1);
	match_submit(m, &a.req);
	ck_assert_int_eq(a.finished, 0);
	ck_assert_uint_eq(match_waiting(m), 1);
	ck_assert_int_eq(match_state(m, &a.req.self), MATCH_STATE_WAITING);
	match_submit(m, &b.req);
	ck_assert_int_eq(a.finished, 1);
	ck_assert_int_eq(b.finished, 1);
	assert_endpoints(&a, "198.51.100.2", 40001, "203.0.113.2", 40002);
	assert_endpoints(&b, "203.0.113.2", 40002, "198.51.100.2", 40001);
	ck_assert_uint_eq(st.counters[STAT_MATCH_PEER], 1);
	ck_assert_uint_eq(match_waiting(m), 0);
}
END_TEST

START_TEST(test_peer_tcp_before_udp_both_sides)
{
	struct party	a, b;

	party_init(&a, MATCH_ROLE_PEER, "10.0.0.1", 1, "10.0.0.2", 2);
	party_init(&b, MATCH_ROLE_PEER, "10.0.0.2", 2, "10.0.0.1", 1);
	match_submit(m, &a.req);
	match_submit(m, &b.req);
	ck_assert_uint_eq(match_waiting(m), 2);
	udp("10.0.0.2", 2, 5002);
	ck_assert_int_eq(b.ready, 1);
	ck_assert_int_eq(b.finished, 0);
	udp("10.0.0.1", 1, 5001);
	ck_assert_int_eq(a.ready, 1);
	ck_assert_int_eq(a.finished, 1);
	ck_assert_int_eq(b.finished, 1);
	assert_endpoints(&b, "10.0.0.2", 5002, "10.0.0.1", 5001);
}
END_TEST

START_TEST(test_peer_mismatch_times_out_on_expiry)
{
	struct party	a, b;

	udp("10.0.0.1", 1, 5001);
	udp("10.0.0.2", 2, 5002);
	party_init(&a, MATCH_ROLE_PEER, "10.0.0.1", 1, "10.0.0.2", 2);
	party_init(&b, MATCH_ROLE_PEER, "10.0.0.2", 2, "10.0.0.3", 3);
	match_submit(m, &a.req);
	match_submit(m, &b.req);
	ck_assert_int_eq(a.finished + b.finished, 0);
	lease_expire_due(reg, 90000);
	ck_assert_int_eq(a.finished, 1);
	ck_assert_int_eq(a.last.error, RDV_ERR_TIMEOUT);
	ck_assert_int_eq(b.last.error, RDV_ERR_TIMEOUT);
}
END_TEST

START_TEST(test_peer_replaced)
{
	struct party	a1, a2;

	party_init(&a1, MATCH_ROLE_PEER, "10.0.0.1", 1, "10.0.0.2", 2);
	party_init(&a2, MATCH_ROLE_PEER, "10.0.0.1", 1, "10.0.0.9", 9);
	match_submit(m, &a1.req);
	match_submit(m, &a2.req);
	ck_assert_int_eq(a1.finished, 1);
	ck_assert_int_eq(a1.last.error, RDV_ERR_REPLACED);
	ck_assert_int_eq(a2.finished, 0);
	ck_assert_uint_eq(match_waiting(m), 1);
}
END_TEST

START_TEST(test_udp_timeout_and_withdraw)
{
	struct party	a, b;

	party_init(&a, MATCH_ROLE_PEER, "10.0.0.1", 1, "10.0.0.2", 2);
	party_init(&b, MATCH_ROLE_PEER, "10.0.0.2", 2, "10.0.0.1", 1);
	match_submit(m, &a.req);
	match_udp_timeout(m, &a.req);
	ck_assert_int_eq(a.last.error, RDV_ERR_NO_UDP_REGISTRATION);
	match_submit(m, &b.req);
	match_withdraw(m, &b.req);
	ck_assert_int_eq(b.finished, 0);
	ck_assert_uint_eq(match_waiting(m), 0);
}
END_TEST

START_TEST(test_client_without_server)
{
	struct party	c;

	udp("10.0.0.3", 3, 5003);
	party_init(&c, MATCH_ROLE_CLIENT, "10.0.0.3", 3, "10.0.0.9", 9);
	match_submit(m, &c.req);
	ck_assert_int_eq(c.finished, 1);
	ck_assert_int_eq(c.last.error, RDV_ERR_NO_SUCH_SERVER);
	ck_assert_uint_eq(match_waiting(m), 0);
}
END_TEST

START_TEST(test_server_and_clients)
{
	struct party	s, c1, c2;

	party_init(&s, MATCH_ROLE_SERVER, "10.0.0.9", 9, NULL, 0);
	match_submit(m, &s.req);
	ck_assert_uint_eq(match_servers(m), 0);
	ck_assert_uint_eq(match_waiting(m), 1);
	udp("10.0.0.9", 9, 5009);
	ck_assert_int_eq(s.ready, 1);
	ck_assert_uint_eq(match_servers(m), 1);
	ck_assert_int_eq(match_state(m, &s.req.self), MATCH_STATE_SERVER);
	ck_assert_int_eq(s.finished + s.notified, 0);

	udp("10.0.0.3", 3, 5003);
	party_init(&c1, MATCH_ROLE_CLIENT, "10.0.0.3", 3, "10.0.0.9", 9);
	match_submit(m, &c1.req);
	ck_assert_int_eq(c1.finished, 1);
	assert_endpoints(&c1, "10.0.0.3", 5003, "10.0.0.9", 5009);
	ck_assert_int_eq(s.notified, 1);
	assert_endpoints(&s, "10.0.0.9", 5009, "10.0.0.3", 5003);

	/* A client waiting for its own UDP is answered when it comes. */
	party_init(&c2, MATCH_ROLE_CLIENT, "10.0.0.4", 4, "10.0.0.9", 9);
	match_submit(m, &c2.req);
	ck_assert_int_eq(c2.finished, 0);
	udp("10.0.0.4", 4, 5004);
	ck_assert_int_eq(c2.finished, 1);
	ck_assert_int_eq(s.notified, 2);
	ck_assert_uint_eq(st.counters[STAT_MATCH_CLIENT], 2);
	ck_assert_int_eq(match_keepalive(m, &s.req, 1000), 0);
	match_withdraw(m, &s.req);
	ck_assert_uint_eq(match_servers(m), 0);
}
END_TEST

START_TEST(test_server_gone_while_client_waits)
{
	struct party	s, c;

	udp("10.0.0.9", 9, 5009);
	party_init(&s, MATCH_ROLE_SERVER, "10.0.0.9", 9, NULL, 0);
	match_submit(m, &s.req);
	party_init(&c, MATCH_ROLE_CLIENT, "10.0.0.4", 4, "10.0.0.9", 9);
	match_submit(m, &c.req);
	match_withdraw(m, &s.req);
	ck_assert_int_eq(c.finished, 1);
	ck_assert_int_eq(c.last.error, RDV_ERR_NO_SUCH_SERVER);
	ck_assert_uint_eq(match_waiting(m), 0);
}
END_TEST

START_TEST(test_server_replaced_keeps_waiting_clients)
{
	struct party	s1, s2, c;

	udp("10.0.0.9", 9, 5009);
	party_init(&s1, MATCH_ROLE_SERVER, "10.0.0.9", 9, NULL, 0);
	match_submit(m, &s1.req);
	party_init(&c, MATCH_ROLE_CLIENT, "10.0.0.4", 4, "10.0.0.9", 9);
	match_submit(m, &c.req);
	party_init(&s2, MATCH_ROLE_SERVER, "10.0.0.9", 9, NULL, 0);
	match_submit(m, &s2.req);
	ck_assert_int_eq(s1.last.error, RDV_ERR_REPLACED);
	ck_assert_uint_eq(match_servers(m), 1);
	ck_assert_int_eq(c.finished, 0);
	udp("10.0.0.4", 4, 5004);
	ck_assert_int_eq(c.finished, 1);
	ck_assert_int_eq(s2.notified, 1);
}
END_TEST

START_TEST(test_server_lease_expiry_and_eviction)
{
	struct party	s, c;
	struct lease_key k = key_of("10.0.0.9", 9);

	udp("10.0.0.9", 9, 5009);
	party_init(&s, MATCH_ROLE_SERVER, "10.0.0.9", 9, NULL, 0);
	match_submit(m, &s.req);
	party_init(&c, MATCH_ROLE_CLIENT, "10.0.0.4", 4, "10.0.0.9", 9);
	match_submit(m, &c.req);
	ck_assert_int_eq(lease_evict(reg, &k), 0);
	ck_assert_int_eq(s.last.error, RDV_ERR_EVICTED);
	ck_assert_int_eq(c.last.error, RDV_ERR_NO_SUCH_SERVER);
	ck_assert_uint_eq(match_servers(m), 0);
}
END_TEST

START_TEST(test_keepalive_needs_registration)
{
	struct party	s;

	party_init(&s, MATCH_ROLE_SERVER, "10.0.0.9", 9, NULL, 0);
	match_submit(m, &s.req);
	ck_assert_int_eq(match_keepalive(m, &s.req, 0), -1);
	match_withdraw(m, &s.req);
}
END_TEST

START_TEST(test_many_pairs)
{
	enum { N = 500 };
	struct party	*a = calloc(N, sizeof(*a)), *b = calloc(N, sizeof(*b));
	char		 ip[32];
	int		 i;

	for (i = 0; i < N; i++) {
		snprintf(ip, sizeof(ip), "10.1.%d.%d", i / 200, i % 200 + 1);
		party_init(&a[i], MATCH_ROLE_PEER, ip, 1, "10.2.0.1",
		    (uint32_t)i);
		party_init(&b[i], MATCH_ROLE_PEER, "10.2.0.1", (uint32_t)i,
		    ip, 1);
		match_submit(m, &a[i].req);
		udp(ip, 1, (uint16_t)(10000 + i));
	}
	for (i = 0; i < N; i++) {
		match_submit(m, &b[i].req);
		udp("10.2.0.1", (uint32_t)i, (uint16_t)(20000 + i));
	}
	for (i = 0; i < N; i++) {
		ck_assert_int_eq(a[i].finished, 1);
		ck_assert_uint_eq(a[i].last.dest.port, 20000 + i);
		ck_assert_uint_eq(b[i].last.dest.port, 10000 + i);
	}
	ck_assert_uint_eq(st.counters[STAT_MATCH_PEER], N);
	free(a);
	free(b);
}
END_TEST

static Suite *
match_suite(void)
{
	Suite	*s = suite_create("match");
	TCase	*tc = tcase_create("rules");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_peer_both_leases_first);
	tcase_add_test(tc, test_peer_tcp_before_udp_both_sides);
	tcase_add_test(tc, test_peer_mismatch_times_out_on_expiry);
	tcase_add_test(tc, test_peer_replaced);
	tcase_add_test(tc, test_udp_timeout_and_withdraw);
	tcase_add_test(tc, test_client_without_server);
	tcase_add_test(tc, test_server_and_clients);
	tcase_add_test(tc, test_server_gone_while_client_waits);
	tcase_add_test(tc, test_server_replaced_keeps_waiting_clients);
	tcase_add_test(tc, test_server_lease_expiry_and_eviction);
	tcase_add_test(tc, test_keepalive_needs_registration);
	tcase_add_test(tc, test_many_pairs);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (suite_run(match_suite()));
}
