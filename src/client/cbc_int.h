/*
 * libcontainment_breach internals shared by its files: the handle, the
 * punch attempts it runs, and the hooks between the rendezvous side
 * (cbc.c) and the punching side (cbc_punch.c).
 */
#ifndef CBC_INT_H
#define CBC_INT_H

#include <sys/queue.h>
#include <sys/socket.h>

#include <stdint.h>

#include "containment_breach.h"
#include "cbc_wire.h"

#define CBC_DEFAULT_TIMEOUT_MS	30000
#define CBC_PROBE_MS		150	/* between two rounds of probes */
#define CBC_REG_RETRY_MS	1000	/* resend while not acknowledged */
#define CBC_REG_TRIES_BEFORE_TCP 3	/* go on without an Ack after these */
#define CBC_REFRESH_MAX_S	15	/* refresh at least this often */
#define CBC_RECV_QUEUE		16	/* blocking API: datagrams held */

enum cbc_state {
	CBC_ST_IDLE,
	CBC_ST_RENDEZVOUS,	/* registering, asking, waiting */
	CBC_ST_PUNCHING,
	CBC_ST_PUNCHED,
	CBC_ST_DEAD,		/* an error was reported */
};

/* One attempt to punch toward one partner. */
struct cbc_punch {
	TAILQ_ENTRY(cbc_punch)	 entry;
	struct cbc		*c;
	char			 nonce[CBC_NONCE_LEN + 1];
	struct sockaddr_storage	 pub;		/* the partner's public */
	socklen_t		 publen;
	struct sockaddr_storage	 loc;		/* its LAN endpoint, or */
	socklen_t		 loclen;	/* 0 */
	struct event		*tick;
	uint64_t		 deadline_ms;
};

struct cbc_datagram {
	size_t			 len;
	struct sockaddr_storage	 from;
	socklen_t		 fromlen;
	char			 data[1500];
};

struct cbc {
	struct event_base	*base;
	int			 own_base;	/* blocking API */
	struct cbc_options	 opt;
	char			*server;	/* copies of option strings */
	char			*remote_ip;
	char			*bind;
	cbc_callback		 cb;
	void			*arg;
	enum cbc_state		 state;
	int			 fd;
	int			 family;
	struct event		*udp_ev;
	struct sockaddr_storage	 srv;
	socklen_t		 srvlen;
	char			 token[CBC_TOKEN_MAX + 1]; /* "": none */
	char			 reg[CBC_REG_PAD + 128];
	int			 reglen;
	struct event		*reg_timer;
	int			 reg_tries;
	int			 acked;
	struct cbc_ack		 ack;
	char			 public_ep[CBC_ENDPOINT_MAX];	/* last told */
	struct bufferevent	*bev;
	struct event		*deadline;
	struct event		*keepalive;
	char			 nonce[CBC_NONCE_LEN + 1];	/* default */
	TAILQ_HEAD(, cbc_punch)	 punches;
	struct sockaddr_storage	 peer;		/* punched partner */
	socklen_t		 peerlen;
	/* The blocking API's state. */
	struct cbc_result	*result;
	char			 err[256];
	int			 done;
	struct cbc_datagram	*queue;
	int			 qhead, qlen;
};

void		 cbc_emit(struct cbc *, struct cbc_event *);
void		 cbc_emit_public(struct cbc *, const char *, uint16_t,
		    unsigned int);
void		 cbc_fail(struct cbc *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
uint64_t	 cbc_now_ms(void);
unsigned int	 cbc_refresh_s(const struct cbc *);

int		 cbc_punch_start(struct cbc *, const struct cbc_response *);
void		 cbc_punch_free(struct cbc_punch *);
int		 cbc_punch_input(struct cbc *, const void *, size_t,
		    const struct sockaddr *, socklen_t);

#endif /* CBC_INT_H */
