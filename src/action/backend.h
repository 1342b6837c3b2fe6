/* A mitigation backend: one file, one constant table of operations, as
 * libpcap's capture sources are. The response worker (respond.c) calls
 * them on a thread of its own, never the detection thread, so a backend
 * may wait (a command, a BGP speaker's answer) for a bounded time.
 *
 * Every operation that changes something is idempotent: applying an
 * action already in force refreshes its timeout, lifting one that is not
 * there succeeds. An action's `ttl` is the lifetime the backend gives it
 * where it can (an nft or ipset element timeout), so that what dnsradar
 * put in force expires even if dnsradar is gone. */
#ifndef DR_ACTION_BACKEND_H
#define DR_ACTION_BACKEND_H

#include <stddef.h>

#include "action/action.h"

struct dr_respond_config;

/* What a backend found in force, for reconciliation after a restart. */
typedef void (*dr_backend_found_fn)(void *ctx, const struct dr_action *a, double ttl_left);

struct dr_backend {
	const char *name;		/* "nftables", "ipset", "exabgp", "gobgp", "files" */
	unsigned kinds;			/* the kinds it carries: bits of enum dr_action_kind */
	int owns_all;			/* 1: what list() reports lives where only dnsradar
					 * writes (its own table, sets, folder), so an entry
					 * no record knows is an orphan of ours to lift; 0:
					 * others write there too (a BGP speaker's RIB), and
					 * such entries are left alone */
	/* Checks the settings, opens what the backend needs (a libnftables
	 * context, a socket). May run as root before the service drops its
	 * privileges; creates nothing in the kernel yet. 0, or -1 with
	 * "SETTING: reason" in err. */
	int (*open)(void **state, const struct dr_respond_config *c, char *err, size_t errlen);
	/* Makes sure what the actions hang on exists (a table, sets, rules;
	 * created once, recreated when someone flushed them). Called before
	 * the first action and again every reconciliation. 0: ready as it
	 * was; 1: ready but empty (just created or recreated, or a new BGP
	 * speaker connection): the worker applies again everything in force;
	 * -1 with why. */
	int (*prepare)(void *state, char *err, size_t errlen);
	int (*apply)(void *state, const struct dr_action *a, double ttl, char *err, size_t errlen);
	int (*lift)(void *state, const struct dr_action *a, char *err, size_t errlen);
	/* Calls found for each action of ours in force; 0 or -1 with why.
	 * NULL: the backend cannot tell (then dnsradar's records rule). */
	int (*list)(void *state, dr_backend_found_fn found, void *ctx, char *err, size_t errlen);
	void (*close)(void *state);
	/* The exact commands apply (lift: 0 / 1) would run, one per line, as
	 * an operator would type them: what dry-run logs and `dnsradar
	 * rules` prints. Needs no state: c may carry defaults. 0, or -1 when
	 * the backend does not carry the kind. */
	int (*render)(const struct dr_respond_config *c, const struct dr_action *a, int lift,
		      double ttl, char *buf, size_t len);
	/* The setup render (the table, the sets, the rules), or NULL. */
	int (*render_setup)(const struct dr_respond_config *c, char *buf, size_t len);
};

extern const struct dr_backend dr_backend_nftables;
extern const struct dr_backend dr_backend_ipset;
extern const struct dr_backend dr_backend_exabgp;
extern const struct dr_backend dr_backend_gobgp;
extern const struct dr_backend dr_backend_files;

/* Every backend, and the one of a name (NULL when none is so named). */
extern const struct dr_backend *const dr_backends[];
const struct dr_backend *dr_backend_find(const char *name);

#endif
