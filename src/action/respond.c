/* The response: a fixed table of actions (max_actions slots) that the
 * detection thread fills from alert events under a short lock, and a
 * worker thread that brings the backends in line with it: applies what
 * is pending, refreshes timeouts while an alert holds an action, lifts
 * what is due, retries failures with backoff, and every RECONCILE_EVERY
 * seconds compares what the backends hold with the table (re-applying
 * what someone removed, lifting orphans of ours). The state file is
 * rewritten after each change. */
#include "action/respond.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <linux/capability.h>

#include "action/backend.h"
#include "action/journal.h"
#include "lib/now.h"

#define RECONCILE_EVERY 30.0	/* seconds between comparisons with the backends */
#define BACKOFF_MAX 60.0	/* the longest wait between attempts */
#define HELD_MAX DR_ALERTS_MAX	/* alerts holding actions at once */

struct slot {
	uint64_t id;			/* 0: free */
	struct dr_action action;
	int cls;			/* enum dr_action_class: which backend */
	int state;			/* enum dr_action_state */
	unsigned holders;		/* open alerts that planned it */
	double since, lift_at;		/* wall clock; lift_at 0: held */
	double applied;			/* last successful apply (wall clock), 0 never */
	double next_try;
	unsigned tries;
	char error[160];
};

/* An open alert and the actions it planned (by id: a slot may be lifted
 * by hand and reused meanwhile). */
struct held {
	uint64_t alert;			/* 0: free */
	unsigned n;
	uint64_t ids[DR_ACTIONS_PER_ALERT];
};

struct backend_slot {
	const struct dr_backend *b;	/* NULL: none of this class */
	void *state;
	int ready;			/* prepared since the last failure */
};

struct dr_respond {
	struct dr_respond_config c;
	struct backend_slot be[DR_CLASSES];
	struct slot *slots;
	struct held held[HELD_MAX];
	uint64_t next_id;
	struct dr_respond_stats st;
	dr_respond_log_fn log;
	void *logctx;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t worker;
	int started, stop, dirty;
	unsigned journal_had;		/* entries at the last write of the state file */
	unsigned unknown[DR_CLASSES];	/* entries left alone at the last comparison */
	double next_reconcile;
};

