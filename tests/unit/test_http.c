/* The HTTP API on 127.0.0.1 (a port the kernel picks), asked with libcurl:
 * every endpoint on a store built here, every kind of bad request, the
 * token, and the bind rules. Each transfer has a timeout; the servers are
 * stopped and the store removed at the end. */
#include <curl/curl.h>
#include <stdlib.h>

#include "expo_check.h"
#include "harness.h"
#include "service/http.h"
#include "store_build.h"

static char path[256], err[512];

struct reply {
	long status;
	char type[128];
	char body[1 << 16];
	size_t len;
};

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct reply *r = arg;
	size_t len = size * n, room = sizeof(r->body) - 1 - r->len;
	memcpy(r->body + r->len, p, len < room ? len : room);
	r->len += len < room ? len : room;
	r->body[r->len] = 0;
	return len;
}

/* GET (or method) http://127.0.0.1:port + url, with a bearer token. */
static int get_origin;	/* send "Origin: http://evil.example" */

static void get(unsigned port, const char *method, const char *url, const char *token,
		struct reply *r)
{
	char full[1024], auth[300];
	struct curl_slist *hdr = NULL;
	CURL *c = curl_easy_init();
	memset(r, 0, sizeof(*r));
	snprintf(full, sizeof(full), "http://127.0.0.1:%u%s", port, url);
	curl_easy_setopt(c, CURLOPT_URL, full);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	if (method) {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
		if (strcmp(method, "POST") == 0)
			curl_easy_setopt(c, CURLOPT_POSTFIELDS, "x=1");
	}
	if (token) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
		hdr = curl_slist_append(hdr, auth);
	}
	if (get_origin)
		hdr = curl_slist_append(hdr, "Origin: http://evil.example");
	if (hdr)
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	CURLcode rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		fprintf(stderr, "curl %s: %s\n", full, curl_easy_strerror(rc));
		r->status = -1;
	} else {
		char *ct = NULL;
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
		curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
		snprintf(r->type, sizeof(r->type), "%s", ct ? ct : "");
	}
	curl_slist_free_all(hdr);
	curl_easy_cleanup(c);
}

static struct reply rep;

#define RANGE "from=1796083200&to=1796090400"	/* T0 .. T0 + 2 h */

static void check_error(unsigned port, const char *url, long status, const char *needle)
{
	get(port, NULL, url, NULL, &rep);
	if (rep.status != status || !strstr(rep.body, needle) ||
	    strncmp(rep.body, "{\"error\":\"", 10) != 0)
		fprintf(stderr, "%s: %ld %s\n", url, rep.status, rep.body);
	CHECK_EQ(rep.status, status);
	CHECK(strncmp(rep.body, "{\"error\":\"", 10) == 0);
	CHECK(strstr(rep.body, needle) != NULL);
}

