/* dnsradar rules: for operators who act by hand, the nft, iptables+ipset
 * and Flowspec commands and the resolvers' rate limits the policy gives an
 * alert of the store (and analyze --rules, for a capture's alerts): every
 * backend of the table that carries an action renders it. */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "action/backend.h"
#include "action/respond.h"
#include "cli/cli.h"
#include "lib/cidr.h"

#define RENDER_TEXT 16384

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: dnsradar rules ALERT-ID --store FILE [--run N] [-c CONFIG]\n"
		"\n"
		"Print what dnsradar's policy would do about an alert of the store, as\n"
		"the commands and configuration an operator runs by hand: for each\n"
		"action, the text of every backend that carries it (nftables, ipset and\n"
		"iptables, ExaBGP and GoBGP Flowspec or blackhole routes, the dnsdist,\n"
		"Knot DNS and BIND rate limits), how to undo it, and once the setup\n"
		"those commands hang on. Nothing is run.\n"
		"\n"
		"  ALERT-ID              the alert's id (\"id\" in 'dnsradar alerts\n"
		"                        --format json'); of the latest run that has it\n"
		"  --store FILE          the service's SQLite store (dnsradar run --store)\n"
		"  --run N               the alert of run N (ids start again at 1 on\n"
		"                        every start of the service)\n"
		"  -c, --config FILE     the service's configuration: its act, allow,\n"
		"                        hold and respond.* lines (policy, set names,\n"
		"                        hook, next hop...); other lines are ignored\n"
		"  -h, --help            this help\n"
		"\n"
		"Example:\n"
		"  dnsradar rules 3 --store /var/lib/dnsradar/store.db -c /etc/dnsradar/dnsradar.conf\n");
}

static const char *sev_name(int s)
{
	return s >= DR_SEV_LOW && s <= DR_SEV_CRITICAL ? dr_severity_name(s) : "?";
}

static int type_index(const char *type)
{
	for (int i = 0; i < DR_POLICY_TYPES; i++)
		if (type && !strcmp(type, dr_policy_types[i]))
			return i;
	return -1;
}

/* Each line of text, indented. */
static void indented(FILE *out, const char *indent, const char *prefix, const char *text)
{
	while (*text) {
		size_t n = strcspn(text, "\n");
		fprintf(out, "%s%s%.*s\n", indent, prefix, (int)n, text);
		text += n;
		if (*text)
			text++;
	}
}

static const char *configured(const struct dr_respond_config *c, const struct dr_backend *b)
{
	return !strcmp(c->firewall, b->name) || !strcmp(c->bgp, b->name) ? " (configured)" : "";
}

/* Why the policy planned nothing. */
static void why_nothing(FILE *out, const struct dr_policy *p, const struct dr_alert *a,
			unsigned allowed)
{
	int t = type_index(a->type);
	if (t < 0 || !p->rule[t].kinds)
		fprintf(out, "  no action: the policy gives %s alerts none\n", a->type ? a->type : "?");
	else if (a->severity < p->rule[t].min_severity)
		fprintf(out, "  no action: severity %s is under the policy's %s for %s\n",
			sev_name(a->severity), sev_name(p->rule[t].min_severity), a->type);
	else if (allowed)
		fprintf(out, "  no action: every address it would act on is allow-listed (%u)\n",
			allowed);
	else
		fprintf(out, "  no action: the evidence fits none of the policy's actions\n");
}

