/*
 * The option table: every flag and configuration key, its type, bounds,
 * default and help, in the order the usage lists them (sorted by name).
 * config.c reads it for the defaults, the command line, the file and
 * reloads; an option without CONFIG_RESTART is applied live on SIGHUP
 * (reload.c).
 */
#include "autoconf.h"

#include <sys/socket.h>

#include <stddef.h>

#include "config.h"
#include "config_int.h"

/* Bounds of the limits: high enough for any host, low enough for int. */
#define CONFIG_LIMIT_MAX	1000000000
#define CONFIG_RATE_MAX		1000000

const struct config_option config_options[] = {
	{ "admin", CONFIG_ADDRPORT, 1, 65535, CONFIG_DEFAULT_ADMIN,
	  offsetof(struct config, admin), offsetof(struct config, admin_addr),
	  offsetof(struct config, admin_addrlen), CONFIG_RESTART,
	  "Admin HTTP address (ADDR:PORT), or \"off\"" },
	{ "admin_token_file", CONFIG_PATH, 0, 0, "",
	  offsetof(struct config, admin_token_file), 0, 0, 0,
	  "File holding the admin API bearer token (empty: no token)" },
	{ "bind", CONFIG_IP, 0, 0, "",
	  offsetof(struct config, bind), offsetof(struct config, bind_addr),
	  offsetof(struct config, bind_addrlen), CONFIG_RESTART,
	  "IP address to listen on (empty: every address, IPv4 and IPv6)" },
	{ "config", CONFIG_PATH, 0, 0, CONFIG_DEFAULT_FILE,
	  offsetof(struct config, config_file), 0, 0, CONFIG_ARGS_ONLY,
	  "Configuration file (empty: none; a missing default is ignored)" },
	{ "daemon", CONFIG_BOOL, 0, 0, "false",
	  offsetof(struct config, daemonize), 0, 0, CONFIG_RESTART,
	  "Detach from the terminal and run in the background" },
	{ "lease_timeout", CONFIG_UINT, 1, 86400,
	  CONFIG_STR(CONFIG_DEFAULT_LEASE_TIMEOUT),
	  offsetof(struct config, lease_timeout), 0, 0, 0,
	  "PeerPort lease timeout in seconds" },
	{ "log", CONFIG_LOG_TARGET, 0, 0, "stderr",
	  offsetof(struct config, log), 0, 0, 0,
	  "Log to stderr, syslog or a file (an absolute path)" },
	{ "log_level", CONFIG_LOG_LEVEL, 0, 0, "info",
	  offsetof(struct config, log_level), 0, 0, 0,
	  "Log level: debug, info, warn or error" },
	{ "max_connections", CONFIG_UINT, 0, CONFIG_LIMIT_MAX, "0",
	  offsetof(struct config, max_connections), 0, 0, 0,
	  "Most open TCP connections (0: from RLIMIT_NOFILE)" },
	{ "max_leases", CONFIG_UINT, 0, CONFIG_LIMIT_MAX,
	  CONFIG_STR(CONFIG_DEFAULT_MAX_LEASES),
	  offsetof(struct config, max_leases), 0, 0, 0,
	  "Most leases held (0: no limit)" },
	{ "max_leases_per_ip", CONFIG_UINT, 0, CONFIG_LIMIT_MAX,
	  CONFIG_STR(CONFIG_DEFAULT_MAX_LEASES_PER_IP),
	  offsetof(struct config, max_leases_per_ip), 0, 0, 0,
	  "Most leases held for one public IP (0: no limit)" },
	{ "pidfile", CONFIG_PATH, 0, 0, "",
	  offsetof(struct config, pidfile), 0, 0, CONFIG_RESTART,
	  "Write the process id to this file (an absolute path)" },
	{ "port", CONFIG_INT, 1, 65535, CONFIG_STR(CONFIG_DEFAULT_PORT),
	  offsetof(struct config, port), 0, 0, CONFIG_RESTART,
	  "Server UDP/TCP port" },
	{ "rate_limit_tcp", CONFIG_UINT, 0, CONFIG_RATE_MAX, "0",
	  offsetof(struct config, rate_limit_tcp), 0, 0, 0,
	  "New TCP connections per second per IP, burst twice (0: off)" },
	{ "rate_limit_udp", CONFIG_UINT, 0, CONFIG_RATE_MAX, "0",
	  offsetof(struct config, rate_limit_udp), 0, 0, 0,
	  "UDP registrations per second per IP, burst twice (0: off)" },
	{ "udp_grace", CONFIG_UINT, 1, 86400,
	  CONFIG_STR(CONFIG_DEFAULT_UDP_GRACE),
	  offsetof(struct config, udp_grace), 0, 0, 0,
	  "Seconds a request waits for its UDP registration" },
	{ "user", CONFIG_USER, 0, 0, "",
	  offsetof(struct config, user), 0, 0, CONFIG_RESTART,
	  "Drop privileges to this user after binding" },
	{ "version", CONFIG_BOOL, 0, 0, "false",
	  offsetof(struct config, print_version), 0, 0, CONFIG_ARGS_ONLY,
	  "Print the version and exit" },
};

const size_t config_noptions_ = sizeof(config_options) /
    sizeof(*config_options);
