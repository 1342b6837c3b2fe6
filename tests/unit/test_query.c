/* The store's reader on a store built here (store_build.h): alerts by
 * range, state and type; top from the aggregates and, with --where, from
 * the weighted records; series; records in time order; the bounds; and
 * the output buffer's memory mode the API builds its answers in. */
#include <stdlib.h>

#include "harness.h"
#include "store/query.h"
#include "store_build.h"

static char path[256], err[512];

struct collect {
	char text[8192];
	size_t len;
	unsigned n;
};

static int on_alert(void *arg, const struct dr_query_alert *a)
{
	struct collect *c = arg;
	c->len += (size_t)snprintf(c->text + c->len, sizeof(c->text) - c->len, "%s:%s:%s;",
				   a->type, a->key, a->state);
	c->n++;
	return 0;
}

static int on_count(void *arg, const struct dr_query_count *k)
{
	struct collect *c = arg;
	if (k->key)
		c->len += (size_t)snprintf(c->text + c->len, sizeof(c->text) - c->len, "%s=%.0f;",
					   k->key, k->packets);
	else
		c->len += (size_t)snprintf(c->text + c->len, sizeof(c->text) - c->len, "%lld=%.0f;",
					   (long long)(k->minute - (int64_t)T0), k->packets);
	c->n++;
	return 0;
}

static int on_record(void *arg, const struct dr_query_record *r)
{
	struct collect *c = arg;
	c->len += (size_t)snprintf(c->text + c->len, sizeof(c->text) - c->len, "%.1f %s>%s %s;",
				   r->ts - T0, r->src, r->dst, r->qname ? r->qname : "-");
	c->n++;
	return 0;
}

static struct dr_query_params range(double from, double to)
{
	struct dr_query_params p = {.from = from, .to = to};
	return p;
}

static void test_open_errors(void)
{
	struct dr_query *q;
	CHECK_EQ(dr_query_open(&q, "/nonexistent/store.db", err, sizeof(err)), -1);
	CHECK(strstr(err, "/nonexistent/store.db: No such file") != NULL);
	char junk[300];
	snprintf(junk, sizeof(junk), "%s.junk", path);
	FILE *f = fopen(junk, "w");
	fputs("this is not a database, not at all, not even close........................", f);
	fclose(f);
	CHECK_EQ(dr_query_open(&q, junk, err, sizeof(err)), -1);
	CHECK(strstr(err, "not a dnsradar store") != NULL);
	/* an SQLite file without the store's tables */
	sqlite3 *db;
	unlink(junk);
	sqlite3_open(junk, &db);
	sb_exec(db, "CREATE TABLE t(x)");
	sqlite3_close(db);
	CHECK_EQ(dr_query_open(&q, junk, err, sizeof(err)), -1);
	CHECK(strstr(err, "not a dnsradar store (no alerts") != NULL);
	unlink(junk);
	CHECK_EQ(dr_query_open(&q, path, err, sizeof(err)), 0);
	dr_query_close(q);
}