int dr_rules_print(FILE *out, const struct dr_respond_config *c, const struct dr_alert *a,
		   long run, unsigned *used)
{
	struct dr_action acts[DR_ACTIONS_PER_ALERT];
	char *buf = malloc(RENDER_TEXT);
	unsigned allowed = 0, used_here = 0;
	if (!buf)
		return -1;
	if (run > 0)
		fprintf(out, "alert %llu of run %ld: %s %s, severity %s\n", (unsigned long long)a->id,
			run, a->type ? a->type : "?", a->key, sev_name(a->severity));
	else
		fprintf(out, "alert %llu: %s %s, severity %s\n", (unsigned long long)a->id,
			a->type ? a->type : "?", a->key, sev_name(a->severity));
	unsigned n = dr_policy_plan(&c->policy, a, acts, DR_ACTIONS_PER_ALERT, &allowed);
	if (!n) {
		why_nothing(out, &c->policy, a, allowed);
		fputc('\n', out);
		free(buf);
		return 0;
	}
	if (allowed)
		fprintf(out, "  (%u more left out: allow-listed)\n", allowed);
	for (unsigned i = 0; i < n; i++) {
		char what[256];
		int any = 0;
		dr_action_describe(&acts[i], what, sizeof(what));
		fprintf(out, "\n  %s\n", what);
		for (unsigned b = 0; dr_backends[b]; b++) {
			const struct dr_backend *be = dr_backends[b];
			if (!(be->kinds & 1u << acts[i].kind))
				continue;
			if (be->render(c, &acts[i], 0, c->ttl, buf, RENDER_TEXT) < 0) {
				fprintf(out, "    %s: cannot say this one\n", be->name);
				continue;
			}
			any = 1;
			used_here |= 1u << b;
			fprintf(out, "    %s%s:\n", be->name, configured(c, be));
			indented(out, "      ", "", buf);
			if (be->render(c, &acts[i], 1, 0, buf, RENDER_TEXT) == 0)
				indented(out, "      ", "undo: ", buf);
		}
		if (!any)
			fprintf(out, "    (no backend built into this dnsradar carries %s)\n",
				dr_action_kind_names[acts[i].kind]);
	}
	*used |= used_here;
	fputc('\n', out);
	free(buf);
	return 0;
}

int dr_rules_print_setup(FILE *out, const struct dr_respond_config *c, unsigned used)
{
	char *buf = malloc(RENDER_TEXT);
	int setup = 0;
	if (!buf)
		return -1;
	for (unsigned b = 0; dr_backends[b]; b++) {
		const struct dr_backend *be = dr_backends[b];
		if (!(used & 1u << b) || !be->render_setup ||
		    be->render_setup(c, buf, RENDER_TEXT) < 0 || !buf[0])
			continue;
		if (!setup++)
			fprintf(out, "setup, once, before the commands above:\n");
		fprintf(out, "  %s%s:\n", be->name, configured(c, be));
		indented(out, "    ", "", buf);
	}
	if (setup)
		fputc('\n', out);
	free(buf);
	return 0;
}

/* The service's configuration: only the response's lines. 0, or -1
 * after printing FILE:LINE: why. */
