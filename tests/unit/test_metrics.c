/* /metrics rendering: the exposition format (every sample under its HELP
 * and TYPE, counters ending in _total), labels escaped, values from the
 * struct where they belong. */
#include <stdlib.h>

#include "expo_check.h"
#include "harness.h"
#include "service/metrics.h"

static char *render(const struct dr_metrics *m)
{
	struct dr_out o;
	dr_out_init_mem(&o, 0, 1 << 22);
	dr_metrics_render(&o, m);
	dr_out_char(&o, 0);
	CHECK_EQ(o.err, 0);
	return o.buf;
}

static void fill(struct dr_metrics *m)
{
	memset(m, 0, sizeof(*m));
	m->started = 1796083200;
	m->now = 1796083260.5;
	m->engine_clock = 1796083259;
	m->nifaces = 2;
	snprintf(m->ifaces[0].name, sizeof(m->ifaces[0].name), "eth0");
	m->ifaces[0].received = 1000;
	m->ifaces[0].kernel_drops = 7;
	snprintf(m->ifaces[1].name, sizeof(m->ifaces[1].name), "we\"ird\\if");
	m->nsockets = 1;
	snprintf(m->sockets[0].name, sizeof(m->sockets[0].name), "[::]:6343");
	m->sockets[0].drops = 3;
	m->decode.frames = 1234;
	m->decode.dns_malformed = 5;
	m->flows.seq_gaps = 2;
	m->records[0] = 900;
	m->records[1] = 50;
	m->ndetectors = 2;
	m->detector[0] = "reflection";
	m->detector[1] = "loop";
	m->alerts_opened[1] = 4;
	m->alerts_open[1] = 1;
	m->have_store = 1;
	m->store.records = 77;
	m->store.queue_cap = 64;
	m->noutputs = 1;
	snprintf(m->outputs[0].name, sizeof(m->outputs[0].name), "webhook");
	m->outputs[0].dropped = 9;
	m->http_requests = 11;
}

static void test_format(void)
{
	struct dr_metrics *m = calloc(1, sizeof(*m));
	int n;
	fill(m);
	char *text = render(m);
	CHECK_EQ(expo_check(text, &n), 0);
	CHECK(n > 60);
	CHECK(strstr(text, "\ndnsradar_capture_packets_total{interface=\"eth0\"} 1000\n") != NULL);
	CHECK(strstr(text, "\ndnsradar_capture_kernel_drops_total{interface=\"eth0\"} 7\n") != NULL);
	CHECK(strstr(text, "{interface=\"we\\\"ird\\\\if\"} 0\n") != NULL);
	CHECK(strstr(text, "\ndnsradar_flow_socket_drops_total{socket=\"[::]:6343\"} 3\n") != NULL);
	CHECK(strstr(text, "\ndnsradar_decode_frames_total 1234\n") != NULL);
	CHECK(strstr(text, "\ndnsradar_decode_dns_malformed_total 5\n") != NULL);
	CHECK(strstr(text, "\ndnsradar_flow_seq_gaps_total 2\n") != NULL);
	CHECK(strstr(text, "\ndnsradar_records_total{kind=\"flow\"} 50\n") != NULL);
	CHECK(strstr(text, "\ndnsradar_alerts_opened_total{type=\"loop\"} 4\n") != NULL);
	CHECK(strstr(text, "\ndnsradar_alerts_open{type=\"loop\"} 1\n") != NULL);
	CHECK(strstr(text, "\ndnsradar_store_records_total 77\n") != NULL);
	CHECK(strstr(text, "\ndnsradar_store_queue_capacity 64\n") != NULL);
	CHECK(strstr(text, "\ndnsradar_output_events_dropped_total{output=\"webhook\"} 9\n") != NULL);
	CHECK(strstr(text, "\ndnsradar_http_requests_total 11\n") != NULL);
	CHECK(strstr(text, "\ndnsradar_start_time_seconds 1796083200.0\n") != NULL);
	CHECK(strstr(text, "# TYPE dnsradar_capture_buffer_bytes gauge\n") != NULL);
	free(text);
	/* without a store, no store families; with no interfaces, families
	 * with no samples are still valid */
	m->have_store = 0;
	m->nifaces = 0;
	text = render(m);
	CHECK_EQ(expo_check(text, &n), 0);
	CHECK(strstr(text, "dnsradar_store_") == NULL);
	free(text);
	free(m);
}

static void test_checker_catches(void)
{
	int n;
	/* the checker itself: each of these is wrong */
	CHECK(expo_check("dnsradar_x_total 1\n", &n) > 0);
	CHECK(expo_check("# HELP dnsradar_x x\n# TYPE dnsradar_x counter\ndnsradar_x 1\n", &n) > 0);
	CHECK(expo_check("# HELP dnsradar_x_total x\n# TYPE dnsradar_x_total gauge\n"
			 "dnsradar_x_total 1\n", &n) > 0);
	CHECK(expo_check("# HELP dnsradar_x x\n# TYPE dnsradar_x gauge\ndnsradar_x one\n", &n) > 0);
	CHECK(expo_check("# HELP dnsradar_x x\n# TYPE dnsradar_x gauge\ndnsradar_x 1\n"
			 "dnsradar_x 2\n", &n) > 0);
	CHECK_EQ(expo_check("# HELP dnsradar_x x\n# TYPE dnsradar_x gauge\n"
			    "dnsradar_x{a=\"b\"} 1\n", &n), 0);
	CHECK_EQ(n, 1);
}

int main(void)
{
	RUN(test_format);
	RUN(test_checker_catches);
	TEST_MAIN_END();
}
