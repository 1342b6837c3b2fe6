/* The drill-down reader (query.h) apart from any one store: the names,
 * the checks of the parameters, and the choice of a backend by the path. */
#include "store/query_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/dns.h"

/* The first whose claims() holds is used; SQLite, last, takes any path. */
static const struct dr_query_ops *const backends[] = {
	&dr_query_clickhouse,
	&dr_query_sqlite,
};

const char *const dr_query_dim_names[DR_QD_COUNT] = {
	"src", "dst", "sport", "dport", "qname", "zone", "qtype", "rcode", "country", "asn",
	"total",
};

/* The records column each dimension is counted by (top with --where). */
const char *const dr_query_record_columns[DR_QD_COUNT] = {
	"src", "dst", "sport", "dport", "qname", "zone", "qtype", "rcode", "country", "asn",
	NULL,
};

const char *const dr_query_state_names[4] = {"all", "open", "closed", "interrupted"};

int dr_query_dim_parse(const char *name, int allow_total)
{
	for (int i = 0; i < DR_QD_COUNT; i++)
		if (strcmp(name, dr_query_dim_names[i]) == 0)
			return i == DR_QD_TOTAL && !allow_total ? -1 : i;
	return -1;
}

int dr_query_state_parse(const char *name)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(name, dr_query_state_names[i]) == 0)
			return i;
	return -1;
}

int dr_query_check(const char *what, struct dr_query_params *p, const char *prefix,
		   char *errbuf, size_t errlen)
{
	int alerts = strcmp(what, "alerts") == 0, records = strcmp(what, "records") == 0;
	double max = DR_QUERY_RANGE_MAX;
	if (!isfinite(p->from) || !isfinite(p->to) || p->from > p->to) {
		snprintf(errbuf, errlen, "%s: the range is empty or backwards", what);
		return -1;
	}
	if (!alerts && p->to - p->from > max) {
		snprintf(errbuf, errlen, "%s: a range of %.0f days is longer than the %.0f days "
			 "%s may cover; narrow %ssince or %sfrom/%sto", what,
			 (p->to - p->from) / 86400.0, max / 86400.0, what, prefix, prefix, prefix);
		return -1;
	}
	if (p->limit > DR_QUERY_LIMIT_MAX) {
		snprintf(errbuf, errlen, "%s: a limit of %u is over the most, %u", what, p->limit,
			 DR_QUERY_LIMIT_MAX);
		return -1;
	}
	if (!p->limit)
		p->limit = records ? DR_QUERY_RECORDS_LIMIT : DR_QUERY_ALERTS_LIMIT;
	if (strcmp(what, "series") == 0 && p->where && p->where->n) {
		snprintf(errbuf, errlen, "series: %swhere is not supported (the series come from "
			 "the per-minute aggregates); use top or records", prefix);
		return -1;
	}
	if ((strcmp(what, "top") == 0 && p->dim == DR_QD_TOTAL) || p->dim >= DR_QD_COUNT) {
		snprintf(errbuf, errlen, "%s: not a dimension to rank by", what);
		return -1;
	}
	return 0;
}

const char *dr_query_key_shown(enum dr_query_dim dim, const char *key, char *buf, size_t len)
{
	if ((dim != DR_QD_QTYPE && dim != DR_QD_RCODE) || !key || !*key ||
	    strspn(key, "0123456789") != strlen(key) || strlen(key) > 6)
		return key;
	unsigned v = (unsigned)atoi(key);
	const char *name = dim == DR_QD_QTYPE ? dr_qtype_name(v) : dr_rcode_name(v);
	if (name)
		return name;
	if (dim == DR_QD_QTYPE)
		snprintf(buf, len, "TYPE%u", v);
	else
		snprintf(buf, len, "%u", v);
	return buf;
}

int dr_query_open(struct dr_query **q, const char *path, char *errbuf, size_t errlen)
{
	*q = NULL;
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (backends[i]->claims(path))
			return backends[i]->open(q, path, errbuf, errlen);
	snprintf(errbuf, errlen, "%s: not a store", path);
	return -1;
}

int dr_query_path_check(const char *path, char *errbuf, size_t errlen)
{
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (backends[i]->claims(path))
			return backends[i]->check(path, errbuf, errlen);
	return 0;
}

void dr_query_close(struct dr_query *q)
{
	if (q)
		q->ops->close(q);
}

/* A store file is one sensor's: choosing one is for a shared store. */
static int sensor_ok(const struct dr_query *q, const struct dr_query_params *p, char *errbuf,
		     size_t errlen)
{
	if (!p->sensor || q->ops->sensors)
		return 0;
	snprintf(errbuf, errlen, "sensor '%.64s': a %s store holds one sensor's rows; a sensor is "
		 "chosen in a clickhouse:// store", p->sensor, q->ops->name);
	return -1;
}

int dr_query_alerts(struct dr_query *q, const struct dr_query_params *p, dr_query_alert_fn fn,
		    void *ctx, struct dr_query_result *res, char *errbuf, size_t errlen)
{
	memset(res, 0, sizeof(*res));
	if (sensor_ok(q, p, errbuf, errlen) < 0)
		return -1;
	return q->ops->alerts(q, p, fn, ctx, res, errbuf, errlen);
}

int dr_query_top(struct dr_query *q, const struct dr_query_params *p, dr_query_count_fn fn,
		 void *ctx, struct dr_query_result *res, char *errbuf, size_t errlen)
{
	memset(res, 0, sizeof(*res));
	if (sensor_ok(q, p, errbuf, errlen) < 0)
		return -1;
	return q->ops->top(q, p, fn, ctx, res, errbuf, errlen);
}

int dr_query_series(struct dr_query *q, const struct dr_query_params *p, dr_query_count_fn fn,
		    void *ctx, struct dr_query_result *res, char *errbuf, size_t errlen)
{
	memset(res, 0, sizeof(*res));
	if (sensor_ok(q, p, errbuf, errlen) < 0)
		return -1;
	return q->ops->series(q, p, fn, ctx, res, errbuf, errlen);
}

int dr_query_records(struct dr_query *q, const struct dr_query_params *p,
		     dr_query_record_fn fn, void *ctx, struct dr_query_result *res,
		     char *errbuf, size_t errlen)
{
	memset(res, 0, sizeof(*res));
	if (sensor_ok(q, p, errbuf, errlen) < 0)
		return -1;
	return q->ops->records(q, p, fn, ctx, res, errbuf, errlen);
}
