/*
 * Socket set-up shared by the UDP intake and the TCP listener.  Without
 * -bind the daemon listens on every address through one dual-stack "::"
 * socket; on a host with IPv6 disabled it falls back to "0.0.0.0".
 */
#include "autoconf.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "net.h"
#include "util.h"

static int	net_bind_one(const struct sockaddr *, socklen_t, int, int);

/*
 * Opens and binds the sockets of one type (SOCK_DGRAM or SOCK_STREAM) on
 * the port: on addr when given, else dual stack.  Returns 0, or -1 with
 * errno set and nothing left open.
 */
int
net_bind_port(const struct sockaddr *addr, socklen_t addrlen, int port,
    int type, struct net_sockets *out)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in6	*sin6;
	struct sockaddr_in	*sin;
	int			 fd, dual_stack = addrlen == 0;

	out->count = 0;
	memset(&ss, 0, sizeof(ss));
	if (addrlen != 0) {
		memcpy(&ss, addr, addrlen);
	} else {
		sin6 = (struct sockaddr_in6 *)(void *)&ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_any;
		addrlen = sizeof(*sin6);
	}
	if (ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)(void *)&ss)->sin6_port =
		    htons((uint16_t)port);
	else
		((struct sockaddr_in *)(void *)&ss)->sin_port =
		    htons((uint16_t)port);

	fd = net_bind_one((struct sockaddr *)&ss, addrlen, type, dual_stack);
	if (fd == -1 && dual_stack &&
	    (errno == EAFNOSUPPORT || errno == EADDRNOTAVAIL)) {
		/* No IPv6 on this host: every IPv4 address instead. */
		memset(&ss, 0, sizeof(ss));
		sin = (struct sockaddr_in *)(void *)&ss;
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
		sin->sin_port = htons((uint16_t)port);
		fd = net_bind_one((struct sockaddr *)&ss, sizeof(*sin), type,
		    0);
	}
	if (fd == -1)
		return (-1);
	out->fds[out->count++] = fd;
	return (0);
}

/* One non-blocking, close-on-exec socket bound to ss. */
static int
net_bind_one(const struct sockaddr *sa, socklen_t len, int type,
    int dual_stack)
{
	int	fd, on = 1, off = 0, saved;

	fd = socket(sa->sa_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return (-1);
	if (type == SOCK_STREAM &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1)
		goto fail;
	if (sa->sa_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, dual_stack ? &off : &on, sizeof(int)) == -1)
		goto fail;
	if (bind(fd, sa, len) == -1)
		goto fail;
	return (fd);
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return (-1);
}

/*
 * AF_INET6 or AF_INET when fd is bound to that family's wildcard address
 * (:: or 0.0.0.0), else 0: a socket on every address, whose datagrams may
 * have arrived at any of them.
 */
int
net_wildcard_family(int fd)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)(void *)&ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)(void *)&ss;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return (0);
	if (ss.ss_family == AF_INET6 &&
	    IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr))
		return (AF_INET6);
	if (ss.ss_family == AF_INET && sin->sin_addr.s_addr ==
	    htonl(INADDR_ANY))
		return (AF_INET);
	return (0);
}

void
net_close(struct net_sockets *s)
{
	int	i;

	for (i = 0; i < s->count; i++)
		close(s->fds[i]);
	s->count = 0;
}

/* "[::]:6969" or "127.0.0.1:6969", for log lines. */
const char *
net_sockaddr_format(const struct sockaddr *sa, char *buf, size_t size)
{
	struct cb_ip	ip;
	char		text[CB_IP_STRLEN];

	if (cb_ip_from_sockaddr(&ip, sa) == -1) {
		snprintf(buf, size, "?");
		return (buf);
	}
	cb_ip_format(&ip, text);
	if (sa->sa_family == AF_INET6 && !cb_ip_is_v4(&ip))
		snprintf(buf, size, "[%s]:%u", text, cb_sockaddr_port(sa));
	else if (sa->sa_family == AF_INET6)
		snprintf(buf, size, "[::ffff:%s]:%u", text,
		    cb_sockaddr_port(sa));
	else
		snprintf(buf, size, "%s:%u", text, cb_sockaddr_port(sa));
	return (buf);
}