static void test_endpoints(void)
{
	struct dr_metrics_board board;
	struct dr_http *h;
	pthread_mutex_init(&board.lock, NULL);
	memset(&board.m, 0, sizeof(board.m));
	board.m.ndetectors = 1;
	board.m.detector[0] = "loop";
	board.m.alerts_opened[0] = 3;
	CHECK_EQ(dr_http_open(&h, "127.0.0.1:0", NULL, path, &board, NULL, err, sizeof(err)), 0);
	if (!h) {
		fprintf(stderr, "%s\n", err);
		return;
	}
	CHECK_EQ(dr_http_start(h, err, sizeof(err)), 0);
	unsigned port = dr_http_port(h);
	CHECK(port > 0);

	get(port, NULL, "/healthz", NULL, &rep);
	CHECK_EQ(rep.status, 200);
	CHECK_STR(rep.body, "ok\n");

	get(port, NULL, "/api/alerts?" RANGE, NULL, &rep);
	CHECK_EQ(rep.status, 200);
	CHECK_STR(rep.type, "application/json");
	CHECK(strncmp(rep.body, "{\"alerts\":[{\"type\":\"reflection\"", 31) == 0);
	CHECK(strstr(rep.body, "\"type\":\"loop\"") != NULL);
	get(port, NULL, "/api/alerts?" RANGE "&state=closed&type=loop&limit=5", NULL, &rep);
	CHECK_EQ(rep.status, 200);
	CHECK(strstr(rep.body, "reflection") == NULL && strstr(rep.body, "\"loop\"") != NULL);
	get(port, NULL, "/api/alerts?from=2026-12-01T00:00&to=2026-12-01T00:01", NULL, &rep);
	CHECK_EQ(rep.status, 200);
	CHECK(strstr(rep.body, "\"reflection\"") != NULL && strstr(rep.body, "loop") == NULL);

	get(port, NULL, "/api/top?by=src&" RANGE, NULL, &rep);
	CHECK_EQ(rep.status, 200);
	CHECK(strstr(rep.body, "\"top\":[{\"key\":\"198.51.100.7\"") != NULL);
	CHECK(strstr(rep.body, "\"sampled\":false") != NULL);
	/* the aggregates do not know distinct sources */
	CHECK(strstr(rep.body, "\"sources\":null,\"prefixes\":null,\"asns\":null}") != NULL);
	get(port, NULL, "/api/top?by=src&where=dst%3D203.0.113.0%2F24&limit=1&" RANGE, NULL, &rep);
	CHECK_EQ(rep.status, 200);
	CHECK(strstr(rep.body, "\"top\":[{\"key\":\"192.0.2.77\"") != NULL);
	CHECK(strstr(rep.body, "\"sampled\":true") != NULL);
	CHECK(strstr(rep.body, "\"truncated\":true") != NULL);
	CHECK(strstr(rep.body, "\"bytes\":880,\"sources\":1,\"prefixes\":1,\"asns\":1}") != NULL);

	get(port, NULL, "/api/series?" RANGE, NULL, &rep);
	CHECK_EQ(rep.status, 200);
	CHECK(strstr(rep.body, "\"series\":[{\"minute\":1796083200,\"messages\":33,") != NULL);
	get(port, NULL, "/api/series?dim=src&key=192.0.2.1&" RANGE, NULL, &rep);
	CHECK_EQ(rep.status, 200);
	CHECK(strstr(rep.body, "{\"minute\":1796083260,\"messages\":5,") != NULL);

	get(port, NULL, "/api/records?where=src%3D192.0.2.1&where=qname%3D*.example.com"
	    "&from=1796083200&to=1796086800", NULL, &rep);
	CHECK_EQ(rep.status, 200);
	CHECK(strncmp(rep.body, "{\"records\":[{\"ts\":1796083201.5,", 31) == 0);
	CHECK(strstr(rep.body, "WWW.Example.COM") != NULL);
	CHECK(strstr(rep.body, "late.example.com") == NULL);	/* out of range */

	get(port, NULL, "/metrics", NULL, &rep);
	CHECK_EQ(rep.status, 200);
	CHECK(strncmp(rep.type, "text/plain; version=0.0.4", 25) == 0);
	int n;
	CHECK_EQ(expo_check(rep.body, &n), 0);
	CHECK(strstr(rep.body, "\ndnsradar_alerts_opened_total{type=\"loop\"} 3\n") != NULL);
	/* requests so far, this one included: the HTTP thread's own count */
	CHECK(strstr(rep.body, "\ndnsradar_http_requests_total 10\n") != NULL);

	/* bad requests: a 4xx and a message, never a crash */
	check_error(port, "/api/alerts?bogus=1", 400, "unknown parameter 'bogus'");
	check_error(port, "/api/alerts?since=5x", 400, "since '5x': give");
	check_error(port, "/api/alerts?since=1h&from=now", 400, "cannot be combined");
	check_error(port, "/api/alerts?from=yesterday", 400, "from 'yesterday'");
	check_error(port, "/api/alerts?state=asleep", 400, "state 'asleep'");
	check_error(port, "/api/alerts?limit=1000000", 400, "limit '1000000'");
	check_error(port, "/api/alerts?limit=1&limit=2", 400, "given twice");
	check_error(port, "/api/records?since=40d", 400, "longer than the 31 days");
	check_error(port, "/api/records?where=color%3Dred", 400, "unknown field");
	check_error(port, "/api/top?by=color", 400, "by 'color'");
	check_error(port, "/api/series?where=src%3D1.2.3.4", 400, "unknown parameter 'where'");
	check_error(port, "/api/series?key=x", 400, "key needs dim");
	check_error(port, "/metrics?x=1", 400, "unknown parameter 'x'");
	check_error(port, "/api/nothing", 404, "no such endpoint");
	check_error(port, "/", 404, "no such endpoint");
	get(port, "POST", "/api/alerts", NULL, &rep);
	CHECK_EQ(rep.status, 405);
	get(port, "DELETE", "/metrics", NULL, &rep);
	CHECK_EQ(rep.status, 405);
	/* still serving after all that */
	get(port, NULL, "/api/alerts?" RANGE, NULL, &rep);
	CHECK_EQ(rep.status, 200);
	get(port, NULL, "/metrics", NULL, &rep);
	CHECK(strstr(rep.body, "\ndnsradar_http_errors_total 17\n") != NULL);
	dr_http_close(h);
	pthread_mutex_destroy(&board.lock);
}