static void test_alerts(void)
{
	struct dr_query *q;
	struct dr_query_result res;
	CHECK_EQ(dr_query_open(&q, path, err, sizeof(err)), 0);
	struct dr_query_params p = range(T0, T0 + 7200);
	CHECK_EQ(dr_query_check("alerts", &p, "--", err, sizeof(err)), 0);
	CHECK_EQ(p.limit, DR_QUERY_ALERTS_LIMIT);
	struct collect c = {.n = 0};
	CHECK_EQ(dr_query_alerts(q, &p, on_alert, &c, &res, err, sizeof(err)), 0);
	CHECK_STR(c.text, "reflection:192.0.2.1:open;loop:203.0.113.9:closed;"
		  "flood:198.51.100.7:interrupted;");
	/* a range that ends before the flood starts, and one inside the loop */
	memset(&c, 0, sizeof(c));
	p = range(T0 + 250, T0 + 260);
	dr_query_check("alerts", &p, "--", err, sizeof(err));
	dr_query_alerts(q, &p, on_alert, &c, &res, err, sizeof(err));
	CHECK_STR(c.text, "loop:203.0.113.9:closed;");
	memset(&c, 0, sizeof(c));
	p = range(T0, T0 + 7200);
	p.state = DR_QS_INTERRUPTED;
	dr_query_check("alerts", &p, "--", err, sizeof(err));
	dr_query_alerts(q, &p, on_alert, &c, &res, err, sizeof(err));
	CHECK_STR(c.text, "flood:198.51.100.7:interrupted;");
	memset(&c, 0, sizeof(c));
	p = range(T0, T0 + 7200);
	p.type = "loop";
	dr_query_check("alerts", &p, "--", err, sizeof(err));
	dr_query_alerts(q, &p, on_alert, &c, &res, err, sizeof(err));
	CHECK_STR(c.text, "loop:203.0.113.9:closed;");
	memset(&c, 0, sizeof(c));
	p = range(T0, T0 + 7200);
	p.limit = 2;
	dr_query_alerts(q, &p, on_alert, &c, &res, err, sizeof(err));
	CHECK_EQ(c.n, 2);
	CHECK_EQ(res.truncated, 1);
	/* JSON: the stored objects, as they are */
	struct dr_out o;
	dr_out_init_mem(&o, 0, 1 << 20);
	p = range(T0, T0 + 150);
	dr_query_check("alerts", &p, "--", err, sizeof(err));
	CHECK_EQ(dr_query_alerts_json(q, &p, &o, err, sizeof(err)), 0);
	dr_out_char(&o, 0);
	CHECK(strncmp(o.buf, "{\"alerts\":[{\"type\":\"reflection\",\"key\":\"192.0.2.1\"", 49) == 0);
	CHECK(strstr(o.buf, "],\"truncated\":false}") != NULL);
	dr_out_fini(&o);
	dr_query_close(q);
}

static void test_top(void)
{
	struct dr_query *q;
	struct dr_query_result res;
	struct collect c = {.n = 0};
	CHECK_EQ(dr_query_open(&q, path, err, sizeof(err)), 0);
	/* both minutes: 198.51.100.7 21, 192.0.2.1 15; (other) is not a key */
	struct dr_query_params p = range(T0, T0 + 120);
	p.dim = DR_QD_SRC;
	CHECK_EQ(dr_query_check("top", &p, "--", err, sizeof(err)), 0);
	CHECK_EQ(dr_query_top(q, &p, on_count, &c, &res, err, sizeof(err)), 0);
	CHECK_STR(c.text, "198.51.100.7=21;192.0.2.1=15;");
	CHECK(res.total_packets == 39);
	CHECK_EQ(res.sampled, 0);
	/* the second minute alone: a range that starts inside it counts it */
	memset(&c, 0, sizeof(c));
	p = range(T0 + 90, T0 + 100);
	p.dim = DR_QD_SRC;
	dr_query_check("top", &p, "--", err, sizeof(err));
	dr_query_top(q, &p, on_count, &c, &res, err, sizeof(err));
	CHECK_STR(c.text, "192.0.2.1=5;198.51.100.7=1;");
	/* qtype numbers are shown by mnemonic */
	memset(&c, 0, sizeof(c));
	p = range(T0, T0 + 120);
	p.dim = DR_QD_QTYPE;
	dr_query_check("top", &p, "--", err, sizeof(err));
	dr_query_top(q, &p, on_count, &c, &res, err, sizeof(err));
	CHECK_STR(c.text, "A=36;AAAA=3;");
	/* with --where: from the records, weighted */
	struct dr_where w = {.n = 0};
	CHECK_EQ(dr_where_add(&w, "dst=203.0.113.0/24", err, sizeof(err)), 0);
	memset(&c, 0, sizeof(c));
	p = range(T0, T0 + 120);
	p.dim = DR_QD_SRC;
	p.where = &w;
	dr_query_check("top", &p, "--", err, sizeof(err));
	CHECK_EQ(dr_query_top(q, &p, on_count, &c, &res, err, sizeof(err)), 0);
	CHECK_STR(c.text, "192.0.2.77=10;192.0.2.1=2;");
	CHECK_EQ(res.sampled, 1);
	CHECK(res.total_packets == 12);
	struct dr_out o;
	dr_out_init_mem(&o, 0, 1 << 20);
	CHECK_EQ(dr_query_top_json(q, &p, &o, err, sizeof(err)), 0);
	dr_out_char(&o, 0);
	CHECK(strstr(o.buf, "\"top\":[{\"key\":\"192.0.2.77\",\"share\":0.8333,\"messages\":10,"
		     "\"packets\":10,\"bytes\":880,\"sources\":1,\"prefixes\":1,\"asns\":1}") != NULL);
	/* the distinct counts of all matching kept records, in the total */
	CHECK(strstr(o.buf, "\"total\":{\"messages\":12,\"packets\":12,\"bytes\":1028,"
		     "\"sources\":2,\"prefixes\":1,\"asns\":1}") != NULL);
	CHECK(strstr(o.buf, "\"sampled\":true,\"note\":\"counted from the kept sample") != NULL);
	dr_out_fini(&o);
	dr_query_close(q);
}

