/*
 * Small helpers shared by every module: IP addresses in their one
 * canonical form, strict number parsing and the monotonic clock.
 */
#ifndef CB_UTIL_H
#define CB_UTIL_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

/*
 * An IP address as the daemon keys, compares and prints it.  IPv4 is held
 * as an IPv4-mapped IPv6 address (::ffff:a.b.c.d), so a peer seen through
 * a dual-stack socket and the same peer named in a RemoteIP are one value.
 */
struct cb_ip {
	uint8_t		 bytes[16];
};

/* Longest text cb_ip_format() writes, with its NUL ("ffff:...:255.255.255.255"). */
#define CB_IP_STRLEN	46

int		 cb_ip_from_sockaddr(struct cb_ip *, const struct sockaddr *);
uint16_t	 cb_sockaddr_port(const struct sockaddr *);
int		 cb_local_port(int);
int		 cb_ip_parse(struct cb_ip *, const char *);
const char	*cb_ip_format(const struct cb_ip *, char [CB_IP_STRLEN]);
int		 cb_ip_is_v4(const struct cb_ip *);
int		 cb_ip_equal(const struct cb_ip *, const struct cb_ip *);
socklen_t	 cb_ip_to_sockaddr(const struct cb_ip *, uint16_t,
		    struct sockaddr_storage *);

/*
 * Parses a whole decimal integer in [min, max], as OpenBSD's strtonum():
 * returns 0 and stores it, or returns -1 and points *errstr at "invalid",
 * "too small" or "too large".  No sign other than a leading '-', no
 * spaces, no hex or octal.
 */
int		 parse_num(const char *, long long, long long, long long *,
		    const char **);

/* Milliseconds of the monotonic clock: immune to wall-clock steps. */
uint64_t	 cb_now_ms(void);
uint64_t	 cb_now_ns(void);

#endif /* CB_UTIL_H */
