/* Unit tests of --where parsing and matching. */
#include <string.h>

#include "harness.h"
#include "core/where.h"

static struct dr_record rec(void)
{
	struct dr_record r;
	memset(&r, 0, sizeof(r));
	r.family = 4;
	memcpy(r.src, "\xc0\x00\x02\x01", 4);
	memcpy(r.dst, "\xc6\x33\x64\x07", 4);
	r.sport = 53;
	r.dport = 33000;
	r.proto = 17;
	r.dns.flags = 0x8183;	/* response, NXDOMAIN */
	r.dns.rcode_ext = 3;
	r.dns.has_question = 1;
	r.dns.qtype = 28;
	r.dns.qname_len = (uint8_t)dr_name_from_text("WWW.Example.com", r.dns.qname);
	return r;
}

static int match(const char *spec)
{
	struct dr_where w = {0};
	char err[256];
	struct dr_record r = rec();
	if (dr_where_add(&w, spec, err, sizeof(err)) < 0)
		return -1;
	return dr_where_match(&w, &r);
}

static void test_fields(void)
{
	CHECK_EQ(match("src=192.0.2.1"), 1);
	CHECK_EQ(match("src=192.0.2.0/24"), 1);
	CHECK_EQ(match("src=192.0.3.0/24"), 0);
	CHECK_EQ(match("src=2001:db8::/32"), 0);
	CHECK_EQ(match("dst=198.51.100.0/22"), 1);
	CHECK_EQ(match("sport=53"), 1);
	CHECK_EQ(match("dport=53"), 0);
	CHECK_EQ(match("qname=www.example.com"), 1);
	CHECK_EQ(match("qname=www.example.com."), 1);
	CHECK_EQ(match("qname=example.com"), 0);
	CHECK_EQ(match("qname=*.example.com"), 1);
	CHECK_EQ(match("qname=*.ample.com"), 0);
	CHECK_EQ(match("qname=*"), 1);
	CHECK_EQ(match("qtype=AAAA"), 1);
	CHECK_EQ(match("qtype=28"), 1);
	CHECK_EQ(match("qtype=A"), 0);
	CHECK_EQ(match("rcode=nxdomain"), 1);
	CHECK_EQ(match("rcode=0"), 0);
	CHECK_EQ(match("qr=response"), 1);
	CHECK_EQ(match("qr=0"), 0);
	CHECK_EQ(match("proto=udp"), 1);
	CHECK_EQ(match("malformed=none"), 1);
	CHECK_EQ(match("malformed=any"), 0);
}

static void test_errors(void)
{
	CHECK_EQ(match("src"), -1);
	CHECK_EQ(match("colour=red"), -1);
	CHECK_EQ(match("src=300.1.1.1"), -1);
	CHECK_EQ(match("src=10.0.0.0/33"), -1);
	CHECK_EQ(match("sport=70000"), -1);
	CHECK_EQ(match("qtype=BOGUS"), -1);
	CHECK_EQ(match("qname=a..b"), -1);
	CHECK_EQ(match("malformed=weird"), -1);
	struct dr_where w = {0};
	char err[256];
	dr_where_add(&w, "colour=red", err, sizeof(err));
	CHECK(strstr(err, "unknown field") != NULL);
}

static void test_and(void)
{
	struct dr_where w = {0};
	char err[256];
	struct dr_record r = rec();
	CHECK_EQ(dr_where_add(&w, "src=192.0.2.1", err, sizeof(err)), 0);
	CHECK_EQ(dr_where_add(&w, "qtype=AAAA", err, sizeof(err)), 0);
	CHECK_EQ(dr_where_match(&w, &r), 1);
	CHECK_EQ(dr_where_add(&w, "dport=1", err, sizeof(err)), 0);
	CHECK_EQ(dr_where_match(&w, &r), 0);
}

int main(void)
{
	RUN(test_fields);
	RUN(test_errors);
	RUN(test_and);
	TEST_MAIN_END();
}
