/* The store's answers as JSON, for `--format json` and the HTTP API: the
 * rows of the queries in query.c, written with lib/outbuf.h. */
#include "store/query.h"

#include <stdio.h>
#include <string.h>

#include "lib/outbuf.h"

struct json_ctx {
	struct dr_out *o;
	int first;
	int lines;
};

static void json_str_or_null(struct dr_out *o, const char *key, const char *v, int *first)
{
	dr_out_jkey(o, key, first);
	if (v)
		dr_out_json_str(o, v, strlen(v));
	else
		dr_out_str(o, "null");
}

static int alert_json(void *arg, const struct dr_query_alert *a)
{
	struct json_ctx *c = arg;
	if (!c->first)
		dr_out_char(c->o, ',');
	c->first = 0;
	dr_out_mem(c->o, a->json, a->json_len);
	return c->o->err;
}

int dr_query_alerts_json(struct dr_query *q, const struct dr_query_params *p, struct dr_out *o,
			 char *errbuf, size_t errlen)
{
	struct json_ctx c = {.o = o, .first = 1};
	struct dr_query_result res;
	dr_out_str(o, "{\"alerts\":[");
	if (dr_query_alerts(q, p, alert_json, &c, &res, errbuf, errlen) < 0)
		return -1;
	dr_out_str(o, res.truncated ? "],\"truncated\":true}" : "],\"truncated\":false}");
	return 0;
}

/* "sources", "prefixes", "asns": null when top came from the aggregates,
 * which do not know them. */
static void distinct_json(struct dr_out *o, int have, uint64_t sources, uint64_t prefixes,
			  uint64_t asns, int *first)
{
	static const char *const keys[] = {"sources", "prefixes", "asns"};
	const uint64_t v[] = {sources, prefixes, asns};
	for (unsigned i = 0; i < 3; i++) {
		dr_out_jkey(o, keys[i], first);
		if (have)
			dr_out_u64(o, v[i]);
		else
			dr_out_str(o, "null");
	}
}

static int count_json(void *arg, const struct dr_query_count *k)
{
	struct json_ctx *c = arg;
	struct dr_out *o = c->o;
	int first = 1;
	if (!c->first)
		dr_out_char(o, ',');
	c->first = 0;
	dr_out_char(o, '{');
	if (k->key) {
		dr_out_js(o, "key", k->key, &first);
		dr_out_jd(o, "share", k->share, 4, &first);
	} else {
		dr_out_ju(o, "minute", (uint64_t)k->minute, &first);
	}
	dr_out_jd(o, "messages", k->messages, 0, &first);
	dr_out_jd(o, "packets", k->packets, 0, &first);
	dr_out_jd(o, "bytes", k->bytes, 0, &first);
	if (k->key)
		distinct_json(o, k->has_distinct, k->sources, k->prefixes, k->asns, &first);
	dr_out_char(o, '}');
	return o->err;
}

/* Writes the part of a top or series document before its rows. */
static void range_json(struct dr_out *o, const struct dr_query_params *p, int *first)
{
	dr_out_jd(o, "from", p->from, 3, first);
	dr_out_jd(o, "to", p->to, 3, first);
}

int dr_query_top_json(struct dr_query *q, const struct dr_query_params *p, struct dr_out *o,
		      char *errbuf, size_t errlen)
{
	struct dr_query_result res;
	struct json_ctx c = {.o = o, .first = 1};
	int first = 1;
	dr_out_char(o, '{');
	dr_out_js(o, "by", dr_query_dim_names[p->dim], &first);
	range_json(o, p, &first);
	dr_out_jkey(o, "top", &first);
	dr_out_char(o, '[');
	if (dr_query_top(q, p, count_json, &c, &res, errbuf, errlen) < 0)
		return -1;
	dr_out_char(o, ']');
	dr_out_jkey(o, "total", &first);
	int f2 = 1;
	dr_out_char(o, '{');
	dr_out_jd(o, "messages", res.total_messages, 0, &f2);
	dr_out_jd(o, "packets", res.total_packets, 0, &f2);
	dr_out_jd(o, "bytes", res.total_bytes, 0, &f2);
	distinct_json(o, res.sampled, res.total_sources, res.total_prefixes, res.total_asns, &f2);
	dr_out_char(o, '}');
	dr_out_js(o, "source", res.sampled ? "records" : "aggregates", &first);
	dr_out_jb(o, "sampled", res.sampled, &first);
	json_str_or_null(o, "note", res.sampled ? DR_QUERY_SAMPLE_NOTE : NULL, &first);
	dr_out_jb(o, "truncated", res.truncated, &first);
	dr_out_char(o, '}');
	return 0;
}