static void test_where_names(void)
{
	struct dr_query *q;
	struct dr_query_result res;
	struct collect c = {.n = 0};
	struct dr_where w = {.n = 0};
	CHECK_EQ(dr_query_open(&q, path, err, sizeof(err)), 0);
	CHECK_EQ(dr_where_add(&w, "qname=*.example.com", err, sizeof(err)), 0);
	struct dr_query_params p = range(T0, T0 + 120);
	p.where = &w;
	dr_query_check("records", &p, "--", err, sizeof(err));
	CHECK_EQ(dr_query_records(q, &p, on_record, &c, &res, err, sizeof(err)), 0);
	/* in time order; case does not matter; badexample.com is not below */
	CHECK_STR(c.text, "1.0 203.0.113.53>192.0.2.1 x.example.com;"
		  "1.5 192.0.2.1>203.0.113.53 x.example.com;"
		  "2.0 192.0.2.1>203.0.113.53 WWW.Example.COM;"
		  "4.0 2001:db8::1>2001:db8::53 example.com;");
	/* an exact name, a qtype, an rcode */
	w.n = 0;
	memset(&c, 0, sizeof(c));
	dr_where_add(&w, "qname=www.example.com", err, sizeof(err));
	dr_query_records(q, &p, on_record, &c, &res, err, sizeof(err));
	CHECK_EQ(c.n, 1);
	w.n = 0;
	memset(&c, 0, sizeof(c));
	dr_where_add(&w, "rcode=FORMERR", err, sizeof(err));
	dr_query_records(q, &p, on_record, &c, &res, err, sizeof(err));
	CHECK_STR(c.text, "1.0 203.0.113.53>192.0.2.1 x.example.com;");
	w.n = 0;
	memset(&c, 0, sizeof(c));
	dr_where_add(&w, "qtype=AAAA", err, sizeof(err));
	dr_query_records(q, &p, on_record, &c, &res, err, sizeof(err));
	CHECK_STR(c.text, "4.0 2001:db8::1>2001:db8::53 example.com;");
	w.n = 0;
	memset(&c, 0, sizeof(c));
	dr_where_add(&w, "malformed=any", err, sizeof(err));
	dr_query_records(q, &p, on_record, &c, &res, err, sizeof(err));
	CHECK_EQ(c.n, 2);
	/* the most conditions there may be, each of the longest SQL: the
	 * statement is built whole and runs */
	w.n = 0;
	for (int i = 0; i < DR_WHERE_MAX; i++)
		CHECK_EQ(dr_where_add(&w, "qname=*.example.com", err, sizeof(err)), 0);
	memset(&c, 0, sizeof(c));
	CHECK_EQ(dr_query_records(q, &p, on_record, &c, &res, err, sizeof(err)), 0);
	CHECK_EQ(c.n, 4);
	dr_query_close(q);
}