static int read_config(struct dr_respond_config *c, const char *path)
{
	char line[4096], why[512];
	unsigned lineno = 0;
	FILE *f = fopen(path, "r");
	if (!f) {
		dr_cli_error("rules: %s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		char *hash = strchr(line, '#'), *eq = strchr(line, '=');
		if (hash)
			*hash = 0;
		if (!eq || (hash && hash < eq))
			continue;
		*eq = 0;
		char *key = line, *val = eq + 1, *e;
		while (*key == ' ' || *key == '\t')
			key++;
		for (e = key + strlen(key); e > key && (e[-1] == ' ' || e[-1] == '\t'); e--)
			;
		*e = 0;
		while (*val == ' ' || *val == '\t')
			val++;
		for (e = val + strlen(val);
		     e > val && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'); e--)
			;
		*e = 0;
		if (strncmp(key, "respond.", 8) && strcmp(key, "act") && strcmp(key, "allow") &&
		    strcmp(key, "hold"))
			continue;
		int r = dr_respond_config_set(c, key, val, why, sizeof(why));
		if (r != 0) {
			if (r > 0)
				dr_cli_error("rules: %s:%u: %s", path, lineno, why);
			else
				dr_cli_error("rules: %s:%u: %s = %s: %s", path, lineno, key, val, why);
			fclose(f);
			return -1;
		}
	}
	fclose(f);
	return 0;
}

static int set_addr(struct dr_ev_addr *a, const unsigned char *text)
{
	uint8_t family, prefix;
	memset(a, 0, sizeof(*a));
	if (!text || dr_cidr_parse((const char *)text, &family, a->a, &prefix) < 0)
		return -1;
	a->family = family;
	a->prefix_len = prefix;
	return 0;
}

static const char *const evidence_sql =
	"SELECT run, id, type, key, severity,"
	" json_extract(json, '$.evidence.source'), json_extract(json, '$.evidence.target'),"
	" json_extract(json, '$.evidence.port'), json_extract(json, '$.evidence.victim'),"
	" json_extract(json, '$.evidence.zone'), json_extract(json, '$.evidence.server'),"
	" json_extract(json, '$.evidence.server_port'), json_extract(json, '$.evidence.peer'),"
	" json_extract(json, '$.evidence.peer_port'),"
	" json_extract(json, '$.evidence.destinations'),"
	" json_extract(json, '$.evidence.destinations_at_least')"
	" FROM alerts WHERE id = ?1 AND (?2 IS NULL OR run = ?2) ORDER BY run DESC LIMIT 1";

static const char *const victims_sql =
	"SELECT json_extract(value, '$.address'), json_extract(value, '$.responses')"
	" FROM alerts, json_each(alerts.json, '$.evidence.victims')"
	" WHERE alerts.run = ?1 AND alerts.id = ?2";

/* The alert as the policy reads it: type, key, severity and the evidence
 * fields of its kind, from the alert object the store keeps. 1 found, 0
 * not, -1 after printing the error. */
static int load_alert(sqlite3 *db, const char *path, unsigned long long id, long run,
		      struct dr_alert *a, long *run_out)
{
	sqlite3_stmt *st = NULL;
	int ret = -1;
	memset(a, 0, sizeof(*a));
	if (sqlite3_prepare_v2(db, evidence_sql, -1, &st, NULL) != SQLITE_OK)
		goto sql;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	if (run > 0)
		sqlite3_bind_int64(st, 2, run);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		ret = 0;
		goto out;
	}
	if (rc != SQLITE_ROW)
		goto sql;
	*run_out = (long)sqlite3_column_int64(st, 0);
	a->id = (uint64_t)sqlite3_column_int64(st, 1);
	int t = type_index((const char *)sqlite3_column_text(st, 2));
	a->type = t >= 0 ? dr_policy_types[t] : "unknown";
	snprintf(a->key, sizeof(a->key), "%s", (const char *)sqlite3_column_text(st, 3));
	const char *sev = (const char *)sqlite3_column_text(st, 4);
	for (int s = DR_SEV_LOW; s <= DR_SEV_CRITICAL; s++)
		if (sev && !strcmp(sev, dr_severity_name(s)))
			a->severity = s;
	struct dr_evidence *ev = &a->ev;
	switch (t) {
	case 0: {	/* reflection: the key is the responder */
		struct dr_ev_reflection *x = &ev->u.reflection;
		ev->kind = DR_EV_REFLECTION;
		set_addr(&x->responder, (const unsigned char *)a->key);
		x->victims.distinct = (uint32_t)sqlite3_column_int64(st, 14);
		x->victims.at_least = (uint8_t)sqlite3_column_int(st, 15);
		sqlite3_stmt *v = NULL;
		if (sqlite3_prepare_v2(db, victims_sql, -1, &v, NULL) != SQLITE_OK)
			goto sql;
		sqlite3_bind_int64(v, 1, *run_out);
		sqlite3_bind_int64(v, 2, (sqlite3_int64)a->id);
		while (sqlite3_step(v) == SQLITE_ROW && x->victims.n < DR_EV_TOP) {
			if (set_addr(&x->victims.item[x->victims.n].addr, sqlite3_column_text(v, 0)) < 0)
				continue;
			x->victims.item[x->victims.n++].count = (uint64_t)sqlite3_column_int64(v, 1);
		}
		sqlite3_finalize(v);
		break;
	}
	case 1:
		ev->kind = DR_EV_AMPLIFICATION;
		set_addr(&ev->u.amplification.victim, sqlite3_column_text(st, 8));
		break;
	case 2:
		ev->kind = DR_EV_RANDOM_SUBDOMAIN;
		if (sqlite3_column_text(st, 9))
			snprintf(ev->u.random_subdomain.zone, sizeof(ev->u.random_subdomain.zone), "%s",
				 (const char *)sqlite3_column_text(st, 9));
		break;
	case 3: {
		struct dr_ev_flood *x = &ev->u.flood;
		ev->kind = DR_EV_FLOOD;
		x->by_source = set_addr(&x->source, sqlite3_column_text(st, 5)) == 0;
		set_addr(&x->target, sqlite3_column_text(st, 6));
		x->port = (uint16_t)sqlite3_column_int(st, 7);
		break;
	}
	case 4: {
		struct dr_ev_loop *x = &ev->u.loop;
		ev->kind = DR_EV_LOOP;
		set_addr(&x->server, sqlite3_column_text(st, 10));
		x->server_port = (uint16_t)sqlite3_column_int(st, 11);
		set_addr(&x->peer, sqlite3_column_text(st, 12));
		x->peer_port = (uint16_t)sqlite3_column_int(st, 13);
		break;
	}
	default:
		break;
	}
	ret = 1;
	goto out;
sql:
	dr_cli_error("rules: %s: %s", path, sqlite3_errmsg(db));
out:
	sqlite3_finalize(st);
	return ret;
}

static int whole(const char *s, unsigned long long *out)
{
	char *end;
	if (!*s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return *end || errno || !*out ? -1 : 0;
}

static int run(int argc, char **argv)
{
	enum { OPT_STORE = 0x500, OPT_RUN };
	static const struct option longopts[] = {
		{"store", required_argument, NULL, OPT_STORE},
		{"run", required_argument, NULL, OPT_RUN},
		{"config", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct dr_respond_config *c = malloc(sizeof(*c));
	struct dr_alert *a = malloc(sizeof(*a));
	const char *store = NULL, *config = NULL;
	unsigned long long id = 0, runid = 0;
	sqlite3 *db = NULL;
	int opt, ret = DR_EXIT_USAGE;
	if (!c || !a) {
		dr_cli_error("out of memory");
		ret = DR_EXIT_FAIL;
		goto out;
	}
	dr_respond_config_defaults(c);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "hc:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			usage(stdout);
			ret = DR_EXIT_OK;
			goto out;
		case OPT_STORE:
			store = optarg;
			break;
		case 'c':
			config = optarg;
			break;
		case OPT_RUN:
			if (whole(optarg, &runid) < 0 || runid > 0x7fffffff) {
				dr_cli_error("rules: --run '%s': give a run number (1, 2, ...)", optarg);
				goto out;
			}
			break;
		default:
			dr_cli_usage_hint("rules");
			goto out;
		}
	}
	if (optind != argc - 1) {
		dr_cli_error(optind >= argc ? "rules: give the alert's id (dnsradar rules ALERT-ID "
					      "--store FILE)"
					    : "rules: one alert id at a time");
		dr_cli_usage_hint("rules");
		goto out;
	}
	if (whole(argv[optind], &id) < 0 || id > 0x7fffffffffffffffULL) {
		dr_cli_error("rules: '%s' is not an alert id: give the \"id\" 'dnsradar alerts "
			     "--format json' shows (1, 2, ...)", argv[optind]);
		goto out;
	}
	if (!store) {
		dr_cli_error("rules: give the store with --store FILE");
		dr_cli_usage_hint("rules");
		goto out;
	}
	if (config && read_config(c, config) < 0)
		goto out;
	struct stat sb;
	if (stat(store, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		dr_cli_error("rules: %s: %s", store, stat(store, &sb) ? strerror(errno) : "not a file");
		goto out;
	}
	if (sqlite3_open_v2(store, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		dr_cli_error("rules: %s: %s", store, db ? sqlite3_errmsg(db) : "cannot open");
		goto out;
	}
	sqlite3_busy_timeout(db, 2000);
	long found_run = 0;
	int got = load_alert(db, store, id, (long)runid, a, &found_run);
	if (got < 0)
		goto out;
	if (!got) {
		if (runid)
			dr_cli_error("rules: no alert %llu of run %llu in %s", id, runid, store);
		else
			dr_cli_error("rules: no alert %llu in %s (dnsradar alerts --store %s "
				     "--format json lists them)", id, store, store);
		goto out;
	}
	unsigned used = 0;
	if (dr_rules_print(stdout, c, a, found_run, &used) < 0 ||
	    dr_rules_print_setup(stdout, c, used) < 0) {
		dr_cli_error("out of memory");
		ret = DR_EXIT_FAIL;
		goto out;
	}
	ret = fflush(stdout) == 0 ? DR_EXIT_OK : DR_EXIT_FAIL;
out:
	if (db)
		sqlite3_close(db);
	free(c);
	free(a);
	return ret;
}

const struct dr_command dr_cmd_rules = {
	.name = "rules",
	.summary = "the firewall, BGP and resolver rules the policy gives an alert",
	.run = run,
};