static void test_token(void)
{
	struct dr_http *h;
	CHECK_EQ(dr_http_open(&h, "127.0.0.1:0", "s3cret-token", path, NULL, NULL, err, sizeof(err)), 0);
	if (!h)
		return;
	CHECK_EQ(dr_http_start(h, err, sizeof(err)), 0);
	unsigned port = dr_http_port(h);
	get(port, NULL, "/api/alerts?" RANGE, NULL, &rep);
	CHECK_EQ(rep.status, 401);
	get(port, NULL, "/api/alerts?" RANGE, "s3cret-tokem", &rep);
	CHECK_EQ(rep.status, 401);
	get(port, NULL, "/api/alerts?" RANGE, "s3cret-token-and-more", &rep);
	CHECK_EQ(rep.status, 401);
	get(port, NULL, "/api/alerts?" RANGE, "s3cret", &rep);
	CHECK_EQ(rep.status, 401);
	get(port, NULL, "/api/alerts?" RANGE, "s3cret-token", &rep);
	CHECK_EQ(rep.status, 200);
	get(port, NULL, "/healthz", NULL, &rep);	/* health needs no token */
	CHECK_EQ(rep.status, 200);
	get(port, NULL, "/metrics", "s3cret-token", &rep);
	CHECK_EQ(rep.status, 503);	/* no board */
	dr_http_close(h);
}

static void test_no_store(void)
{
	struct dr_http *h;
	char missing[300];
	CHECK_EQ(dr_http_open(&h, "127.0.0.1:0", NULL, NULL, NULL, NULL, err, sizeof(err)), 0);
	if (!h)
		return;
	CHECK_EQ(dr_http_start(h, err, sizeof(err)), 0);
	check_error(dr_http_port(h), "/api/alerts", 503, "no store");
	dr_http_close(h);
	snprintf(missing, sizeof(missing), "%s.missing", path);
	CHECK_EQ(dr_http_open(&h, "127.0.0.1:0", NULL, missing, NULL, NULL, err, sizeof(err)), 0);
	if (!h)
		return;
	CHECK_EQ(dr_http_start(h, err, sizeof(err)), 0);
	check_error(dr_http_port(h), "/api/top", 503, "No such file");
	dr_http_close(h);
}

/* GET /api/actions and POST /api/actions/ID/lift on a dry-run response
 * holding one planned action. */
