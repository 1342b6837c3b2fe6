/* The service's configuration file: NAME = VALUE lines, '#' comments,
 * every mistake reported with its file and line. */
#include "service/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/pipeline.h"
#include "store/query.h"

const char dr_service_config_keys[] =
	"interface, listen, bpf, snaplen, capture_buffer, rcvbuf, dns_port, flow_port, flows, "
	"threads, store, store.NAME, clickhouse, clickhouse.NAME, http, http_store, http_token, "
	"geoip, asn, alert_log, syslog, "
	"syslog_facility, webhook, webhook_header, webhook_timeout, webhook_queue, "
	"webhook_retries, webhook_backoff, exec, exec_timeout, user, local, resolver, authoritative, "
	"act, allow, hold, respond.NAME, DETECTOR.THRESHOLD, decode.NAME, flow.NAME";

void dr_service_config_defaults(struct dr_service_config *c)
{
	memset(c, 0, sizeof(*c));
	dr_engine_defaults(&c->engine);
	for (unsigned i = 0; i < DR_STORE_NPARAMS; i++)
		c->store_values[i] = dr_store_params[i].def;
	for (unsigned i = 0; i < DR_CH_NPARAMS; i++)
		c->clickhouse_values[i] = dr_ch_params[i].def;
	dr_port_set(c->dns_ports, 53);
	static const uint16_t flow_ports[] = DR_FLOW_PORTS_DEFAULT;
	for (unsigned i = 0; i < sizeof(flow_ports) / sizeof(flow_ports[0]); i++)
		dr_port_set(c->flow_ports, flow_ports[i]);
	c->flows = 1;
	c->threads = 2;
	dr_respond_config_defaults(&c->respond);
	snprintf(c->syslog_facility, sizeof(c->syslog_facility), "daemon");
	struct dr_output_config o;
	dr_output_config_defaults(&o);
	c->webhook_timeout = o.webhook_timeout;
	c->webhook_backoff = o.webhook_backoff;
	c->webhook_queue = o.webhook_queue;
	c->webhook_retries = o.webhook_retries;
	c->exec_timeout = o.exec_timeout;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = 0;
	return s;
}

static int copy(char *dst, size_t cap, const char *value, char *why, size_t len)
{
	size_t n = strlen(value);
	if (n >= cap) {
		snprintf(why, len, "longer than %zu characters", cap - 1);
		return -1;
	}
	memcpy(dst, value, n + 1);
	return 0;
}

