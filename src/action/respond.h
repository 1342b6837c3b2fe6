/* The response: subscribes to the alert lifecycle, plans actions from the
 * policy on open (and on an update that first reaches the policy's
 * severity), keeps them in force while the alert stays open, and lifts
 * them the hold time after it closes. Dry-run is the default: every action
 * is planned, logged with the exact commands and listed, and none is run.
 *
 * Threads: dr_respond_event and dr_respond_tick run on the detection
 * thread and only take a short lock; a worker thread talks to the
 * backends, retries what failed with backoff, and writes the record of
 * what is in force (the state file) after every change, so that a
 * restart reconciles the kernel's and the BGP speakers' state with it. */
#ifndef DR_ACTION_RESPOND_H
#define DR_ACTION_RESPOND_H

#include <stddef.h>
#include <stdint.h>

#include "action/action.h"
#include "detect/alert.h"

#define DR_ACTIONS_CAP 4096	/* the largest max_actions */
#define DR_RESPOND_TEXT 512	/* octets of a path or an address setting */

struct dr_respond_config {
	int act;			/* 0: dry-run (the default) */
	double hold;			/* seconds after close before lifting (default 300) */
	double ttl;			/* lifetime given to the backends, refreshed while the
					 * alert is open (default 3600) */
	unsigned max_actions;		/* in force at once (default 256) */
	int lift_on_stop;		/* 1: lift everything when the service stops */
	struct dr_policy policy;
	/* backends: "" for none */
	char firewall[16];		/* "nftables" (default) or "ipset" */
	char bgp[16];			/* "exabgp" or "gobgp"; default none */
	char hook[16];			/* nftables: "input" (default), "forward", "prerouting" */
	char table[32];			/* nftables table name (default "dnsradar") */
	char set_prefix[32];		/* ipset names' prefix (default "dnsradar") */
	char exabgp_socket[DR_RESPOND_TEXT];	/* where `dnsradar exabgp-bridge` connects */
	char gobgp_api[64];		/* gobgpd's gRPC, HOST:PORT (default 127.0.0.1:50051) */
	char gobgp_cli[DR_RESPOND_TEXT];	/* the gobgp command (default "gobgp") */
	char next_hop[64];		/* BGP next hop (default "self") */
	char community[32];		/* RTBH community (default "65535:666") */
	char rules_dir[DR_RESPOND_TEXT];	/* where rrl files go (default /var/lib/dnsradar/rules) */
	char state[DR_RESPOND_TEXT];	/* the record of what is in force
					 * (default /var/lib/dnsradar/actions.json) */
};

void dr_respond_config_defaults(struct dr_respond_config *c);

/* A setting under "respond." (or one of the short keys the service takes
 * at top level: act, allow, hold). 0, -1 with why, or 1 when the key is
 * not one of ours. */
int dr_respond_config_set(struct dr_respond_config *c, const char *key, const char *value,
			  char *why, size_t len);

/* The BGP next hop of a family from next_hop ("self", an address, or one
 * of each family with a comma between): the address's text, or `self`
 * (what the backend writes for its own address) when none is given for
 * that family. 0, or -1 when next_hop is not one of those forms. */
int dr_respond_next_hop(const struct dr_respond_config *c, int family, const char *self,
			char *buf, size_t len);

/* The state of an action in force or on its way. */
enum dr_action_state {
	DR_ACTION_PENDING = 1,	/* to be applied (or retried) */
	DR_ACTION_ACTIVE,	/* in force */
	DR_ACTION_DRY,		/* dry-run: planned, logged, not run */
	DR_ACTION_LIFTING,	/* to be lifted (or retried) */
};

extern const char *const dr_action_state_names[];

/* One action as `dnsradar actions` and the API show it. */
struct dr_action_view {
	uint64_t id;
	struct dr_action action;
	char backend[16];
	int state;		/* enum dr_action_state */
	double since;		/* wall clock: planned */
	double lift_at;		/* wall clock: when it will be lifted; 0 while the alert is open */
	unsigned tries;		/* failed attempts in a row */
	char error[160];	/* the last failure, "" none */
	char command[DR_ACTION_TEXT];	/* what apply runs */
};

struct dr_respond_stats {
	uint64_t planned, applied, lifted, failed, retried;
	uint64_t allowed;	/* not planned: an allow-listed subject */
	uint64_t capped;	/* not planned: max_actions were in force */
	uint64_t dry;		/* planned in dry-run */
	unsigned in_force;	/* now, dry-run included */
};

struct dr_respond;

/* Checks c, opens the backends it names (as root: before the service
 * drops privileges) and reads the state file. Starts no thread. 0, or
 * -1 with "SETTING: reason" in err. log (may be NULL) receives each line
 * the response logs. */
typedef void (*dr_respond_log_fn)(void *ctx, const char *line);
int dr_respond_open(struct dr_respond **r, const struct dr_respond_config *c,
		    dr_respond_log_fn log, void *logctx, char *err, size_t errlen);

/* Starts the worker: it prepares the backends and reconciles what they
 * hold with the state file. 0 or -1 with why. */
int dr_respond_start(struct dr_respond *r, char *err, size_t errlen);

/* An alert sink (dr_engine_subscribe). Never blocks on a backend. */
void dr_respond_event(void *r, enum dr_alert_event event, const struct dr_alert *a);

/* Once a second, wall clock `now`: lifts what is due. */
void dr_respond_tick(struct dr_respond *r, double now);

/* Lifts action id by hand: 0, or -1 when there is no such action. The
 * alert that planned it gets no other action of that kind while open. */
int dr_respond_lift(struct dr_respond *r, uint64_t id);

/* The actions in force or on their way, up to max; returns how many. Safe
 * from any thread. */
unsigned dr_respond_list(struct dr_respond *r, struct dr_action_view *out, unsigned max);
void dr_respond_stats(struct dr_respond *r, struct dr_respond_stats *st);
/* 1 when it acts, 0 in dry-run. */
int dr_respond_acting(const struct dr_respond *r);

/* Stops the worker (lifting everything first when lift_on_stop), writes
 * the state file and closes the backends. */
void dr_respond_close(struct dr_respond *r);

#endif