static void test_actions(void)
{
	struct dr_http *h;
	struct dr_respond *r;
	struct dr_respond_config rc;
	dr_respond_config_defaults(&rc);
	snprintf(rc.state, sizeof(rc.state), "%s.actions.json", path);
	CHECK_EQ(dr_respond_open(&r, &rc, NULL, NULL, err, sizeof(err)), 0);
	if (!r)
		return;
	struct dr_alert a = {.id = 4, .type = "flood", .key = "192.0.2.7", .severity = DR_SEV_HIGH};
	a.ev.kind = DR_EV_FLOOD;
	a.ev.u.flood.by_source = 1;
	a.ev.u.flood.source = (struct dr_ev_addr){.family = 4, .prefix_len = 32, .a = {192, 0, 2, 7}};
	a.ev.u.flood.port = 53;
	dr_respond_event(r, DR_EVENT_OPEN, &a);
	CHECK_EQ(dr_http_open(&h, "127.0.0.1:0", NULL, NULL, NULL, r, err, sizeof(err)), 0);
	if (!h) {
		dr_respond_close(r);
		return;
	}
	CHECK_EQ(dr_http_start(h, err, sizeof(err)), 0);
	unsigned port = dr_http_port(h);
	get(port, NULL, "/api/actions", NULL, &rep);
	CHECK_EQ(rep.status, 200);
	CHECK(strstr(rep.body, "\"acting\":false") != NULL);
	CHECK(strstr(rep.body, "\"state\":\"dry-run\"") != NULL);
	CHECK(strstr(rep.body, "\"kind\":\"drop-source\"") != NULL);
	CHECK(strstr(rep.body, "nft add element inet dnsradar src4 '{ 192.0.2.7 . 53 timeout "
			       "3600s }'") != NULL);
	check_error(port, "/api/actions/1/lift", 405, "POST");
	get(port, "POST", "/api/actions/99/lift", NULL, &rep);
	CHECK_EQ(rep.status, 404);
	get(port, "POST", "/api/actions/1/nothing", NULL, &rep);
	CHECK_EQ(rep.status, 404);
	get(port, "POST", "/api/alerts", NULL, &rep);
	CHECK_EQ(rep.status, 405);
	get_origin = 1;	/* as a web page posting to loopback would */
	get(port, "POST", "/api/actions/1/lift", NULL, &rep);
	get_origin = 0;
	CHECK_EQ(rep.status, 403);
	get(port, "POST", "/api/actions/1/lift", NULL, &rep);
	CHECK_EQ(rep.status, 200);
	CHECK(strstr(rep.body, "\"lifted\":1") != NULL);
	get(port, NULL, "/api/actions", NULL, &rep);
	CHECK(strstr(rep.body, "\"actions\":[]") != NULL);
	dr_http_close(h);
	dr_respond_close(r);
	/* no response: 503 */
	CHECK_EQ(dr_http_open(&h, "127.0.0.1:0", NULL, NULL, NULL, NULL, err, sizeof(err)), 0);
	if (!h)
		return;
	CHECK_EQ(dr_http_start(h, err, sizeof(err)), 0);
	check_error(dr_http_port(h), "/api/actions", 503, "not running");
	dr_http_close(h);
}

static void test_bind_rules(void)
{
	struct dr_http *h;
	/* refused before any socket is bound: nothing listens beyond loopback */
	CHECK_EQ(dr_http_open(&h, "0.0.0.0:8053", NULL, NULL, NULL, NULL, err, sizeof(err)), -1);
	CHECK_STR(err, "--http 0.0.0.0:8053 needs http_token (only a loopback address may go "
		  "without)");
	CHECK_EQ(dr_http_open(&h, "[::]:8053", "", NULL, NULL, NULL, err, sizeof(err)), -1);
	CHECK(strstr(err, "needs http_token") != NULL);
	CHECK_EQ(dr_http_open(&h, "8053", NULL, NULL, NULL, NULL, err, sizeof(err)), -1);
	CHECK(strstr(err, "give ADDRESS:PORT") != NULL);
	CHECK_EQ(dr_http_open(&h, "127.0.0.1:99999", NULL, NULL, NULL, NULL, err, sizeof(err)), -1);
	CHECK_EQ(dr_http_open(&h, "127.0.0.1:", NULL, NULL, NULL, NULL, err, sizeof(err)), -1);
	/* loopback needs no token; open without start holds only the socket */
	CHECK_EQ(dr_http_open(&h, "[::1]:0", NULL, NULL, NULL, NULL, err, sizeof(err)) == 0 ||
		 strstr(err, "Cannot assign") != NULL, 1);	/* a host without IPv6 */
	dr_http_close(h);
	CHECK_EQ(dr_http_open(&h, "127.0.0.2:0", NULL, NULL, NULL, NULL, err, sizeof(err)), 0);
	dr_http_close(h);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(path, sizeof(path), "%s/test_http.%d.db", tmp ? tmp : "/tmp", (int)getpid());
	sb_build(path);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	RUN(test_actions);
	RUN(test_bind_rules);
	RUN(test_endpoints);
	RUN(test_token);
	RUN(test_no_store);
	curl_global_cleanup();
	char side[300];
	unlink(path);
	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path);
	unlink(side);
	TEST_MAIN_END();
}