/* A whole number in [lo, hi]. */
static int number(const char *value, long lo, long hi, long *out, char *why, size_t len)
{
	char *end;
	errno = 0;
	long v = strtol(value, &end, 10);
	if (errno || end == value || *end || v < lo || v > hi) {
		snprintf(why, len, "give a whole number from %ld to %ld", lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

/* A size: octets, or with K, M or G (powers of 1024), in [lo, hi]. */
static int size(const char *value, long lo, long hi, int *out, char *why, size_t len)
{
	char *end;
	errno = 0;
	double v = strtod(value, &end);
	double unit = 1;
	if (end != value && *end && !end[1]) {
		switch (toupper((unsigned char)*end)) {
		case 'K': unit = 1024; end++; break;
		case 'M': unit = 1024 * 1024; end++; break;
		case 'G': unit = 1024.0 * 1024 * 1024; end++; break;
		default: break;
		}
	}
	v *= unit;
	if (errno || end == value || *end || v < lo || v > hi) {
		snprintf(why, len, "give a size from %ld to %ld octets (K, M and G allowed)", lo, hi);
		return -1;
	}
	*out = (int)v;
	return 0;
}

static int seconds(const char *value, double lo, double hi, double *out, char *why, size_t len)
{
	char *end;
	errno = 0;
	double v = strtod(value, &end);
	if (errno || end == value || *end || !(v >= lo && v <= hi)) {
		snprintf(why, len, "give seconds from %g to %g", lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

static int boolean(const char *value, int *out, char *why, size_t len)
{
	if (!strcmp(value, "1") || !strcmp(value, "yes") || !strcmp(value, "true") ||
	    !strcmp(value, "on")) {
		*out = 1;
		return 0;
	}
	if (!strcmp(value, "0") || !strcmp(value, "no") || !strcmp(value, "false") ||
	    !strcmp(value, "off")) {
		*out = 0;
		return 0;
	}
	snprintf(why, len, "give yes or no");
	return -1;
}

static int ports(uint8_t *bitmap, const char *value, char *why, size_t len)
{
	char buf[DR_CONF_VALUE];
	uint8_t add[8192] = {0};
	snprintf(buf, sizeof(buf), "%s", value);
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		long port;
		if (number(trim(tok), 1, 65535, &port, why, len) < 0) {
			snprintf(why, len, "'%s' is not a port number (1-65535)", trim(tok));
			return -1;
		}
		dr_port_set(add, (uint16_t)port);
	}
	for (size_t i = 0; i < sizeof(add); i++)
		bitmap[i] |= add[i];
	return 0;
}

/* "ADDR:PORT" or "[ADDR6]:PORT": checked for its form only; binding
 * tells the rest. */
static int address_port(const char *value, char *why, size_t len)
{
	const char *colon = strrchr(value, ':');
	long port;
	if (!colon || colon == value || number(colon + 1, 0, 65535, &port, why, len) < 0) {
		snprintf(why, len, "give ADDR:PORT, e.g. 127.0.0.1:8053 or [::1]:8053");
		return -1;
	}
	return 0;
}

static int facility_known(const char *f)
{
	static const char *const names[] = {"daemon", "user", "local0", "local1", "local2",
					    "local3", "local4", "local5", "local6", "local7"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(f, names[i]))
			return 1;
	return 0;
}

static int store_setting(struct dr_service_config *c, const char *name, const char *value,
			 char *why, size_t len)
{
	for (unsigned i = 0; i < DR_STORE_NPARAMS; i++)
		if (!strcmp(name, dr_store_params[i].name))
			return dr_param_check(&dr_store_params[i], value, c->engine.mem_limit,
					      &c->store_values[i], why, len);
	int n = snprintf(why, len, "no store setting '%s'; the store has", name);
	for (unsigned i = 0; i < DR_STORE_NPARAMS && n > 0 && (size_t)n < len; i++)
		n += snprintf(why + n, len - (size_t)n, "%s %s", i ? "," : "", dr_store_params[i].name);
	return -1;
}

static int clickhouse_setting(struct dr_service_config *c, const char *name, const char *value,
			      char *why, size_t len)
{
	if (!strcmp(name, "sensor"))
		return copy(c->clickhouse_sensor, sizeof(c->clickhouse_sensor), value, why, len);
	if (!strcmp(name, "spool"))
		return copy(c->clickhouse_spool, sizeof(c->clickhouse_spool), value, why, len);
	if (!strcmp(name, "cluster"))
		return copy(c->clickhouse_cluster, sizeof(c->clickhouse_cluster), value, why, len);
	for (unsigned i = 0; i < DR_CH_NPARAMS; i++)
		if (!strcmp(name, dr_ch_params[i].name))
			return dr_param_check(&dr_ch_params[i], value, c->engine.mem_limit,
					      &c->clickhouse_values[i], why, len);
	int n = snprintf(why, len, "no clickhouse setting '%s'; it has sensor, spool, cluster",
			 name);
	for (unsigned i = 0; i < DR_CH_NPARAMS && n > 0 && (size_t)n < len; i++)
		n += snprintf(why + n, len - (size_t)n, ", %s", dr_ch_params[i].name);
	return -1;
}

int dr_service_config_set(struct dr_service_config *c, const char *key, const char *value,
			  char *why, size_t len)
{
	long v;
	struct dr_roles *roles = &c->engine.roles;
	if (!strcmp(key, "interface")) {
		if (c->nifaces == DR_IFACES_MAX) {
			snprintf(why, len, "at most %d interfaces", DR_IFACES_MAX);
			return -1;
		}
		if (!*value || strchr(value, ' ')) {
			snprintf(why, len, "give an interface name, e.g. eth0");
			return -1;
		}
		if (copy(c->ifaces[c->nifaces], sizeof(c->ifaces[0]), value, why, len) < 0)
			return -1;
		c->nifaces++;
		return 0;
	}
	if (!strcmp(key, "listen")) {
		if (c->nlisten == DR_LISTEN_MAX) {
			snprintf(why, len, "at most %d sockets", DR_LISTEN_MAX);
			return -1;
		}
		if (address_port(value, why, len) < 0 ||
		    copy(c->listen[c->nlisten], sizeof(c->listen[0]), value, why, len) < 0)
			return -1;
		c->nlisten++;
		return 0;
	}
	if (!strcmp(key, "local"))
		return dr_roles_add_local(roles, value, why, len);
	if (!strcmp(key, "resolver"))
		return dr_roles_add_resolver(roles, value, why, len);
	if (!strcmp(key, "authoritative"))
		return dr_roles_add_authoritative(roles, value, why, len);
	if (!strncmp(key, "store.", 6))
		return store_setting(c, key + 6, value, why, len);
	if (!strncmp(key, "clickhouse.", 11))
		return clickhouse_setting(c, key + 11, value, why, len);
	if (!strcmp(key, "act") || !strcmp(key, "allow") || !strcmp(key, "hold") ||
	    !strncmp(key, "respond.", 8)) {
		int r = dr_respond_config_set(&c->respond, key, value, why, len);
		if (r == 1)
			snprintf(why, len, "no setting '%s'; the response takes respond.act, "
				 "respond.hold, respond.allow, respond.firewall, respond.bgp, "
				 "respond.TYPE (see docs/response.md)", key);
		return r;
	}
	if (strchr(key, '.'))
		return dr_engine_assign(&c->engine, key, value, why, len);
	if (!strcmp(key, "bpf"))
		return copy(c->bpf, sizeof(c->bpf), value, why, len);
	if (!strcmp(key, "snaplen")) {
		if (number(value, 64, 262144, &v, why, len) < 0)
			return -1;
		c->snaplen = (int)v;
		return 0;
	}
	if (!strcmp(key, "capture_buffer"))
		return size(value, 1 << 20, 1L << 30, &c->capture_buffer, why, len);
	if (!strcmp(key, "rcvbuf"))
		return size(value, 4096, 1L << 30, &c->rcvbuf, why, len);
	if (!strcmp(key, "dns_port"))
		return ports(c->dns_ports, value, why, len);
	if (!strcmp(key, "flow_port"))
		return ports(c->flow_ports, value, why, len);
	if (!strcmp(key, "flows"))
		return boolean(value, &c->flows, why, len);
	if (!strcmp(key, "threads")) {
		if (number(value, 1, 2, &v, why, len) < 0)
			return -1;
		c->threads = (unsigned)v;
		return 0;
	}
	if (!strcmp(key, "store"))
		return copy(c->store, sizeof(c->store), value, why, len);
	if (!strcmp(key, "clickhouse")) {
		if (strncmp(value, "http://", 7) && strncmp(value, "https://", 8)) {
			snprintf(why, len, "give the server's HTTP URL, e.g."
				 " http://127.0.0.1:8123/?database=dnsradar");
			return -1;
		}
		return copy(c->clickhouse, sizeof(c->clickhouse), value, why, len);
	}
	if (!strcmp(key, "http")) {
		if (address_port(value, why, len) < 0)
			return -1;
		return copy(c->http, sizeof(c->http), value, why, len);
	}
	if (!strcmp(key, "http_store")) {
		if (dr_query_path_check(value, why, len) < 0)
			return -1;
		return copy(c->http_store, sizeof(c->http_store), value, why, len);
	}
	if (!strcmp(key, "http_token")) {
		if (strlen(value) < 16) {
			snprintf(why, len, "a token needs at least 16 characters");
			return -1;
		}
		return copy(c->http_token, sizeof(c->http_token), value, why, len);
	}
	if (!strcmp(key, "geoip"))
		return copy(c->geoip, sizeof(c->geoip), value, why, len);
	if (!strcmp(key, "asn"))
		return copy(c->asn, sizeof(c->asn), value, why, len);
	if (!strcmp(key, "alert_log"))
		return copy(c->alert_log, sizeof(c->alert_log), value, why, len);
	if (!strcmp(key, "syslog"))
		return boolean(value, &c->syslog, why, len);
	if (!strcmp(key, "syslog_facility")) {
		if (!facility_known(value)) {
			snprintf(why, len, "give daemon, user or local0 to local7");
			return -1;
		}
		return copy(c->syslog_facility, sizeof(c->syslog_facility), value, why, len);
	}
	if (!strcmp(key, "webhook")) {
		if (strncmp(value, "http://", 7) && strncmp(value, "https://", 8)) {
			snprintf(why, len, "give an http:// or https:// URL");
			return -1;
		}
		return copy(c->webhook, sizeof(c->webhook), value, why, len);
	}
	if (!strcmp(key, "webhook_header")) {
		if (!strchr(value, ':')) {
			snprintf(why, len, "give NAME: VALUE, e.g. 'Authorization: Bearer ...'");
			return -1;
		}
		return copy(c->webhook_header, sizeof(c->webhook_header), value, why, len);
	}
	if (!strcmp(key, "webhook_timeout"))
		return seconds(value, 0.1, 300, &c->webhook_timeout, why, len);
	if (!strcmp(key, "webhook_backoff"))
		return seconds(value, 0.01, 60, &c->webhook_backoff, why, len);
	if (!strcmp(key, "webhook_queue")) {
		if (number(value, 1, 1000000, &v, why, len) < 0)
			return -1;
		c->webhook_queue = (unsigned)v;
		return 0;
	}
	if (!strcmp(key, "webhook_retries")) {
		if (number(value, 0, 100, &v, why, len) < 0)
			return -1;
		c->webhook_retries = (unsigned)v;
		return 0;
	}
	if (!strcmp(key, "exec"))
		return copy(c->exec, sizeof(c->exec), value, why, len);
	if (!strcmp(key, "exec_timeout"))
		return seconds(value, 0.1, 3600, &c->exec_timeout, why, len);
	if (!strcmp(key, "user")) {
		c->user_given = 1;
		return copy(c->user, sizeof(c->user), value, why, len);
	}
	snprintf(why, len, "no setting '%s'; a config file takes %s", key, dr_service_config_keys);
	return 1;
}

static int repeatable(const char *key)
{
	return !strcmp(key, "interface") || !strcmp(key, "listen") || !strcmp(key, "local") ||
	       !strcmp(key, "resolver") || !strcmp(key, "authoritative") ||
	       !strcmp(key, "dns_port") || !strcmp(key, "flow_port") || !strcmp(key, "allow") ||
	       !strcmp(key, "respond.allow");
}

struct seen {
	char key[64];
	unsigned line;
};

int dr_service_config_load(struct dr_service_config *c, const char *path, dr_conf_error_fn err,
			   void *ctx)
{
	struct seen seen[256];
	unsigned nseen = 0, lineno = 0;
	int mistakes = 0;
	char line[DR_SETTING_MAX + 64], why[1024];
	struct stat st;
	FILE *f = fopen(path, "r");
	if (!f) {
		err(ctx, path, 0, strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		err(ctx, path, 0, "is a directory; give a config file");
		fclose(f);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		size_t n = strlen(line);
		if (n + 1 == sizeof(line) && line[n - 1] != '\n' && !feof(f)) {
			snprintf(why, sizeof(why), "line longer than %zu characters", sizeof(line) - 2);
			err(ctx, path, lineno, why);
			mistakes++;
			int ch;	/* skip the rest of it */
			while ((ch = fgetc(f)) != EOF && ch != '\n')
				;
			continue;
		}
		char *hash = strchr(line, '#');
		if (hash)
			*hash = 0;
		char *s = trim(line);
		if (!*s)
			continue;
		char *eq = strchr(s, '=');
		if (!eq) {
			snprintf(why, sizeof(why), "'%s': expected NAME = VALUE", s);
			err(ctx, path, lineno, why);
			mistakes++;
			continue;
		}
		*eq = 0;
		char *key = trim(s), *val = trim(eq + 1);
		char reason[900];
		int bad = 0;
		if (!repeatable(key))
			for (unsigned i = 0; i < nseen; i++)
				if (!strcmp(seen[i].key, key)) {
					snprintf(reason, sizeof(reason),
						 "given twice in one file (first on line %u)", seen[i].line);
					bad = -1;
				}
		if (!bad)
			bad = dr_service_config_set(c, key, val, reason, sizeof(reason));
		if (bad) {
			if (bad == 1)	/* no such key: the value is beside the point */
				snprintf(why, sizeof(why), "%s", reason);
			else
				snprintf(why, sizeof(why), "%s = %s: %s", key, val, reason);
			err(ctx, path, lineno, why);
			mistakes++;
			continue;
		}
		if (!repeatable(key) && nseen < sizeof(seen) / sizeof(seen[0]) &&
		    strlen(key) < sizeof(seen[0].key)) {
			memcpy(seen[nseen].key, key, strlen(key) + 1);
			seen[nseen++].line = lineno;
		}
	}
	if (ferror(f)) {
		snprintf(why, sizeof(why), "cannot read it: %s", strerror(errno));
		err(ctx, path, 0, why);
		fclose(f);
		return -1;
	}
	fclose(f);
	return mistakes;
}

/* An address a token need not guard: the loopback networks. */
static int loopback(const char *addrport)
{
	return !strncmp(addrport, "127.", 4) || !strncmp(addrport, "[::1]:", 6) ||
	       !strncmp(addrport, "localhost:", 10);
}

int dr_service_config_check(const struct dr_service_config *c, char *why, size_t len)
{
	if (!c->nifaces && !c->nlisten) {
		snprintf(why, len, "nothing to read: give an interface (-i IFACE) or a flow "
			 "socket (--listen ADDR:PORT)");
		return -1;
	}
	if (c->http[0] && !loopback(c->http) && !c->http_token[0]) {
		snprintf(why, len, "http = %s: an address other than loopback needs http_token "
			 "(the API would be open to the network)", c->http);
		return -1;
	}
	if (c->clickhouse[0] && !c->store[0]) {
		snprintf(why, len, "clickhouse = %s needs store = FILE too: the sensor's SQLite"
			 " history is what ClickHouse is sent", c->clickhouse);
		return -1;
	}
	if (c->http_store[0] && !c->http[0]) {
		snprintf(why, len, "http_store = %s: there is no http to serve it from", c->http_store);
		return -1;
	}
	return dr_engine_check(&c->engine, why, len);
}

void dr_service_clickhouse_config(const struct dr_service_config *c, struct dr_ch_config *ch,
				  char *spool, size_t len)
{
	dr_ch_config_defaults(ch);
	ch->url = c->clickhouse;
	ch->sensor = c->clickhouse_sensor;
	ch->cluster = c->clickhouse_cluster;
	if (c->clickhouse_spool[0])
		snprintf(spool, len, "%s", c->clickhouse_spool);
	else
		snprintf(spool, len, "%s.spool", c->store);
	ch->spool = spool;
	memcpy(ch->values, c->clickhouse_values, sizeof(ch->values));
}

void dr_service_output_config(const struct dr_service_config *c, struct dr_output_config *o)
{
	dr_output_config_defaults(o);
	o->alert_log = c->alert_log[0] ? c->alert_log : NULL;
	o->syslog = c->syslog;
	o->syslog_facility = c->syslog_facility;
	o->webhook = c->webhook[0] ? c->webhook : NULL;
	o->webhook_header = c->webhook_header[0] ? c->webhook_header : NULL;
	o->webhook_timeout = c->webhook_timeout;
	o->webhook_backoff = c->webhook_backoff;
	o->webhook_queue = c->webhook_queue;
	o->webhook_retries = c->webhook_retries;
	o->exec = c->exec[0] ? c->exec : NULL;
	o->exec_timeout = c->exec_timeout;
}
