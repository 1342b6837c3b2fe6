/* dnsradar run: opens everything it was told to (captures, sockets, the
 * store, the alert log, the HTTP socket) as whoever started it, drops
 * root, then starts its threads and reads until told to stop. The
 * detection thread is the only one that touches the engine: it ticks the
 * clock, hands the minute to the store, publishes the metrics and
 * reloads the configuration, all from the pipeline's once-a-second
 * clock callback. */
#define _GNU_SOURCE	/* sigabbrev_np */
#include "service/service.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cap-ng.h>
#include <systemd/sd-daemon.h>

#include "action/respond.h"
#include "core/pipeline.h"
#include "lib/geo.h"
#include "lib/now.h"
#include "service/http.h"
#include "service/metrics.h"
#include "service/outputs.h"
#include "service/privs.h"
#include "store/store.h"

#define LIVE_LATENESS 2		/* seconds a packet may come late: two
				 * interfaces, two threads */
#define DR_SERVICE_MAX_AHEAD 300	/* seconds a record's time may be past the wall
				 * clock (exporters' clocks drift) */
#define CLOSE_DEADLINE 5.0	/* seconds the outputs may take to drain */

struct service {
	const struct dr_service_args *args;
	struct dr_service_config *cfg;	/* in force */
	struct dr_engine *engine;	/* running: never moves (detectors keep
					 * pointers into it) */
	struct dr_geo geo;
	struct dr_store *store;
	struct dr_outputs *outputs;
	struct dr_http *http;
	struct dr_respond *respond;
	struct dr_metrics_board board;
	struct dr_pipeline *p;
	struct dr_privs privs;
	char *ifaces[DR_IFACES_MAX];
	char *listen[DR_LISTEN_MAX];
	uint64_t opened[DR_DETECTORS_MAX];
	uint64_t open_now[DR_DETECTORS_MAX];
	uint64_t reloads, reload_failures;
	double started;
	double last_status;	/* wall clock of the last STATUS= to systemd */
	int watchdog;		/* systemd asked for keep-alive pings */
	/* what was last said of ClickHouse: reachable or not, drops */
	int ch_said_down, ch_said_up;
	uint64_t ch_said_dropped, ch_said_errors;
	double ch_said_when, ch_said_refused;
};

static volatile sig_atomic_t reload_asked;

static void on_hup(int sig)
{
	(void)sig;
	reload_asked = 1;
}

/* What the service says while running goes to stderr: the journal under
 * systemd, the terminal otherwise. */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;
	flockfile(stderr);	/* the response's worker says things too */
	fputs("dnsradar: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	funlockfile(stderr);
}

/* "signal SIGTERM", for the runs table. */
static const char *signal_how(int sig)
{
	static char buf[32];
	const char *abbrev = sigabbrev_np(sig);
	snprintf(buf, sizeof(buf), "signal SIG%s", abbrev ? abbrev : "?");
	return buf;
}

static void print_mistake(void *ctx, const char *file, unsigned line, const char *why)
{
	(void)ctx;
	if (line)
		say("%s:%u: %s", file, line, why);
	else
		say("%s: %s", file, why);
}

int dr_service_configure(struct dr_service_config *c, const struct dr_service_args *args)
{
	int mistakes = 0;
	char why[1024];
	dr_service_config_defaults(c);
	if (args->config) {
		mistakes = dr_service_config_load(c, args->config, print_mistake, NULL);
		if (mistakes < 0)
			return -1;
	}
	for (unsigned i = 0; i < args->nflags; i++) {
		const char *key = args->flag[i].key, *value = args->flag[i].value;
		if (dr_service_config_set(c, key, value, why, sizeof(why)) != 0) {
			say("--%s %s: %s", key, value, why);
			mistakes++;
		}
	}
	if (!mistakes && dr_service_config_check(c, why, sizeof(why)) < 0) {
		say("%s", why);
		mistakes++;
	}
	return mistakes;
}

static int detector_index(const char *type)
{
	for (unsigned i = 0; i < dr_ndetectors && i < DR_DETECTORS_MAX; i++)
		if (!strcmp(dr_detectors[i]->name, type))
			return (int)i;
	return -1;
}

/* The engine's one subscriber: the store first (history is what the
 * operator looks at after the fact), then the outputs, then the counts. */
static void on_event(void *ctx, enum dr_alert_event event, const struct dr_alert *a)
{
	struct service *s = ctx;
	if (s->store)
		dr_store_event(s->store, event, a);
	if (s->outputs)
		dr_outputs_event(s->outputs, event, a);
	if (s->respond)
		dr_respond_event(s->respond, event, a);
	int i = detector_index(a->type);
	if (i < 0)
		return;
	if (event == DR_EVENT_OPEN) {
		s->opened[i]++;
		s->open_now[i]++;
	} else if (event == DR_EVENT_CLOSE && s->open_now[i]) {
		s->open_now[i]--;
	}
}

static void on_record(void *ctx, const struct dr_record *r)
{
	struct service *s = ctx;
	dr_engine_record(s->engine, (struct dr_record *)r);
	if (s->store)
		dr_store_record(s->store, r);
}

/* ClickHouse going away and coming back, and a spool that drops, are
 * said once each, not at every attempt. */
static void clickhouse_say(struct service *s, const struct dr_ch_stats *c)
{
	uint64_t dropped = 0;
	for (int t = 0; t < DR_CH_NTABLES; t++)
		dropped += c->spool_dropped_rows[t];
	if (!c->connected && c->last_error[0] && !s->ch_said_down) {
		say("%s; batches are spooled until it answers", c->last_error);
		s->ch_said_down = 1;
		s->ch_said_up = 0;
	} else if (c->connected && c->migrated && !s->ch_said_up) {
		say("clickhouse: connected, schema in place; %" PRIu64 " batches spooled",
		    c->spool_batches);
		s->ch_said_up = 1;
		s->ch_said_down = 0;
	}
	double now = dr_wall_now();
	/* reachable but refusing (read-only, out of room, a bad batch): said
	 * once a minute at most, while it lasts */
	if (c->connected && c->send_errors > s->ch_said_errors && c->last_error[0] &&
	    now - s->ch_said_refused >= 60) {
		say("%s (ClickHouse refused it; it is tried again)", c->last_error);
		s->ch_said_refused = now;
	}
	s->ch_said_errors = c->send_errors;
	if (dropped > s->ch_said_dropped && now - s->ch_said_when >= 60) {
		say("clickhouse: the spool is full (clickhouse.spool_max): %" PRIu64 " rows of"
		    " records and aggregates dropped so far, alert events kept", dropped);
		s->ch_said_dropped = dropped;
		s->ch_said_when = now;
	}
}

static void publish_metrics(struct service *s, int64_t now)
{
	struct dr_metrics *m = malloc(sizeof(*m));
	if (!m)
		return;
	memset(m, 0, sizeof(*m));
	m->started = s->started;
	m->now = dr_wall_now();
	m->engine_clock = now == DR_PIPELINE_NO_CLOCK ? 0 : now;
	const struct dr_pipeline_counters *pc = dr_pipeline_counters(s->p);
	memcpy(m->ifaces, pc->ifaces, sizeof(m->ifaces));
	m->nifaces = pc->nifaces;
	memcpy(m->sockets, pc->sockets, sizeof(m->sockets));
	m->nsockets = pc->nsockets;
	m->decode = pc->decode;
	m->flows = pc->flows;
	m->records_ahead = pc->ahead;
	m->records[0] = s->engine->records[0];
	m->records[1] = s->engine->records[1];
	m->losses = dr_engine_losses(s->engine);
	m->reorder_depth = s->engine->reorder.n;
	m->reorder_cap = s->engine->reorder_cap;
	m->ndetectors = dr_engine_ndetectors(s->engine);
	for (unsigned i = 0; i < m->ndetectors; i++) {
		m->detector[i] = dr_engine_detector_name(s->engine, i);
		m->alerts_opened[i] = s->opened[i];
		m->alerts_open[i] = s->open_now[i];
	}
	m->alerts_dropped = s->engine->alerts.dropped;
	if (s->store) {
		m->have_store = 1;
		dr_store_stats(s->store, &m->store);
		if (m->store.have_clickhouse)
			clickhouse_say(s, &m->store.clickhouse);
	}
	if (s->outputs)
		m->noutputs = dr_outputs_stats(s->outputs, m->outputs, DR_METRIC_OUTPUTS);
	if (s->respond) {
		m->have_respond = 1;
		m->respond_act = s->cfg->respond.act;
		dr_respond_stats(s->respond, &m->respond);
	}
	m->reloads = s->reloads;
	m->reload_failures = s->reload_failures;
	pthread_mutex_lock(&s->board.lock);
	m->http_requests = s->board.m.http_requests;	/* the HTTP thread's own */
	m->http_errors = s->board.m.http_errors;
	s->board.m = *m;
	pthread_mutex_unlock(&s->board.lock);
	free(m);
}

/* A reload: thresholds and roles take effect at once, without touching
 * the detectors' tables; a table's size, a detector switched on or off
 * and the decoders' settings wait for a restart, and so do the inputs,
 * the store's file, the HTTP address and the user: each is said. */
static void note_restart(const char *what)
{
	say("reload: %s changed; it takes effect when the service restarts", what);
}

static void apply_engine(struct service *s, const struct dr_engine *want)
{
	struct dr_engine *e = s->engine;
	for (unsigned i = 0; i < e->n; i++) {
		const struct dr_detector *d = dr_detectors[i];
		if (want->enabled[i] != e->enabled[i]) {
			char what[64];
			snprintf(what, sizeof(what), "%s.enabled", d->name);
			note_restart(what);
		}
		for (unsigned p = 0; p < d->nparams; p++) {
			if (want->values[i][p] == e->values[i][p])
				continue;
			if (d->params[p].kind == DR_PARAM_CAPACITY) {
				char what[96];
				snprintf(what, sizeof(what), "%s.%s (a table's size)", d->name,
					 d->params[p].name);
				note_restart(what);
				continue;
			}
			say("reload: %s.%s = %g (was %g)", d->name, d->params[p].name,
			    want->values[i][p], e->values[i][p]);
			e->values[i][p] = want->values[i][p];
		}
	}
	if (memcmp(want->decode_values, e->decode_values, sizeof(e->decode_values)))
		note_restart("a decode.* setting");
	if (memcmp(want->flow_values, e->flow_values, sizeof(e->flow_values)))
		note_restart("a flow.* setting");
	if (memcmp(&want->roles, &e->roles, sizeof(e->roles))) {
		e->roles = want->roles;
		say("reload: roles now %u local, %u resolver, %u authoritative prefixes",
		    e->roles.nlocal, e->roles.nresolvers, e->roles.nauthoritative);
	}
}

static int same_outputs(const struct dr_service_config *a, const struct dr_service_config *b)
{
	return !strcmp(a->alert_log, b->alert_log) && a->syslog == b->syslog &&
	       !strcmp(a->syslog_facility, b->syslog_facility) &&
	       !strcmp(a->webhook, b->webhook) && !strcmp(a->webhook_header, b->webhook_header) &&
	       a->webhook_timeout == b->webhook_timeout && a->webhook_queue == b->webhook_queue &&
	       a->webhook_backoff == b->webhook_backoff &&
	       a->webhook_retries == b->webhook_retries && !strcmp(a->exec, b->exec) &&
	       a->exec_timeout == b->exec_timeout;
}

/* 1 when the outputs want describes are the ones in force now. */
static int apply_outputs(struct service *s, const struct dr_service_config *want)
{
	char why[1024];
	if (same_outputs(s->cfg, want)) {	/* the log may have been rotated */
		if (s->outputs && dr_outputs_reopen(s->outputs, why, sizeof(why)) < 0)
			say("reload: %s", why);
		return 0;
	}
	struct dr_output_config oc;
	struct dr_outputs *fresh = NULL;
	dr_service_output_config(want, &oc);
	if (dr_outputs_open(&fresh, &oc, -1, -1, why, sizeof(why)) < 0 ||
	    dr_outputs_start(fresh, why, sizeof(why)) < 0) {
		say("reload: the outputs stay as they were: %s", why);
		if (fresh)
			dr_outputs_close(fresh, 0);
		s->reload_failures++;
		return 0;
	}
	struct dr_outputs *old = s->outputs;
	s->outputs = fresh;
	if (old)
		dr_outputs_close(old, 1.0);
	say("reload: alert outputs reopened");
	return 1;
}

static void reload(struct service *s)
{
	char why[1024];
	struct dr_service_config *want = malloc(sizeof(*want));
	sd_notify(0, "RELOADING=1");
	if (!want) {
		s->reload_failures++;
		goto done;
	}
	int mistakes = dr_service_configure(want, s->args);
	if (mistakes != 0) {
		say("reload refused: %s; the configuration in force stays",
		    mistakes < 0 ? "the file cannot be read" : "mistakes above");
		s->reload_failures++;
		goto done;
	}
	const struct dr_service_config *c = s->cfg;
	if (c->nifaces != want->nifaces || memcmp(c->ifaces, want->ifaces, sizeof(c->ifaces)))
		note_restart("interface");
	if (c->nlisten != want->nlisten || memcmp(c->listen, want->listen, sizeof(c->listen)))
		note_restart("listen");
	if (strcmp(c->bpf, want->bpf) || c->snaplen != want->snaplen ||
	    c->capture_buffer != want->capture_buffer || c->rcvbuf != want->rcvbuf ||
	    memcmp(c->dns_ports, want->dns_ports, sizeof(c->dns_ports)) ||
	    memcmp(c->flow_ports, want->flow_ports, sizeof(c->flow_ports)) ||
	    c->flows != want->flows || c->threads != want->threads)
		note_restart("a capture setting (bpf, snaplen, capture_buffer, rcvbuf, ports, threads)");
	if (strcmp(c->store, want->store))
		note_restart("store");
	if (strcmp(c->clickhouse, want->clickhouse) ||
	    strcmp(c->clickhouse_sensor, want->clickhouse_sensor) ||
	    strcmp(c->clickhouse_spool, want->clickhouse_spool) ||
	    strcmp(c->clickhouse_cluster, want->clickhouse_cluster) ||
	    memcmp(c->clickhouse_values, want->clickhouse_values, sizeof(c->clickhouse_values)))
		note_restart("a clickhouse setting");
	if (strcmp(c->http, want->http) || strcmp(c->http_token, want->http_token))
		note_restart("http");
	if (strcmp(c->user, want->user))
		note_restart("user");
	if (strcmp(c->geoip, want->geoip) || strcmp(c->asn, want->asn))
		note_restart("geoip or asn");
	if (memcmp(&c->respond, &want->respond, sizeof(c->respond)))
		note_restart("a response setting (act, allow, hold, respond.*)");
	apply_engine(s, &want->engine);
	if (s->store && memcmp(c->store_values, want->store_values, sizeof(c->store_values)) &&
	    dr_store_reconfigure(s->store, want->store_values, why, sizeof(why)) < 0) {
		say("reload: %s", why);
		/* the rest took effect; the queue's size waits for a restart */
		want->store_values[DR_STORE_QUEUE] = c->store_values[DR_STORE_QUEUE];
	}
	int outputs_changed = apply_outputs(s, want);
	/* what is in force now: the new file, but for what waits */
	memcpy(s->cfg->store_values, want->store_values, sizeof(want->store_values));
	memcpy(&s->cfg->engine.values, &s->engine->values, sizeof(s->engine->values));
	s->cfg->engine.roles = s->engine->roles;
	if (outputs_changed) {
		memcpy(s->cfg->alert_log, want->alert_log, sizeof(want->alert_log));
		s->cfg->syslog = want->syslog;
		memcpy(s->cfg->syslog_facility, want->syslog_facility, sizeof(want->syslog_facility));
		memcpy(s->cfg->webhook, want->webhook, sizeof(want->webhook));
		memcpy(s->cfg->webhook_header, want->webhook_header, sizeof(want->webhook_header));
		s->cfg->webhook_timeout = want->webhook_timeout;
		s->cfg->webhook_backoff = want->webhook_backoff;
		s->cfg->webhook_queue = want->webhook_queue;
		s->cfg->webhook_retries = want->webhook_retries;
		memcpy(s->cfg->exec, want->exec, sizeof(want->exec));
		s->cfg->exec_timeout = want->exec_timeout;
	}
	s->reloads++;
	say("reloaded %s", s->args->config ? s->args->config : "the flags");
done:
	free(want);
	sd_notify(0, "READY=1");
}

/* The pipeline's clock callback, on the detection thread, at least once
 * a second: `now` is the input's clock. */
static void on_tick(void *ctx, int64_t now)
{
	struct service *s = ctx;
	if (now != DR_PIPELINE_NO_CLOCK) {	/* no record yet: no clock to move */
		dr_engine_advance(s->engine, now);
		if (s->store)
			dr_store_advance(s->store, now - s->engine->clock.lateness);
	}
	if (s->outputs)
		dr_outputs_poll(s->outputs);
	if (s->respond)
		dr_respond_tick(s->respond, dr_wall_now());
	if (reload_asked) {
		reload_asked = 0;
		reload(s);
	}
	publish_metrics(s, now);
	double t = dr_wall_now();
	if (s->watchdog)
		sd_notify(0, "WATCHDOG=1");
	if (t - s->last_status >= 10) {
		s->last_status = t;
		uint64_t open = 0;
		for (unsigned i = 0; i < DR_DETECTORS_MAX; i++)
			open += s->open_now[i];
		sd_notifyf(0, "STATUS=%llu records judged, %llu alerts open",
			   (unsigned long long)(s->engine->records[0] + s->engine->records[1]),
			   (unsigned long long)open);
	}
}

/* The input is open: drop root, then start the threads. */
static int on_opened(void *ctx, char *error, size_t errlen)
{
	struct service *s = ctx;
	if (dr_privs_drop(&s->privs, error, errlen) < 0)
		return -1;
	if (s->store && dr_store_start(s->store, error, errlen) < 0)
		return -1;
	if (s->outputs && dr_outputs_start(s->outputs, error, errlen) < 0)
		return -1;
	if (s->respond && dr_respond_start(s->respond, error, errlen) < 0)
		return -1;
	if (s->http && dr_http_start(s->http, error, errlen) < 0)
		return -1;
	s->watchdog = sd_watchdog_enabled(0, NULL) > 0;
	sd_notifyf(0, "READY=1\nSTATUS=watching %u interfaces and %u flow sockets\nMAINPID=%lu",
		   s->cfg->nifaces, s->cfg->nlisten, (unsigned long)getpid());
	say("running%s%s: %u interfaces, %u flow sockets%s%s%s%s",
	    s->privs.dropped ? " as " : "", s->privs.dropped ? s->privs.user : "",
	    s->cfg->nifaces, s->cfg->nlisten, s->cfg->store[0] ? ", store " : "",
	    s->cfg->store, s->cfg->http[0] ? ", http " : "", s->cfg->http);
	return 0;
}

static void respond_say(void *ctx, const char *line)
{
	(void)ctx;
	say("%s", line);
}

/* The response, as root: the backends open (a netlink socket, a BGP
 * speaker's socket), the folders of its files made and given to the user
 * we become, who keeps CAP_NET_ADMIN when the firewall is ours to change.
 * The resolvers (--resolver) are on the allowlist: busy, and never to be
 * banned. */
static int open_respond(struct service *s, char *why, size_t len)
{
	const struct dr_respond_config *cfg = &s->cfg->respond;
	const struct dr_roles *roles = &s->cfg->engine.roles;
	struct dr_respond_config *rc = malloc(sizeof(*rc));	/* the copy the response takes */
	int ret = -1;
	if (!rc) {
		snprintf(why, len, "respond: out of memory");
		return -1;
	}
	*rc = *cfg;	/* s->cfg stays as the file says, for the reload's comparison */
	if (rc->policy.nallow + roles->nresolvers > DR_ALLOW_MAX) {
		snprintf(why, len, "allow: %u entries and %u resolvers (on the allowlist too) are "
			 "more than the %d it holds; give prefixes that cover several",
			 rc->policy.nallow, roles->nresolvers, DR_ALLOW_MAX);
		goto out;
	}
	for (unsigned i = 0; i < roles->nresolvers; i++)
		rc->policy.allow[rc->policy.nallow++] = roles->resolvers[i];
	const char *dirs[2] = {rc->state, rc->rules_dir};
	for (int i = 0; i < 2 && rc->act; i++)
		if (dr_privs_give_dir(&s->privs, dirs[i], i == 0, why, len) < 0)
			goto out;
	if (rc->act && rc->firewall[0] && geteuid() != 0 &&
	    !capng_have_capability(CAPNG_EFFECTIVE, CAP_NET_ADMIN)) {
		snprintf(why, len, "act = yes with respond.firewall = %s needs CAP_NET_ADMIN: start "
			 "as root (or with AmbientCapabilities=CAP_NET_ADMIN), or set "
			 "respond.firewall = none", rc->firewall);
		goto out;
	}
	if (dr_respond_open(&s->respond, rc, respond_say, s, why, len) < 0)
		goto out;
	/* the firewall's capability stays when the response acts on it, or
	 * must lift what a run that acted left there */
	struct dr_respond_stats st;
	dr_respond_stats(s->respond, &st);
	s->privs.keep_net_admin = rc->firewall[0] && (rc->act || st.in_force);
	s->privs.keep_net_raw = s->privs.keep_net_admin && !strcmp(rc->firewall, "ipset");
	/* the socket ExaBGP's bridge connects to: the user's, as its folder */
	if (!strcmp(rc->bgp, "exabgp") && s->privs.uid >= 0 &&
	    chown(rc->exabgp_socket, (uid_t)s->privs.uid, (gid_t)s->privs.gid) < 0) {
		snprintf(why, len, "respond.exabgp_socket = %s: cannot give it to user '%s': %s",
			 rc->exabgp_socket, s->privs.user, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	free(rc);
	return ret;
}

/* Opens what the configuration names, as whoever started us. 0, or -1
 * after saying which and why. */
static int open_all(struct service *s)
{
	struct dr_service_config *c = s->cfg;
	char why[1024];
	if (dr_privs_prepare(&s->privs, c->user_given ? c->user : NULL, why, sizeof(why)) < 0) {
		say("%s", why);
		return -1;
	}
	if (c->geoip[0] && dr_geo_open(&s->geo, "country", c->geoip, why, sizeof(why)) < 0) {
		say("geoip %s", why);
		return -1;
	}
	if (c->asn[0] && dr_geo_open(&s->geo, "asn", c->asn, why, sizeof(why)) < 0) {
		say("asn %s", why);
		return -1;
	}
	if (c->store[0]) {
		struct dr_store_config sc;
		dr_store_config_defaults(&sc);
		sc.path = c->store;
		memcpy(sc.values, c->store_values, sizeof(sc.values));
		sc.geo = &s->geo;
		sc.version = DR_VERSION;
		struct dr_ch_config chc;
		char spool[DR_CONF_VALUE + 8];
		if (c->clickhouse[0]) {
			dr_service_clickhouse_config(c, &chc, spool, sizeof(spool));
			sc.clickhouse = &chc;
			sc.clickhouse_drain = 5;
			/* made here, so that it is the service user's */
			if (dr_privs_give_dir(&s->privs, spool, 0, why, sizeof(why)) < 0) {
				say("clickhouse.spool %s", why);
				return -1;
			}
		}
		if (dr_store_open(&s->store, &sc, why, sizeof(why)) < 0) {
			say("%s%s", strncmp(why, "clickhouse", 10) ? "store " : "", why);
			return -1;
		}
		if (dr_privs_give_store(&s->privs, c->store, why, sizeof(why)) < 0) {
			say("store %s", why);
			return -1;
		}
	}
	struct dr_output_config oc;
	dr_service_output_config(c, &oc);
	if (dr_outputs_open(&s->outputs, &oc, s->privs.uid, s->privs.gid, why, sizeof(why)) < 0) {
		say("%s", why);
		return -1;
	}
	if (open_respond(s, why, sizeof(why)) < 0) {
		say("%s", why);
		return -1;
	}
	if (c->http[0] &&
	    dr_http_open(&s->http, c->http, c->http_token[0] ? c->http_token : NULL,
			 c->http_store[0] ? c->http_store : c->store[0] ? c->store : NULL,
			 &s->board, s->respond, why,
			 sizeof(why)) < 0) {
		say("http %s", why);
		return -1;
	}
	return 0;
}

static void set_up_pipeline(struct service *s)
{
	struct dr_service_config *c = s->cfg;
	struct dr_pipeline *p = s->p;
	dr_pipeline_init(p);
	for (unsigned i = 0; i < c->nifaces; i++)
		s->ifaces[i] = c->ifaces[i];
	for (unsigned i = 0; i < c->nlisten; i++)
		s->listen[i] = c->listen[i];
	p->ifaces = s->ifaces;
	p->nifaces = c->nifaces;
	p->snaplen = c->snaplen;
	p->capture_buffer = c->capture_buffer;
	p->listen = s->listen;
	p->nlisten = c->nlisten;
	p->rcvbuf = c->rcvbuf;
	p->bpf = c->bpf[0] ? c->bpf : NULL;
	memcpy(p->dns_ports, c->dns_ports, sizeof(p->dns_ports));
	memcpy(p->flow_ports, c->flow_ports, sizeof(p->flow_ports));
	p->flows = c->flows;
	p->threads = c->threads;
	p->progress = 0;
	p->keys = 1;
	p->regdom = s->engine->regdom;
	p->idle_fn = on_tick;
	p->idle_ctx = s;
	p->tick_unclocked = 1;
	p->max_ahead = DR_SERVICE_MAX_AHEAD;
	p->opened_fn = on_opened;
	p->opened_ctx = s;
	dr_decode_config_apply(&p->decode, s->engine->decode_values);
	dr_flow_config_apply(&p->flow_config, s->engine->flow_values);
}

static void close_all(struct service *s, const char *how)
{
	if (s->http)
		dr_http_close(s->http);
	if (s->respond)
		dr_respond_close(s->respond);
	s->respond = NULL;
	if (s->outputs)
		dr_outputs_close(s->outputs, CLOSE_DEADLINE);
	if (s->store)
		dr_store_close(s->store, how);
	dr_geo_close(&s->geo);
	s->http = NULL;
	s->outputs = NULL;
	s->store = NULL;
}

int dr_service_run(const struct dr_service_args *args)
{
	struct service *s = calloc(1, sizeof(*s));
	int ret = 2, engine_started = 0;
	struct sigaction hup = {0}, old_hup;
	if (!s || !(s->cfg = malloc(sizeof(*s->cfg))) || !(s->engine = malloc(sizeof(*s->engine))) ||
	    !(s->p = malloc(sizeof(*s->p)))) {
		say("out of memory");
		ret = 1;
		goto out;
	}
	s->args = args;
	s->started = dr_wall_now();
	pthread_mutex_init(&s->board.lock, NULL);
	if (dr_service_configure(s->cfg, args) != 0)
		goto out;
	*s->engine = s->cfg->engine;
	s->engine->lateness = LIVE_LATENESS;
	if (open_all(s) < 0)
		goto out;
	if (dr_engine_subscribe(s->engine, on_event, s) < 0 ||
	    dr_engine_start(s->engine, s->cfg->dns_ports) < 0) {
		say("out of memory for the detectors");
		ret = 1;
		goto out;
	}
	engine_started = 1;
	set_up_pipeline(s);
	/* SIGHUP only sets a flag, read on the detection thread; SIGPIPE
	 * would end us when a webhook or API client goes away. */
	hup.sa_handler = on_hup;
	hup.sa_flags = SA_RESTART;
	sigemptyset(&hup.sa_mask);
	sigaction(SIGHUP, &hup, &old_hup);
	signal(SIGPIPE, SIG_IGN);
	int rc = dr_pipeline_run(s->p, on_record, s);
	sd_notify(0, "STOPPING=1");
	/* judge what was read: the open alerts close, and their events
	 * reach the store and the outputs before they close */
	dr_engine_finish(s->engine);
	if (s->store)
		dr_store_advance(s->store, INT64_MAX / 2);
	char how[64];
	snprintf(how, sizeof(how), "%s", s->p->interrupted ?
		 signal_how(s->p->interrupted) : rc ? "failed" : "input ended");
	close_all(s, how);
	sigaction(SIGHUP, &old_hup, NULL);
	if (rc < 0) {
		say("%s", s->p->error);
		ret = 2;
	} else if (rc > 0) {
		say("%s", s->p->error);
		ret = 1;
	} else {
		say("stopped (%s): %llu records judged, %llu alerts", how,
		    (unsigned long long)(s->engine->records[0] + s->engine->records[1]),
		    (unsigned long long)s->engine->alerts.opened);
		ret = s->p->interrupted == SIGINT ? 130 : 0;
	}
out:
	if (s) {
		close_all(s, "failed to start");
		if (engine_started)
			dr_engine_fini(s->engine);
		pthread_mutex_destroy(&s->board.lock);
		free(s->p);
		free(s->engine);
		free(s->cfg);
	}
	free(s);
	return ret;
}