static void test_records(void)
{
	struct dr_query *q;
	struct dr_query_result res;
	struct collect c = {.n = 0};
	struct dr_where w = {.n = 0};
	CHECK_EQ(dr_query_open(&q, path, err, sizeof(err)), 0);
	CHECK_EQ(dr_where_add(&w, "src=192.0.2.1", err, sizeof(err)), 0);
	struct dr_query_params p = range(T0, T0 + 7200);
	p.where = &w;
	CHECK_EQ(dr_query_check("records", &p, "--", err, sizeof(err)), 0);
	CHECK_EQ(p.limit, DR_QUERY_RECORDS_LIMIT);
	CHECK_EQ(dr_query_records(q, &p, on_record, &c, &res, err, sizeof(err)), 0);
	CHECK_STR(c.text, "1.5 192.0.2.1>203.0.113.53 x.example.com;"
		  "2.0 192.0.2.1>203.0.113.53 WWW.Example.COM;"
		  "4000.0 192.0.2.1>203.0.113.53 late.example.com;");
	/* a prefix: found by the address index, still in time order */
	w.n = 0;
	memset(&c, 0, sizeof(c));
	dr_where_add(&w, "src=192.0.2.0/24", err, sizeof(err));
	dr_query_records(q, &p, on_record, &c, &res, err, sizeof(err));
	CHECK_STR(c.text, "1.5 192.0.2.1>203.0.113.53 x.example.com;"
		  "2.0 192.0.2.1>203.0.113.53 WWW.Example.COM;"
		  "3.0 192.0.2.77>203.0.113.53 badexample.com;"
		  "4000.0 192.0.2.1>203.0.113.53 late.example.com;");
	/* a /0 of one family does not reach the other's keys */
	w.n = 0;
	memset(&c, 0, sizeof(c));
	dr_where_add(&w, "src=::/0", err, sizeof(err));
	dr_query_records(q, &p, on_record, &c, &res, err, sizeof(err));
	CHECK_STR(c.text, "4.0 2001:db8::1>2001:db8::53 example.com;");
	w.n = 0;
	memset(&c, 0, sizeof(c));
	dr_where_add(&w, "dst=192.0.2.0/25", err, sizeof(err));
	dr_where_add(&w, "dport=22772", err, sizeof(err));
	dr_query_records(q, &p, on_record, &c, &res, err, sizeof(err));
	CHECK_STR(c.text, "1.0 203.0.113.53>192.0.2.1 x.example.com;");
	/* the JSON line of a record */
	w.n = 0;
	dr_where_add(&w, "src=192.0.2.1", err, sizeof(err));
	p.limit = 1;
	struct dr_out o;
	dr_out_init_mem(&o, 0, 1 << 20);
	CHECK_EQ(dr_query_records_json(q, &p, 1, &o, err, sizeof(err)), 0);
	dr_out_char(&o, 0);
	CHECK_STR(o.buf, "{\"ts\":1796083201.5,\"kind\":\"dns\",\"src\":\"192.0.2.1\",\"sport\":22772,"
		  "\"dst\":\"203.0.113.53\",\"dport\":53,\"proto\":\"udp\",\"id\":4660,\"qr\":0,"
		  "\"opcode\":0,\"rcode\":0,\"aa\":0,\"tc\":0,\"rd\":1,\"ra\":0,"
		  "\"qname\":\"x.example.com\",\"qtype\":0,\"qclass\":1,\"an\":0,\"ns\":0,\"ar\":0,"
		  "\"len\":40,\"edns_udp\":null,\"do\":0,\"malformed\":\"qtype0\",\"zone\":null,"
		  "\"packets\":1,\"bytes\":68,\"country\":\"NL\",\"asn\":64500,\"why\":\"alert\","
		  "\"weight\":1.0}\n");
	dr_out_fini(&o);
	dr_query_close(q);
}

