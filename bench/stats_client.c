/*
 * What the receiver says it took in: GET /stats from the daemon's admin
 * API (one HTTP/1.0 request per reading, the body parsed with json-c and
 * a dotted path such as "matches.peer" looked up), a process's resident
 * set size from /proc/PID/status, and the CPU time all its threads have
 * run from /proc/PID/task/TID/schedstat (nanoseconds, unlike the ticks of
 * /proc/PID/stat), which a busy machine does not inflate the way it
 * stretches wall-clock time.
 */
#include "autoconf.h"

#include <sys/socket.h>

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "bench.h"

#define STATS_MAX	(256 * 1024)	/* largest /stats body read */
#define STATS_WAIT_MS	5000		/* one reading, at most */

static char	*http_get(const struct bench_opts *, const char *);
static int	 lookup(struct json_object *, const char *, long long *);

/* The raw response to GET path, NUL-terminated; NULL on failure. */
static char *
http_get(const struct bench_opts *o, const char *path)
{
	struct pollfd	 pfd;
	char		 req[256], *buf;
	size_t		 len = 0;
	ssize_t		 n;
	int		 fd, r, reqlen;

	if (o->admin_port == 0 ||
	    (fd = bench_tcp_connect(NULL, "127.0.0.1", o->admin_port)) == -1)
		return (NULL);
	reqlen = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\n"
	    "Host: 127.0.0.1\r\n\r\n", path);
	if ((buf = malloc(STATS_MAX + 1)) == NULL) {
		close(fd);
		return (NULL);
	}
	pfd.fd = fd;
	pfd.events = POLLOUT;
	if (poll(&pfd, 1, STATS_WAIT_MS) != 1 ||
	    write(fd, req, (size_t)reqlen) != reqlen)
		goto fail;
	pfd.events = POLLIN;
	while (len < STATS_MAX) {
		if ((r = poll(&pfd, 1, STATS_WAIT_MS)) != 1)
			goto fail;
		n = read(fd, buf + len, STATS_MAX - len);
		if (n == -1 && errno == EAGAIN)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	return (buf);
fail:
	close(fd);
	free(buf);
	return (NULL);
}

/* Follows a dotted path of object keys down to an integer. */
static int
lookup(struct json_object *obj, const char *path, long long *v)
{
	char	 key[64];
	size_t	 n;

	while (*path != '\0') {
		n = strcspn(path, ".");
		if (n >= sizeof(key))
			return (-1);
		memcpy(key, path, n);
		key[n] = '\0';
		if (!json_object_object_get_ex(obj, key, &obj))
			return (-1);
		path += n + (path[n] == '.');
	}
	if (!json_object_is_type(obj, json_type_int))
		return (-1);
	*v = json_object_get_int64(obj);
	return (0);
}

/* Reads one number of the daemon's /stats, e.g. "udp_datagrams". */
int
bench_stat(const struct bench_opts *o, const char *path, long long *v)
{
	struct json_object	*obj;
	char			*resp, *body;
	int			 rc = -1;

	if ((resp = http_get(o, "/stats")) == NULL)
		return (-1);
	if ((body = strstr(resp, "\r\n\r\n")) != NULL &&
	    (obj = json_tokener_parse(body + 4)) != NULL) {
		rc = lookup(obj, path, v);
		json_object_put(obj);
	}
	free(resp);
	return (rc);
}

/* Polls /stats until path reaches at least want; -1 past secs. */
int
bench_wait_stat(const struct bench_opts *o, const char *path,
    long long want, double secs)
{
	uint64_t	end = bench_now_ns() + (uint64_t)(secs * 1e9);
	long long	v;

	for (;;) {
		if (bench_stat(o, path, &v) == 0 && v >= want)
			return (0);
		if (bench_now_ns() >= end)
			return (-1);
		bench_sleep_ns(5 * 1000 * 1000);
	}
}

/* VmRSS of a process in kB, or -1. */
long long
bench_rss_kb(pid_t pid)
{
	char		 path[64], line[256];
	FILE		*f;
	long long	 kb = -1;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return (-1);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "VmRSS: %lld kB", &kb) == 1)
			break;
	}
	fclose(f);
	return (kb);
}

/* Nanoseconds all threads of a process have run on a CPU, or 0. */
uint64_t
bench_cpu_ns(pid_t pid)
{
	struct dirent		*de;
	DIR			*dir;
	FILE			*f;
	char			 path[320];
	unsigned long long	 ns;
	uint64_t		 total = 0;

	snprintf(path, sizeof(path), "/proc/%ld/task", (long)pid);
	if ((dir = opendir(path)) == NULL)
		return (0);
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/task/%s/schedstat",
		    (long)pid, de->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		if (fscanf(f, "%llu", &ns) == 1)
			total += ns;
		fclose(f);
	}
	closedir(dir);
	return (total);
}