static void logf_(struct dr_respond *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(struct dr_respond *r, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (r->log)
		r->log(r->logctx, line);
}

static const char *backend_name(const struct dr_respond *r, int cls)
{
	return r->be[cls].b ? r->be[cls].b->name : "none";
}

static void command_of(const struct dr_respond *r, const struct slot *s, int lift, char *buf,
		       size_t len)
{
	const struct dr_backend *b = r->be[s->cls].b;
	if (!b || !b->render || b->render(&r->c, &s->action, lift, r->c.ttl, buf, len) < 0)
		snprintf(buf, len, "(%s cannot say)", backend_name(r, s->cls));
}

/* The commands of an action, one log line each (a Flowspec rule is two). */
static void log_commands(struct dr_respond *r, uint64_t id, const char *verb, const char *cmd)
{
	while (*cmd) {
		size_t n = strcspn(cmd, "\n");
		logf_(r, "respond: action %llu %s: %.*s", (unsigned long long)id, verb, (int)n, cmd);
		cmd += n + (cmd[n] == '\n');
	}
}

static void view_of(const struct dr_respond *r, const struct slot *s, struct dr_action_view *v)
{
	memset(v, 0, sizeof(*v));
	v->id = s->id;
	v->action = s->action;
	snprintf(v->backend, sizeof(v->backend), "%s", backend_name(r, s->cls));
	v->state = s->state;
	v->since = s->since;
	v->lift_at = s->lift_at;
	v->tries = s->tries;
	memcpy(v->error, s->error, sizeof(v->error));
	command_of(r, s, 0, v->command, sizeof(v->command));
}

/* ---- settings and opening ------------------------------------------------ */

static int open_backend(struct dr_respond *r, int cls, const char *name, char *err,
			size_t errlen)
{
	if (!name[0])
		return 0;
	const struct dr_backend *b = dr_backend_find(name);
	if (!b) {
		snprintf(err, errlen, "respond: no backend '%s'", name);
		return -1;
	}
	if (b->open(&r->be[cls].state, &r->c, err, errlen) < 0)
		return -1;
	r->be[cls].b = b;
	return 0;
}

static int class_ok(const struct dr_respond *r, int kind)
{
	const struct dr_backend *b = r->be[dr_action_class_of(kind)].b;
	return b && (b->kinds & 1u << kind);
}

static struct slot *slot_by_id(struct dr_respond *r, uint64_t id)
{
	for (unsigned i = 0; i < r->c.max_actions; i++)
		if (r->slots[i].id == id && id)
			return &r->slots[i];
	return NULL;
}

static struct slot *free_slot(struct dr_respond *r)
{
	for (unsigned i = 0; i < r->c.max_actions; i++)
		if (!r->slots[i].id)
			return &r->slots[i];
	return NULL;
}

/* What the state file holds from before a restart: actions ours to lift,
 * held by no alert now; a new alert on the same attack takes them over. */
static void restore(struct dr_respond *r, double now)
{
	struct dr_action_view *v = calloc(r->c.max_actions, sizeof(*v));
	unsigned n = 0, bad = 0;
	char err[512];
	if (!v)
		return;
	if (dr_journal_read(r->c.state, v, r->c.max_actions, &n, &bad, err, sizeof(err)) < 0) {
		char aside[DR_RESPOND_TEXT + 16];
		snprintf(aside, sizeof(aside), "%s.damaged", r->c.state);
		logf_(r, "respond: cannot read the record of actions in force: %s; kept as %s, "
		      "starting empty: what it named stays until its timeout or is lifted by hand",
		      err, rename(r->c.state, aside) == 0 ? aside : "it is");
	}
	if (bad)
		logf_(r, "respond: %s: %u entries could not be read and were skipped", r->c.state,
		      bad);
	for (unsigned i = 0; i < n; i++) {
		if (v[i].id >= r->next_id)
			r->next_id = v[i].id + 1;
		if (v[i].state == DR_ACTION_DRY)
			continue;
		int cls = dr_action_class_of(v[i].action.kind);
		if (!r->be[cls].b || strcmp(r->be[cls].b->name, v[i].backend)) {
			logf_(r, "respond: action %llu (%s) was put in force with %s, which is not "
			      "configured now: lift it by hand", (unsigned long long)v[i].id,
			      v[i].command, v[i].backend);
			continue;
		}
		struct slot *s = free_slot(r);
		if (!s) {
			logf_(r, "respond: %u actions from before the restart do not fit max_actions = %u: "
			      "lift them by hand (%s)", n - i, r->c.max_actions, r->c.state);
			break;
		}
		memset(s, 0, sizeof(*s));
		s->id = v[i].id;
		s->action = v[i].action;
		s->cls = cls;
		s->since = v[i].since;
		/* in force: refreshed at once (and applied again if it is missing);
		 * in dry-run now, or its hold over: lifted */
		s->state = DR_ACTION_ACTIVE;
		s->applied = 1;
		s->lift_at = v[i].lift_at > 0 ? v[i].lift_at : now + r->c.hold;
		if (s->lift_at <= now || v[i].state == DR_ACTION_LIFTING || !r->c.act)
			s->state = DR_ACTION_LIFTING;
		r->st.in_force++;
	}
	r->journal_had = n;
	if (n)
		logf_(r, "respond: %u actions from before the restart; those in force are kept "
		      "until their hold ends, and checked against the backends", r->st.in_force);
	free(v);
}

int dr_respond_open(struct dr_respond **out, const struct dr_respond_config *c,
		    dr_respond_log_fn log, void *logctx, char *err, size_t errlen)
{
	struct dr_respond *r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(err, errlen, "respond: out of memory");
		return -1;
	}
	r->c = *c;
	r->log = log;
	r->logctx = logctx;
	r->next_id = 1;
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	if (!(r->slots = calloc(c->max_actions, sizeof(*r->slots)))) {
		snprintf(err, errlen, "respond: out of memory");
		goto fail;
	}
	if (open_backend(r, DR_CLASS_FIREWALL, c->firewall, err, errlen) < 0 ||
	    open_backend(r, DR_CLASS_BGP, c->bgp, err, errlen) < 0 ||
	    open_backend(r, DR_CLASS_SERVER, "files", err, errlen) < 0)
		goto fail;
	restore(r, dr_wall_now());
	*out = r;
	return 0;
fail:
	dr_respond_close(r);
	return -1;
}