int dr_query_series_json(struct dr_query *q, const struct dr_query_params *p, struct dr_out *o,
			 char *errbuf, size_t errlen)
{
	struct dr_query_result res;
	struct json_ctx c = {.o = o, .first = 1};
	int first = 1;
	dr_out_char(o, '{');
	dr_out_js(o, "dim", dr_query_dim_names[p->dim], &first);
	json_str_or_null(o, "key", p->key, &first);
	range_json(o, p, &first);
	dr_out_jkey(o, "series", &first);
	dr_out_char(o, '[');
	if (dr_query_series(q, p, count_json, &c, &res, errbuf, errlen) < 0)
		return -1;
	dr_out_char(o, ']');
	dr_out_jb(o, "truncated", res.truncated, &first);
	dr_out_char(o, '}');
	return 0;
}

void dr_query_record_json(struct dr_out *o, const struct dr_query_record *r)
{
	int first = 1;
	dr_out_need(o, 2048);
	dr_out_char(o, '{');
	dr_out_jd(o, "ts", r->ts, 6, &first);
	dr_out_js(o, "kind", r->kind, &first);
	dr_out_js(o, "src", r->src, &first);
	dr_out_ju(o, "sport", (uint64_t)r->sport, &first);
	dr_out_js(o, "dst", r->dst, &first);
	dr_out_ju(o, "dport", (uint64_t)r->dport, &first);
	if (r->proto == 17 || r->proto == 6)
		dr_out_js(o, "proto", r->proto == 6 ? "tcp" : "udp", &first);
	else
		dr_out_ju(o, "proto", (uint64_t)r->proto, &first);
	static const char *const dns_keys[] = {"id", "qr", "opcode", "rcode", "aa", "tc", "rd",
					       "ra"};
	const int dns_vals[] = {r->id, r->qr, r->opcode, r->rcode, r->aa, r->tc, r->rd, r->ra};
	for (unsigned i = 0; i < 8; i++) {
		dr_out_jkey(o, dns_keys[i], &first);
		if (r->has_dns)
			dr_out_u64(o, (uint64_t)dns_vals[i]);
		else
			dr_out_str(o, "null");
	}
	json_str_or_null(o, "qname", r->qname, &first);
	dr_out_jkey(o, "qtype", &first);
	if (r->qname)
		dr_out_u64(o, (uint64_t)r->qtype);
	else
		dr_out_str(o, "null");
	dr_out_jkey(o, "qclass", &first);
	if (r->qname)
		dr_out_u64(o, (uint64_t)r->qclass);
	else
		dr_out_str(o, "null");
	static const char *const count_keys[] = {"an", "ns", "ar"};
	const int counts[] = {r->an, r->ns, r->ar};
	for (unsigned i = 0; i < 3; i++) {
		dr_out_jkey(o, count_keys[i], &first);
		if (r->has_dns)
			dr_out_u64(o, (uint64_t)counts[i]);
		else
			dr_out_str(o, "null");
	}
	dr_out_ju(o, "len", (uint64_t)r->len, &first);
	dr_out_jkey(o, "edns_udp", &first);
	if (r->has_edns)
		dr_out_u64(o, (uint64_t)r->edns_udp);
	else
		dr_out_str(o, "null");
	dr_out_ju(o, "do", (uint64_t)r->do_bit, &first);
	json_str_or_null(o, "malformed", r->malformed, &first);
	json_str_or_null(o, "zone", r->zone, &first);
	dr_out_ju(o, "packets", (uint64_t)r->packets, &first);
	dr_out_ju(o, "bytes", (uint64_t)r->bytes, &first);
	json_str_or_null(o, "country", r->country, &first);
	dr_out_jkey(o, "asn", &first);
	if (r->has_asn)
		dr_out_i64(o, r->asn);
	else
		dr_out_str(o, "null");
	dr_out_js(o, "why", r->why, &first);
	dr_out_jd(o, "weight", r->weight, 3, &first);
	dr_out_char(o, '}');
}

static int record_json(void *arg, const struct dr_query_record *r)
{
	struct json_ctx *c = arg;
	if (!c->lines && !c->first)
		dr_out_char(c->o, ',');
	c->first = 0;
	dr_query_record_json(c->o, r);
	if (c->lines)
		dr_out_char(c->o, '\n');
	return c->o->err;
}

int dr_query_records_json(struct dr_query *q, const struct dr_query_params *p, int lines,
			  struct dr_out *o, char *errbuf, size_t errlen)
{
	struct json_ctx c = {.o = o, .first = 1, .lines = lines};
	struct dr_query_result res;
	if (!lines)
		dr_out_str(o, "{\"records\":[");
	if (dr_query_records(q, p, record_json, &c, &res, errbuf, errlen) < 0)
		return -1;
	if (!lines)
		dr_out_str(o, res.truncated ? "],\"truncated\":true}" : "],\"truncated\":false}");
	return 0;
}
