/*
 * Small helpers shared by every module: IP addresses in their canonical
 * form, strict number parsing and the monotonic clock.
 */
#include "autoconf.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

static const uint8_t v4mapped_prefix[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

static int	ip4_parse(const char *, struct in_addr *);

/* Stores an IPv4 address (network order) in the mapped form. */
static void
cb_ip_set_v4(struct cb_ip *ip, const void *v4)
{
	memcpy(ip->bytes, v4mapped_prefix, sizeof(v4mapped_prefix));
	memcpy(ip->bytes + 12, v4, 4);
}

/* Takes the address of an AF_INET or AF_INET6 sockaddr. */
int
cb_ip_from_sockaddr(struct cb_ip *ip, const struct sockaddr *sa)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	switch (sa->sa_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)(const void *)sa;
		cb_ip_set_v4(ip, &sin->sin_addr);
		return (0);
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		memcpy(ip->bytes, &sin6->sin6_addr, sizeof(ip->bytes));
		return (0);
	default:
		return (-1);
	}
}

/* The port of an AF_INET or AF_INET6 sockaddr, in host order. */
uint16_t
cb_sockaddr_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohs(((const struct sockaddr_in *)
		    (const void *)sa)->sin_port));
	if (sa->sa_family == AF_INET6)
		return (ntohs(((const struct sockaddr_in6 *)
		    (const void *)sa)->sin6_port));
	return (0);
}

/* The local port a socket is bound to, or -1. */
int
cb_local_port(int fd)
{
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1 ||
	    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
		return (-1);
	return (cb_sockaddr_port((struct sockaddr *)&ss));
}

/*
 * Parses an IPv4 or IPv6 literal.  "::ffff:a.b.c.d" and "a.b.c.d" give the
 * same value; host names, brackets, zone ids and ports are refused.
 */
int
cb_ip_parse(struct cb_ip *ip, const char *text)
{
	struct in_addr	v4;

	if (ip4_parse(text, &v4) == 0) {
		cb_ip_set_v4(ip, &v4);
		return (0);
	}
	if (inet_pton(AF_INET6, text, ip->bytes) == 1)
		return (0);
	return (-1);
}

/*
 * inet_pton(AF_INET) for the request path, at a fraction of its cost:
 * exactly four decimal octets of at most 255, none with a leading zero,
 * which is what glibc's inet_pton accepts (check_util compares the two).
 */
static int
ip4_parse(const char *s, struct in_addr *out)
{
	uint8_t		b[4];
	unsigned int	v;
	int		i;

	for (i = 0; i < 4; i++) {
		if (i > 0 && *s++ != '.')
			return (-1);
		if (*s < '0' || *s > '9')
			return (-1);
		v = (unsigned int)(*s++ - '0');
		/* An octet starting with 0 ends there: "01" finds no dot. */
		while (v != 0 && *s >= '0' && *s <= '9') {
			v = v * 10 + (unsigned int)(*s++ - '0');
			if (v > 255)
				return (-1);
		}
		b[i] = (uint8_t)v;
	}
	if (*s != '\0')
		return (-1);
	memcpy(&out->s_addr, b, sizeof(b));
	return (0);
}

int
cb_ip_is_v4(const struct cb_ip *ip)
{
	return (memcmp(ip->bytes, v4mapped_prefix,
	    sizeof(v4mapped_prefix)) == 0);
}

int
cb_ip_equal(const struct cb_ip *a, const struct cb_ip *b)
{
	return (memcmp(a->bytes, b->bytes, sizeof(a->bytes)) == 0);
}

/* Writes the dotted form for IPv4, RFC 5952 text for IPv6. */
const char *
cb_ip_format(const struct cb_ip *ip, char buf[CB_IP_STRLEN])
{
	if (cb_ip_is_v4(ip))
		return (inet_ntop(AF_INET, ip->bytes + 12, buf, CB_IP_STRLEN));
	return (inet_ntop(AF_INET6, ip->bytes, buf, CB_IP_STRLEN));
}

/* Fills a sockaddr of the address's own family; returns its length. */
socklen_t
cb_ip_to_sockaddr(const struct cb_ip *ip, uint16_t port,
    struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin;
	struct sockaddr_in6	*sin6;

	memset(ss, 0, sizeof(*ss));
	if (cb_ip_is_v4(ip)) {
		sin = (struct sockaddr_in *)(void *)ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, ip->bytes + 12, 4);
		return (sizeof(*sin));
	}
	sin6 = (struct sockaddr_in6 *)(void *)ss;
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	memcpy(&sin6->sin6_addr, ip->bytes, sizeof(ip->bytes));
	return (sizeof(*sin6));
}

int
parse_num(const char *text, long long min, long long max, long long *out,
    const char **errstr)
{
	const char	*p = text;
	long long	 value;
	char		*end;

	if (*p == '-')
		p++;
	if (*p < '0' || *p > '9') {
		*errstr = "invalid";
		return (-1);
	}
	errno = 0;
	value = strtoll(text, &end, 10);
	if (*end != '\0') {
		*errstr = "invalid";
		return (-1);
	}
	if ((errno == ERANGE && value == LLONG_MIN) || value < min) {
		*errstr = "too small";
		return (-1);
	}
	if ((errno == ERANGE && value == LLONG_MAX) || value > max) {
		*errstr = "too large";
		return (-1);
	}
	*out = value;
	*errstr = NULL;
	return (0);
}

/* The monotonic clock in milliseconds: deadlines and lease times. */
uint64_t
cb_now_ms(void)
{
	return (cb_now_ns() / 1000000);
}

/* The monotonic clock in nanoseconds, for budgets finer than a ms. */
uint64_t
cb_now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec);
}