/* ---- the detection thread's side ---------------------------------------- */

static struct held *held_of(struct dr_respond *r, uint64_t alert, int make)
{
	struct held *spare = NULL;
	for (unsigned i = 0; i < HELD_MAX; i++) {
		if (r->held[i].alert == alert)
			return &r->held[i];
		if (!r->held[i].alert && !spare)
			spare = &r->held[i];
	}
	if (make && spare) {
		memset(spare, 0, sizeof(*spare));
		spare->alert = alert;
		return spare;
	}
	return NULL;
}

static void plan(struct dr_respond *r, const struct dr_alert *a, double now)
{
	struct dr_action want[DR_ACTIONS_PER_ALERT];
	unsigned allowed = 0;
	const struct dr_policy_rule *rule = dr_policy_rule_for(&r->c.policy, a->type);
	if (!rule || !rule->kinds || a->severity < rule->min_severity)
		return;	/* not yet: an update at a higher severity may plan */
	struct held *h = held_of(r, a->id, 1);
	if (!h) {
		logf_(r, "respond: alert %llu: more than %d alerts hold actions; none planned",
		      (unsigned long long)a->id, HELD_MAX);
		return;
	}
	unsigned n = dr_policy_plan(&r->c.policy, a, want, DR_ACTIONS_PER_ALERT, &allowed);
	r->st.allowed += allowed;
	if (allowed)
		logf_(r, "respond: alert %llu %s %s: %u action%s not planned: the allowlist covers "
		      "the address", (unsigned long long)a->id, a->type, a->key, allowed,
		      allowed == 1 ? "" : "s");
	for (unsigned i = 0; i < n && h->n < DR_ACTIONS_PER_ALERT; i++) {
		char what[256], cmd[DR_ACTION_TEXT];
		if (!class_ok(r, want[i].kind))
			continue;	/* no backend of its class is configured */
		dr_action_describe(&want[i], what, sizeof(what));
		struct slot *s = NULL;
		/* in dry-run only a dry plan is shared: one from a run that acted,
		 * being lifted, must not be put in force again */
		for (unsigned j = 0; j < r->c.max_actions && !s; j++)
			if (r->slots[j].id && dr_action_same(&r->slots[j].action, &want[i]) &&
			    (r->c.act || r->slots[j].state == DR_ACTION_DRY))
				s = &r->slots[j];
		if (s) {	/* another alert's, or one from before a restart */
			s->holders++;
			s->lift_at = 0;
			if (s->state == DR_ACTION_LIFTING) {
				s->state = DR_ACTION_PENDING;
				s->next_try = 0;
			}
			h->ids[h->n++] = s->id;
			r->dirty = 1;
			continue;
		}
		if (!(s = free_slot(r))) {
			r->st.capped++;
			logf_(r, "respond: alert %llu %s %s: %s not planned: %u actions are in force "
			      "(max_actions)", (unsigned long long)a->id, a->type, a->key, what,
			      r->c.max_actions);
			continue;
		}
		memset(s, 0, sizeof(*s));
		s->id = r->next_id++;
		s->action = want[i];
		s->cls = dr_action_class_of(want[i].kind);
		s->holders = 1;
		s->since = now;
		s->state = r->c.act ? DR_ACTION_PENDING : DR_ACTION_DRY;
		h->ids[h->n++] = s->id;
		r->st.planned++;
		r->st.in_force++;
		command_of(r, s, 0, cmd, sizeof(cmd));
		if (!r->c.act)
			r->st.dry++;
		logf_(r, "respond: %saction %llu for alert %llu %s %s: %s", r->c.act ? "" : "dry-run: ",
		      (unsigned long long)s->id, (unsigned long long)a->id, a->type, a->key, what);
		log_commands(r, s->id, r->c.act ? "runs" : "would run", cmd);
		r->dirty = 1;
	}
}