static void test_series(void)
{
	struct dr_query *q;
	struct dr_query_result res;
	struct collect c = {.n = 0};
	CHECK_EQ(dr_query_open(&q, path, err, sizeof(err)), 0);
	struct dr_query_params p = range(T0, T0 + 3600);
	p.dim = DR_QD_TOTAL;
	CHECK_EQ(dr_query_check("series", &p, "--", err, sizeof(err)), 0);
	CHECK_EQ(dr_query_series(q, &p, on_count, &c, &res, err, sizeof(err)), 0);
	CHECK_STR(c.text, "0=33;60=6;");
	memset(&c, 0, sizeof(c));
	p.dim = DR_QD_SRC;
	p.key = "198.51.100.7";
	dr_query_series(q, &p, on_count, &c, &res, err, sizeof(err));
	CHECK_STR(c.text, "0=20;60=1;");
	dr_query_close(q);
}

static void test_bounds(void)
{
	struct dr_query_params p = range(T0, T0 + 32 * 86400.0);
	CHECK_EQ(dr_query_check("records", &p, "--", err, sizeof(err)), -1);
	CHECK(strstr(err, "longer than the 31 days") != NULL);
	/* alerts: any range, the rows are bounded by the limit */
	p = range(946684800.0, T0);
	CHECK_EQ(dr_query_check("alerts", &p, "--", err, sizeof(err)), 0);
	p = range(T0, T0 + 60);
	p.limit = DR_QUERY_LIMIT_MAX + 1;
	CHECK_EQ(dr_query_check("records", &p, "--", err, sizeof(err)), -1);
	CHECK(strstr(err, "over the most, 100000") != NULL);
	struct dr_where w = {.n = 0};
	dr_where_add(&w, "src=192.0.2.1", err, sizeof(err));
	p = range(T0, T0 + 60);
	p.where = &w;
	CHECK_EQ(dr_query_check("series", &p, "", err, sizeof(err)), -1);
	p = range(T0, T0 + 60);
	p.dim = DR_QD_TOTAL;
	CHECK_EQ(dr_query_check("top", &p, "", err, sizeof(err)), -1);
	CHECK_EQ(dr_query_dim_parse("asn", 0), DR_QD_ASN);
	CHECK_EQ(dr_query_dim_parse("total", 0), -1);
	CHECK_EQ(dr_query_dim_parse("bogus", 1), -1);
	CHECK_EQ(dr_query_state_parse("interrupted"), DR_QS_INTERRUPTED);
	CHECK_EQ(dr_query_state_parse("x"), -1);
}

static void test_outbuf_mem(void)
{
	struct dr_out o;
	CHECK_EQ(dr_out_init_mem(&o, 16, 100000), 0);
	for (int i = 0; i < 10000; i++)
		dr_out_str(&o, "abcdefgh");
	CHECK_EQ(o.err, 0);
	CHECK_EQ(o.len, 80000);
	CHECK(memcmp(o.buf + 79992, "abcdefgh", 8) == 0);
	/* over the cap: an error the caller sees, not a cut answer */
	for (int i = 0; i < 10000; i++)
		dr_out_str(&o, "abcdefgh");
	CHECK_EQ(o.err, 1);
	CHECK(o.cap <= 100000);
	dr_out_fini(&o);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(path, sizeof(path), "%s/test_query.%d.db", tmp ? tmp : "/tmp", (int)getpid());
	sb_build(path);
	RUN(test_open_errors);
	RUN(test_alerts);
	RUN(test_top);
	RUN(test_where_names);
	RUN(test_records);
	RUN(test_series);
	RUN(test_bounds);
	RUN(test_outbuf_mem);
	char side[300];
	unlink(path);
	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path);
	unlink(side);
	TEST_MAIN_END();
}