static void free_slot_now(struct dr_respond *r, struct slot *s)
{
	s->id = 0;
	r->st.in_force--;
	r->dirty = 1;
}

/* The alert that held the slot is over: hold, then lift. */
static void release(struct dr_respond *r, struct slot *s, double now)
{
	if (s->holders)
		s->holders--;
	if (s->holders)
		return;
	s->lift_at = now + r->c.hold;
	r->dirty = 1;
}

void dr_respond_event(void *ctx, enum dr_alert_event event, const struct dr_alert *a)
{
	struct dr_respond *r = ctx;
	double now = dr_wall_now();
	pthread_mutex_lock(&r->mu);
	struct held *h = held_of(r, a->id, 0);
	if (event == DR_EVENT_CLOSE) {
		if (h) {
			for (unsigned i = 0; i < h->n; i++) {
				struct slot *s = slot_by_id(r, h->ids[i]);
				if (s)
					release(r, s, now);
			}
			h->alert = 0;
		}
	} else if (!h) {
		/* the first event at the policy's severity plans; later ones do not:
		 * an action lifted by hand stays lifted while its alert is open */
		plan(r, a, now);
	}
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

/* Due: a dry-run plan ends (said, and freed), a real one goes to the
 * worker to be lifted. */
static void start_lift(struct dr_respond *r, struct slot *s)
{
	if (s->state == DR_ACTION_DRY) {
		char what[256], cmd[DR_ACTION_TEXT];
		dr_action_describe(&s->action, what, sizeof(what));
		command_of(r, s, 1, cmd, sizeof(cmd));
		logf_(r, "respond: dry-run: action %llu ends: %s", (unsigned long long)s->id, what);
		log_commands(r, s->id, "would run", cmd);
		free_slot_now(r, s);
		return;
	}
	s->state = DR_ACTION_LIFTING;
	s->next_try = 0;
	s->tries = 0;
	r->dirty = 1;
}

void dr_respond_tick(struct dr_respond *r, double now)
{
	pthread_mutex_lock(&r->mu);
	for (unsigned i = 0; i < r->c.max_actions; i++) {
		struct slot *s = &r->slots[i];
		if (!s->id || s->holders || !s->lift_at || s->lift_at > now)
			continue;
		if (s->state != DR_ACTION_LIFTING)
			start_lift(r, s);
	}
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

int dr_respond_lift(struct dr_respond *r, uint64_t id)
{
	pthread_mutex_lock(&r->mu);
	struct slot *s = slot_by_id(r, id);
	if (s) {
		char what[256];
		dr_action_describe(&s->action, what, sizeof(what));
		logf_(r, "respond: action %llu lifted by hand: %s", (unsigned long long)id, what);
		s->holders = 0;
		s->lift_at = dr_wall_now();
		/* the alerts that held it hold it no more: a close must not take
		 * a hold away from an alert that plans it again meanwhile */
		for (unsigned i = 0; i < HELD_MAX; i++)
			for (unsigned k = 0; r->held[i].alert && k < r->held[i].n; k++)
				if (r->held[i].ids[k] == id)
					r->held[i].ids[k] = 0;
		start_lift(r, s);
		pthread_cond_signal(&r->cv);
	}
	pthread_mutex_unlock(&r->mu);
	return s ? 0 : -1;
}

unsigned dr_respond_list(struct dr_respond *r, struct dr_action_view *out, unsigned max)
{
	unsigned n = 0;
	pthread_mutex_lock(&r->mu);
	for (unsigned i = 0; i < r->c.max_actions && n < max; i++)
		if (r->slots[i].id)
			view_of(r, &r->slots[i], &out[n++]);
	pthread_mutex_unlock(&r->mu);
	return n;
}

void dr_respond_stats(struct dr_respond *r, struct dr_respond_stats *st)
{
	pthread_mutex_lock(&r->mu);
	*st = r->st;
	pthread_mutex_unlock(&r->mu);
}

int dr_respond_acting(const struct dr_respond *r)
{
	return r->c.act;
}

/* ---- the worker ------------------------------------------------------------ */

static void write_state(struct dr_respond *r)
{
	struct dr_action_view *v = calloc(r->c.max_actions, sizeof(*v));
	char err[512];
	unsigned n = 0;
	if (!v)
		return;
	pthread_mutex_lock(&r->mu);
	r->dirty = 0;
	for (unsigned i = 0; i < r->c.max_actions; i++)
		if (r->slots[i].id && r->slots[i].state != DR_ACTION_DRY)
			view_of(r, &r->slots[i], &v[n++]);
	pthread_mutex_unlock(&r->mu);
	/* dry-run plans are not kept: with nothing in force now or at the
	 * last write, there is no file to write */
	if ((n || r->journal_had) &&
	    dr_journal_write(r->c.state, v, n, err, sizeof(err)) < 0)
		logf_(r, "respond: cannot write the record of actions in force: %s", err);
	else
		r->journal_had = n;
	free(v);
}

/* A slot the worker should work on now; its copy in *w. */
static struct slot *next_work(struct dr_respond *r, double now, struct slot *w)
{
	for (unsigned i = 0; i < r->c.max_actions; i++) {
		struct slot *s = &r->slots[i];
		if (!s->id || s->next_try > now || !r->be[s->cls].b)
			continue;
		int refresh = s->state == DR_ACTION_ACTIVE && s->applied > 0 &&
			      now - s->applied >= r->c.ttl / 2;
		if (s->state == DR_ACTION_PENDING || s->state == DR_ACTION_LIFTING || refresh) {
			*w = *s;
			return s;
		}
	}
	return NULL;
}

static void failed(struct dr_respond *r, struct slot *s, const char *what, const char *err,
		   double now)
{
	s->tries++;
	double wait = 1;
	for (unsigned i = 1; i < s->tries && wait < BACKOFF_MAX; i++)
		wait *= 2;
	if (wait > BACKOFF_MAX)
		wait = BACKOFF_MAX;
	s->next_try = now + wait;
	snprintf(s->error, sizeof(s->error), "%s", err);
	r->st.failed++;
	if (s->tries > 1)
		r->st.retried++;
	r->be[s->cls].ready = 0;	/* prepare again before the next try */
	logf_(r, "respond: action %llu: %s failed (attempt %u, next in %.0f s): %s",
	      (unsigned long long)s->id, what, s->tries, wait, err);
}

/* After prepare said the backend is empty (1), what was in force of its
 * class is applied again; `except` is being worked on. */
static void again_all(struct dr_respond *r, int cls, uint64_t except, int empty)
{
	unsigned again = 0;
	for (unsigned i = 0; empty && i < r->c.max_actions; i++) {
		struct slot *s = &r->slots[i];
		if (s->id && s->id != except && s->cls == cls && s->state == DR_ACTION_ACTIVE) {
			s->state = DR_ACTION_PENDING;
			s->next_try = 0;
			again++;
		}
	}
	if (again)
		logf_(r, "respond: %s was empty (flushed, or a restart of it): applying %u "
		      "actions again", r->be[cls].b->name, again);
}

/* One apply or lift, the lock released around the backend's call. */
static void work(struct dr_respond *r, struct slot *s, const struct slot *w)
{
	struct backend_slot *be = &r->be[w->cls];
	char err[512] = "";
	int lift = w->state == DR_ACTION_LIFTING, rc = 0, prep = 0, prepared = be->ready;
	pthread_mutex_unlock(&r->mu);
	if (!prepared) {
		rc = prep = be->b->prepare ? be->b->prepare(be->state, err, sizeof(err)) : 0;
		if (prep >= 0)
			be->ready = 1;
	}
	if (rc >= 0)
		rc = lift ? be->b->lift(be->state, &w->action, err, sizeof(err))
			  : be->b->apply(be->state, &w->action, r->c.ttl, err, sizeof(err));
	double now = dr_wall_now();
	pthread_mutex_lock(&r->mu);
	if (prep == 1)	/* found empty: the rest of its class goes in again */
		again_all(r, w->cls, w->id, 1);
	if (s->id != w->id)	/* lifted by hand meanwhile, and freed */
		return;
	if (rc < 0) {
		failed(r, s, lift ? "lifting" : "applying", err, now);
	} else if (lift && s->state == DR_ACTION_LIFTING) {
		char what[256];
		dr_action_describe(&s->action, what, sizeof(what));
		logf_(r, "respond: action %llu lifted: %s", (unsigned long long)s->id, what);
		r->st.lifted++;
		free_slot_now(r, s);
	} else if (!lift && s->state == DR_ACTION_PENDING) {
		if (!s->applied)
			r->st.applied++;
		s->state = DR_ACTION_ACTIVE;
		s->applied = now;
		s->tries = 0;
		s->error[0] = 0;
	} else if (!lift) {
		s->applied = now;	/* a refresh */
	}
	r->dirty = 1;
}

/* What a backend listed, gathered without the lock (listing may take a
 * command's time) and compared with the table under it. */
struct found_ctx {
	struct dr_action *a;
	unsigned n, cap, more;
};

static void on_found(void *ctx, const struct dr_action *a, double ttl_left)
{
	struct found_ctx *f = ctx;
	(void)ttl_left;
	if (f->n < f->cap)
		f->a[f->n++] = *a;
	else
		f->more++;
}

/* Compares one backend with the table: re-applies what is missing, lifts
 * orphans of ours (entries no slot holds). Called with the lock held;
 * releases it around the backend's calls. Only this thread applies, so
 * what was listed is still there when it is compared. */
static void reconcile(struct dr_respond *r, int cls)
{
	struct backend_slot *be = &r->be[cls];
	char err[512] = "";
	if (!be->b)
		return;
	if (!r->c.act) {	/* dry-run: nothing to compare but what a run that acted left */
		unsigned real = 0;
		for (unsigned i = 0; i < r->c.max_actions; i++)
			real += r->slots[i].id && r->slots[i].cls == cls &&
				r->slots[i].state != DR_ACTION_DRY;
		if (!real)
			return;
	}
	struct found_ctx f = {.cap = r->c.max_actions + 256};
	uint8_t *seen = calloc(r->c.max_actions, 1);
	pthread_mutex_unlock(&r->mu);
	int rc = be->b->prepare ? be->b->prepare(be->state, err, sizeof(err)) : 0;
	int listed = 0;
	if (rc == 0 && be->b->list && (f.a = calloc(f.cap, sizeof(*f.a)))) {
		listed = be->b->list(be->state, on_found, &f, err, sizeof(err)) == 0;
		if (!listed)
			rc = -2;
	}
	pthread_mutex_lock(&r->mu);
	if (rc < 0 || !seen || (rc == 0 && be->b->list && !f.a)) {
		be->ready = rc == -2;
		logf_(r, "respond: %s: %s%s", be->b->name, rc == -2 ? "cannot list what it holds: " :
		      rc < 0 ? "not ready: " : "", rc < 0 ? err : "out of memory");
		goto out;
	}
	be->ready = 1;
	/* the entries no slot of this class holds are orphans, moved to the front */
	unsigned orphans = 0;
	for (unsigned k = 0; k < f.n; k++) {
		unsigned i;
		for (i = 0; i < r->c.max_actions; i++) {
			struct slot *s = &r->slots[i];
			if (s->id && s->cls == cls && s->state != DR_ACTION_DRY &&
			    dr_action_same(&s->action, &f.a[k]))
				break;
		}
		if (i < r->c.max_actions)
			seen[i] = 1;
		else
			f.a[orphans++] = f.a[k];
	}
	if (rc == 1 || listed) {	/* else the backend cannot tell: the record rules */
		unsigned again = 0;
		for (unsigned i = 0; i < r->c.max_actions; i++) {
			struct slot *s = &r->slots[i];
			if (s->id && s->cls == cls && s->state == DR_ACTION_ACTIVE && !seen[i]) {
				s->state = DR_ACTION_PENDING;
				s->next_try = 0;
				again++;
			}
		}
		if (again)
			logf_(r, "respond: %u actions were missing from %s (flushed, expired or a "
			      "restart of it); applying them again", again, be->b->name);
	}
	if ((orphans || f.more) && (!be->b->owns_all || !r->c.act)) {
		/* not surely ours (a route someone else announced), or dry-run,
		 * which changes nothing: said, and left alone */
		if (orphans + f.more != r->unknown[cls])
			logf_(r, "respond: %u entries in %s look like ours but no record knows them: "
			      "left alone%s", orphans + f.more, be->b->name,
			      r->c.act ? " (others write there too)" : " (dry-run)");
		r->unknown[cls] = orphans + f.more;
	} else if (orphans || f.more) {
		logf_(r, "respond: %u entries in %s are not in the record: lifting them",
		      orphans + f.more, be->b->name);
		pthread_mutex_unlock(&r->mu);
		for (unsigned i = 0; i < orphans; i++)
			if (be->b->lift(be->state, &f.a[i], err, sizeof(err)) < 0)
				logf_(r, "respond: cannot lift an orphan in %s: %s", be->b->name, err);
		pthread_mutex_lock(&r->mu);
		if (f.more)
			r->next_reconcile = 0;	/* the rest next time */
	}
out:
	free(f.a);
	free(seen);
}

static void *worker(void *arg)
{
	struct dr_respond *r = arg;
	/* capabilities are a thread's own: the commands this thread runs
	 * (ipset, iptables) get the ones the service kept for the firewall,
	 * and no other thread's children (exec hooks) do. Fails, harmlessly,
	 * where they were not kept. */
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_ADMIN, 0, 0);
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_RAW, 0, 0);
	pthread_mutex_lock(&r->mu);
	while (!r->stop) {
		double now = dr_wall_now();
		struct slot w, *s;
		if (now >= r->next_reconcile) {
			r->next_reconcile = now + RECONCILE_EVERY;
			for (int cls = 0; cls < DR_CLASSES; cls++)
				reconcile(r, cls);
			continue;
		}
		if ((s = next_work(r, now, &w))) {
			work(r, s, &w);
			continue;
		}
		if (r->dirty) {
			pthread_mutex_unlock(&r->mu);
			write_state(r);
			pthread_mutex_lock(&r->mu);
			continue;
		}
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&r->cv, &r->mu, &ts);
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

int dr_respond_start(struct dr_respond *r, char *err, size_t errlen)
{
	if (pthread_create(&r->worker, NULL, worker, r) != 0) {
		snprintf(err, errlen, "respond: cannot start its thread");
		return -1;
	}
	r->started = 1;
	return 0;
}

void dr_respond_close(struct dr_respond *r)
{
	if (!r)
		return;
	if (r->started) {
		pthread_mutex_lock(&r->mu);
		r->stop = 1;
		pthread_cond_signal(&r->cv);
		pthread_mutex_unlock(&r->mu);
		pthread_join(r->worker, NULL);
		if (r->c.lift_on_stop) {
			for (unsigned i = 0; i < r->c.max_actions; i++) {
				struct slot *s = &r->slots[i];
				char e[512];
				if (!s->id || s->state == DR_ACTION_DRY || !r->be[s->cls].b)
					continue;
				struct backend_slot *be = &r->be[s->cls];
				if (be->b->lift(be->state, &s->action, e, sizeof(e)) < 0) {
					logf_(r, "respond: stopping: cannot lift action %llu: %s",
					      (unsigned long long)s->id, e);
					continue;
				}
				free_slot_now(r, s);
			}
		}
		write_state(r);
	}
	for (int cls = 0; cls < DR_CLASSES; cls++)
		if (r->be[cls].b)
			r->be[cls].b->close(r->be[cls].state);
	free(r->slots);
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
	free(r);
}
