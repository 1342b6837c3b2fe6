/* The alert outputs: the JSON-lines log (one valid line per event, reopened
 * after rotation, failures counted), the syslog line, the webhook against
 * a receiver in a thread of this test (retries on 503, none on 400, the
 * queue's overflow, close's drain) and the exec hook (the JSON on stdin,
 * the environment, failures, timeouts, the cap on running hooks). */
#define _GNU_SOURCE	/* strcasestr */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alert_samples.h"
#include "harness.h"
#include "report/alerts.h"
#include "service/outputs.h"

#define WAIT_LIMIT 20.0		/* seconds any wait gives up after: a hang, not a time */

static char dir[256];

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void nap(void)
{
	struct timespec ts = {0, 10 * 1000 * 1000};
	nanosleep(&ts, NULL);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = malloc(1 << 20);
	size_t n = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
	fclose(f);
	if (buf)
		buf[n] = 0;
	if (len)
		*len = n;
	return buf;
}

static unsigned count_lines(const char *s)
{
	unsigned n = 0;
	for (; s && *s; s++)
		n += *s == '\n';
	return n;
}

/* A JSON checker, enough to say a line is one well-formed value. */
static const char *json_value(const char *p);

static const char *json_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\r')
		p++;
	return p;
}

static const char *json_string(const char *p)
{
	if (*p++ != '"')
		return NULL;
	for (; *p != '"'; p++) {
		if ((unsigned char)*p < 0x20)
			return NULL;
		if (*p == '\\') {
			p++;
			if (*p == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!isxdigit((unsigned char)p[i]))
						return NULL;
				p += 4;
			} else if (!strchr("\"\\/bfnrt", *p) || !*p) {
				return NULL;
			}
		}
	}
	return p + 1;
}

static const char *json_value(const char *p)
{
	p = json_ws(p);
	if (*p == '{' || *p == '[') {
		char close = *p == '{' ? '}' : ']';
		p = json_ws(p + 1);
		if (*p == close)
			return p + 1;
		for (;;) {
			if (close == '}') {
				if (!(p = json_string(json_ws(p))))
					return NULL;
				p = json_ws(p);
				if (*p++ != ':')
					return NULL;
			}
			if (!(p = json_value(p)))
				return NULL;
			p = json_ws(p);
			if (*p == close)
				return p + 1;
			if (*p++ != ',')
				return NULL;
		}
	}
	if (*p == '"')
		return json_string(p);
	if (!strncmp(p, "true", 4) || !strncmp(p, "null", 4))
		return p + 4;
	if (!strncmp(p, "false", 5))
		return p + 5;
	char *end;
	strtod(p, &end);
	return end == p ? NULL : end;
}

/* The line from p up to its newline is exactly one JSON value. */
static int json_line_ok(const char *p)
{
	const char *e = json_value(p);
	return e && *e == '\n';
}

static struct dr_outputs *open_outputs(const struct dr_output_config *c)
{
	char err[256] = "";
	struct dr_outputs *o = NULL;
	int rc = dr_outputs_open(&o, c, -1, -1, err, sizeof(err));
	if (rc != 0)
		fprintf(stderr, "dr_outputs_open: %s\n", err);
	CHECK_EQ(rc, 0);
	return o;
}

/* Runs the samples into o; returns the number of events. */
static unsigned feed(struct dr_outputs *o, struct alert_sample *s, unsigned *nsamples)
{
	struct dr_alerts al;
	unsigned events = 0, n;
	CHECK_EQ(dr_alerts_init(&al), 0);
	CHECK_EQ(dr_alerts_subscribe(&al, dr_outputs_event, o), 0);
	n = alert_samples_run(&al, s, 1764590000.0);
	events = (unsigned)(al.opened * 2 + al.closed);	/* open, one update, close */
	CHECK_EQ(al.opened, n);
	CHECK_EQ(al.closed, n);
	dr_alerts_fini(&al);
	if (nsamples)
		*nsamples = n;
	return events;
}

static struct dr_output_stats stats_of(struct dr_outputs *o, const char *name)
{
	struct dr_output_stats st[8], none;
	memset(&none, 0, sizeof(none));
	unsigned n = dr_outputs_stats(o, st, 8);
	for (unsigned i = 0; i < n; i++)
		if (strcmp(st[i].name, name) == 0)
			return st[i];
	return none;
}

/* One event's JSON line as the contract writes it. */
static char *event_line(enum dr_alert_event event, const struct dr_alert *a)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	struct dr_out out;
	if (!fp || dr_out_init(&out, fp, 1 << 16) != 0)
		return NULL;
	dr_alert_event_json(&out, event, a);
	dr_out_fini(&out);
	fclose(fp);
	return buf;
}

static void test_log_lines(void)
{
	char path[300];
	snprintf(path, sizeof(path), "%s/alerts.log", dir);
	struct dr_output_config c;
	dr_output_config_defaults(&c);
	c.alert_log = path;
	struct dr_outputs *o = open_outputs(&c);
	if (!o)
		return;
	struct alert_sample s[SAMPLES_MAX];
	unsigned n;
	unsigned events = feed(o, s, &n);
	struct dr_output_stats st = stats_of(o, "log");
	CHECK_EQ(st.sent, events);
	CHECK_EQ(st.failed, 0);
	dr_outputs_close(o, 1);

	char *text = slurp(path, NULL);
	CHECK(text != NULL);
	if (!text)
		return;
	CHECK_EQ(count_lines(text), events);
	/* Opens first (in order), then the updates, then the closes: each
	 * line one JSON value, naming its event, type and key up front. */
	const char *p = text;
	for (unsigned i = 0; i < events && *p; i++) {
		static const char *const names[] = {"open", "update", "close"};
		const struct alert_sample *x = &s[i % n];
		char head[256];
		snprintf(head, sizeof(head), "{\"event\":\"%s\",\"alert\":{\"type\":\"%s\",\"key\":\"%s\",",
			 names[i / n], x->type, x->key);
		CHECK(json_line_ok(p));
		CHECK(strncmp(p, head, strlen(head)) == 0);
		if (strncmp(p, head, strlen(head)) != 0)
			fprintf(stderr, "line %u: %.120s\n  want %s\n", i + 1, p, head);
		p = strchr(p, '\n');
		if (!p)
			break;
		p++;
	}
	free(text);
}

static void test_log_exact_line(void)
{
	/* The line on disk is byte for byte the contract's event JSON. */
	char path[300];
	snprintf(path, sizeof(path), "%s/exact.log", dir);
	struct dr_output_config c;
	dr_output_config_defaults(&c);
	c.alert_log = path;
	struct dr_outputs *o = open_outputs(&c);
	if (!o)
		return;
	struct alert_sample s[SAMPLES_MAX];
	alert_samples(s);
	struct dr_alert a;
	memset(&a, 0, sizeof(a));
	a.id = 7;
	a.type = s[0].type;
	snprintf(a.key, sizeof(a.key), "%s", s[0].key);
	a.start = 1764590000.25;
	a.detected = a.end = 1764590003.5;
	a.severity = DR_SEV_HIGH;
	a.ev = s[0].ev;
	dr_outputs_event(o, DR_EVENT_OPEN, &a);
	dr_outputs_close(o, 1);
	char *want = event_line(DR_EVENT_OPEN, &a), *got = slurp(path, NULL);
	CHECK(want && got);
	if (want && got)
		CHECK_STR(got, want);
	free(want);
	free(got);
}

static void test_log_reopen(void)
{
	char path[300], rotated[320];
	snprintf(path, sizeof(path), "%s/rotate.log", dir);
	snprintf(rotated, sizeof(rotated), "%s.1", path);
	struct dr_output_config c;
	dr_output_config_defaults(&c);
	c.alert_log = path;
	struct dr_outputs *o = open_outputs(&c);
	if (!o)
		return;
	struct alert_sample s[SAMPLES_MAX];
	alert_samples(s);
	struct dr_alert a;
	memset(&a, 0, sizeof(a));
	a.type = s[0].type;
	snprintf(a.key, sizeof(a.key), "%s", s[0].key);
	a.ev = s[0].ev;
	dr_outputs_event(o, DR_EVENT_OPEN, &a);
	CHECK_EQ(rename(path, rotated), 0);
	/* Until the reopen, events follow the file under its new name. */
	dr_outputs_event(o, DR_EVENT_UPDATE, &a);
	char err[256] = "";
	CHECK_EQ(dr_outputs_reopen(o, err, sizeof(err)), 0);
	dr_outputs_event(o, DR_EVENT_CLOSE, &a);
	CHECK_EQ(stats_of(o, "log").sent, 3);
	dr_outputs_close(o, 1);
	char *old = slurp(rotated, NULL), *now = slurp(path, NULL);
	CHECK(old && now);
	CHECK_EQ(count_lines(old), 2);
	CHECK_EQ(count_lines(now), 1);
	CHECK(now && strncmp(now, "{\"event\":\"close\"", 16) == 0);
	struct stat sb;
	CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0640);
	free(old);
	free(now);
}

static void test_log_failures_counted(void)
{
	struct dr_output_config c;
	dr_output_config_defaults(&c);
	c.alert_log = "/dev/full";
	struct dr_outputs *o = open_outputs(&c);
	if (!o)
		return;
	struct alert_sample s[SAMPLES_MAX];
	unsigned events = feed(o, s, NULL);
	struct dr_output_stats st = stats_of(o, "log");
	CHECK_EQ(st.failed, events);
	CHECK_EQ(st.sent, 0);
	dr_outputs_close(o, 0);
}

static void expect_refused(const struct dr_output_config *c, const char *setting)
{
	char err[256] = "";
	struct dr_outputs *o = NULL;
	CHECK_EQ(dr_outputs_open(&o, c, -1, -1, err, sizeof(err)), -1);
	CHECK(o == NULL);
	CHECK(strncmp(err, setting, strlen(setting)) == 0 && err[strlen(setting)] == ':');
	if (strncmp(err, setting, strlen(setting)) != 0)
		fprintf(stderr, "want \"%s: ...\", got \"%s\"\n", setting, err);
}

static void test_bad_settings(void)
{
	struct dr_output_config c;
	char path[300];
	snprintf(path, sizeof(path), "%s/no/such/dir/alerts.log", dir);
	dr_output_config_defaults(&c);
	c.alert_log = path;
	expect_refused(&c, "alert_log");
	dr_output_config_defaults(&c);
	c.syslog = 1;
	c.syslog_facility = "kernel";
	expect_refused(&c, "syslog_facility");
	dr_output_config_defaults(&c);
	c.webhook = "ftp://127.0.0.1/x";
	expect_refused(&c, "webhook");
	dr_output_config_defaults(&c);
	c.webhook = "http://127.0.0.1:8080/x";
	c.webhook_header = "no colon here";
	expect_refused(&c, "webhook_header");
	dr_output_config_defaults(&c);
	c.webhook = "http://127.0.0.1:8080/x";
	c.webhook_queue = 0;
	expect_refused(&c, "webhook_queue");
	dr_output_config_defaults(&c);
	c.webhook = "http://127.0.0.1:8080/x";
	c.webhook_timeout = 0;
	expect_refused(&c, "webhook_timeout");
	dr_output_config_defaults(&c);
	c.exec = "true";
	c.exec_timeout = -1;
	expect_refused(&c, "exec_timeout");
}

static void test_syslog_line(void)
{
	struct alert_sample s[SAMPLES_MAX];
	alert_samples(s);
	struct dr_alert a;
	memset(&a, 0, sizeof(a));
	a.type = s[0].type;
	snprintf(a.key, sizeof(a.key), "%s", s[0].key);
	a.severity = DR_SEV_HIGH;
	a.last_pps = 40000;
	a.last_bps = 2.4e7;
	a.ev = s[0].ev;
	char line[1400], summary[1024];
	CHECK_EQ(dr_outputs_human_line(DR_EVENT_OPEN, &a, line, sizeof(line)), 0);
	dr_alert_summary(&a, summary, sizeof(summary));
	const char *want = "open flood 198.51.100.7 severity=high pps=40000 bps=24000000 (24.0 Mbit/s): ";
	CHECK(strncmp(line, want, strlen(want)) == 0);
	CHECK_STR(line + strlen(want), summary);
	/* syslog itself: opens (LOG_NDELAY), takes the events, counts them. */
	struct dr_output_config c;
	dr_output_config_defaults(&c);
	c.syslog = 1;
	c.syslog_facility = "local3";
	struct dr_outputs *o = open_outputs(&c);
	if (!o)
		return;
	dr_outputs_event(o, DR_EVENT_OPEN, &a);
	CHECK_EQ(stats_of(o, "syslog").sent, 1);
	dr_outputs_close(o, 0);
}

/* An HTTP receiver on 127.0.0.1 in a thread: answers each request with
 * the next status of its script (200 once the script is done) and keeps
 * what it received. */
#define RECV_MAX 16

struct receiver {
	int fd, port;
	pthread_t thread;
	atomic_int stop;
	int script[RECV_MAX];
	unsigned nscript;
	pthread_mutex_t lock;
	unsigned requests;
	int status[RECV_MAX];
	char *body[RECV_MAX];
	char head[RECV_MAX][2048];
};

static void serve_one(struct receiver *r, int c)
{
	char buf[65536];
	size_t n = 0;
	struct timeval tv = {5, 0};
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	char *end = NULL;
	while (!end && n < sizeof(buf) - 1) {
		ssize_t got = recv(c, buf + n, sizeof(buf) - 1 - n, 0);
		if (got <= 0)
			return;
		n += (size_t)got;
		buf[n] = 0;
		end = strstr(buf, "\r\n\r\n");
	}
	if (!end)
		return;
	size_t head_len = (size_t)(end - buf) + 4, want = 0;
	for (char *p = buf; p < end; p++)
		if (strncasecmp(p, "\ncontent-length:", 16) == 0)
			want = strtoul(p + 16, NULL, 10);
	while (n < head_len + want && n < sizeof(buf) - 1) {
		ssize_t got = recv(c, buf + n, sizeof(buf) - 1 - n, 0);
		if (got <= 0)
			return;
		n += (size_t)got;
	}
	buf[n] = 0;
	pthread_mutex_lock(&r->lock);
	unsigned i = r->requests;
	int status = i < r->nscript ? r->script[i] : 200;
	if (i < RECV_MAX) {
		r->status[i] = status;
		r->body[i] = strndup(buf + head_len, want);
		snprintf(r->head[i], sizeof(r->head[i]), "%.*s", (int)head_len, buf);
	}
	r->requests++;
	pthread_mutex_unlock(&r->lock);
	char reply[128];
	int len = snprintf(reply, sizeof(reply),
			   "HTTP/1.1 %d Scripted\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
			   status);
	if (send(c, reply, (size_t)len, MSG_NOSIGNAL) < 0)
		return;
}

static void *receiver_thread(void *arg)
{
	struct receiver *r = arg;
	while (!atomic_load(&r->stop)) {
		struct pollfd p = {r->fd, POLLIN, 0};
		if (poll(&p, 1, 50) <= 0)
			continue;
		int c = accept(r->fd, NULL, NULL);
		if (c < 0)
			continue;
		serve_one(r, c);
		close(c);
	}
	return NULL;
}

static int receiver_start(struct receiver *r, const int *script, unsigned nscript)
{
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->lock, NULL);
	for (unsigned i = 0; i < nscript && i < RECV_MAX; i++)
		r->script[i] = script[i];
	r->nscript = nscript;
	r->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	if (r->fd < 0 || bind(r->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(r->fd, 16) != 0 || getsockname(r->fd, (struct sockaddr *)&sa, &sl) != 0)
		return -1;
	r->port = ntohs(sa.sin_port);
	return pthread_create(&r->thread, NULL, receiver_thread, r) == 0 ? 0 : -1;
}

static void receiver_stop(struct receiver *r)
{
	atomic_store(&r->stop, 1);
	pthread_join(r->thread, NULL);
	close(r->fd);
	for (unsigned i = 0; i < RECV_MAX; i++)
		free(r->body[i]);
	pthread_mutex_destroy(&r->lock);
}

static unsigned receiver_requests(struct receiver *r)
{
	pthread_mutex_lock(&r->lock);
	unsigned n = r->requests;
	pthread_mutex_unlock(&r->lock);
	return n;
}

/* Waits (up to WAIT_LIMIT) until the output `name` has sent+dropped at
 * least `n` events; 0 if it never did. */
static int wait_settled(struct dr_outputs *o, const char *name, uint64_t n, int poll_hooks)
{
	double until = mono() + WAIT_LIMIT;
	while (mono() < until) {
		if (poll_hooks)
			dr_outputs_poll(o);
		struct dr_output_stats st = stats_of(o, name);
		if (st.sent + st.dropped + (poll_hooks ? st.failed : 0) >= n)
			return 1;
		nap();
	}
	return 0;
}

static void webhook_config(struct dr_output_config *c, char *url, size_t len, int port)
{
	dr_output_config_defaults(c);
	snprintf(url, len, "http://127.0.0.1:%d/hook", port);
	c->webhook = url;
	c->webhook_header = "X-Dnsradar-Test: yes";
	c->webhook_backoff = 0.02;
	c->webhook_timeout = 5;
}

static struct dr_alert sample_alert(unsigned i)
{
	struct alert_sample s[SAMPLES_MAX];
	alert_samples(s);
	struct dr_alert a;
	memset(&a, 0, sizeof(a));
	a.id = i + 1;
	a.type = s[i].type;
	snprintf(a.key, sizeof(a.key), "%s", s[i].key);
	a.start = 1764590000;
	a.detected = a.end = 1764590003;
	a.severity = DR_SEV_HIGH;
	a.ev = s[i].ev;
	return a;
}

static void test_webhook_retries_5xx(void)
{
	static const int script[] = {503, 503, 200};
	struct receiver r;
	CHECK_EQ(receiver_start(&r, script, 3), 0);
	struct dr_output_config c;
	char url[64], err[256];
	webhook_config(&c, url, sizeof(url), r.port);
	struct dr_outputs *o = open_outputs(&c);
	if (!o) {
		receiver_stop(&r);
		return;
	}
	CHECK_EQ(dr_outputs_start(o, err, sizeof(err)), 0);
	struct dr_alert a = sample_alert(0);
	dr_outputs_event(o, DR_EVENT_OPEN, &a);
	CHECK(wait_settled(o, "webhook", 1, 0));
	struct dr_output_stats st = stats_of(o, "webhook");
	CHECK_EQ(st.sent, 1);
	CHECK_EQ(st.failed, 2);
	CHECK_EQ(st.dropped, 0);
	CHECK_EQ(st.queue_depth, 0);
	dr_outputs_close(o, 5);
	CHECK_EQ(receiver_requests(&r), 3);
	/* Delivered once (one 200), the body the event's JSON line without
	 * its newline, with its content type and the extra header. */
	char *line = event_line(DR_EVENT_OPEN, &a);
	if (line) {
		line[strlen(line) - 1] = 0;
		for (unsigned i = 0; i < 3; i++)
			CHECK(r.body[i] && strcmp(r.body[i], line) == 0);
	}
	free(line);
	CHECK_EQ(r.status[2], 200);
	CHECK(strncmp(r.head[0], "POST /hook HTTP/1.1\r\n", 21) == 0);
	CHECK(strcasestr(r.head[0], "\r\nContent-Type: application/json\r\n") != NULL);
	CHECK(strcasestr(r.head[0], "\r\nX-Dnsradar-Test: yes\r\n") != NULL);
	receiver_stop(&r);
}

static void test_webhook_4xx_not_retried(void)
{
	static const int script[] = {400};
	struct receiver r;
	CHECK_EQ(receiver_start(&r, script, 1), 0);
	struct dr_output_config c;
	char url[64], err[256];
	webhook_config(&c, url, sizeof(url), r.port);
	struct dr_outputs *o = open_outputs(&c);
	if (!o) {
		receiver_stop(&r);
		return;
	}
	CHECK_EQ(dr_outputs_start(o, err, sizeof(err)), 0);
	struct dr_alert a = sample_alert(0);
	dr_outputs_event(o, DR_EVENT_OPEN, &a);
	CHECK(wait_settled(o, "webhook", 1, 0));
	struct dr_output_stats st = stats_of(o, "webhook");
	CHECK_EQ(st.sent, 0);
	CHECK_EQ(st.failed, 1);
	CHECK_EQ(st.dropped, 1);
	/* The next event goes through: a 400 costs only its own event. */
	dr_outputs_event(o, DR_EVENT_CLOSE, &a);
	CHECK(wait_settled(o, "webhook", 2, 0));
	CHECK_EQ(stats_of(o, "webhook").sent, 1);
	dr_outputs_close(o, 5);
	CHECK_EQ(receiver_requests(&r), 2);
	receiver_stop(&r);
}

static void test_webhook_queue_overflow_and_drain(void)
{
	struct receiver r;
	CHECK_EQ(receiver_start(&r, NULL, 0), 0);
	struct dr_output_config c;
	char url[64], err[256];
	webhook_config(&c, url, sizeof(url), r.port);
	c.webhook_queue = 2;
	struct dr_outputs *o = open_outputs(&c);
	if (!o) {
		receiver_stop(&r);
		return;
	}
	/* No thread yet: the queue holds two, the rest are dropped. */
	struct dr_alert a = sample_alert(3);
	for (int i = 0; i < 5; i++)
		dr_outputs_event(o, DR_EVENT_UPDATE, &a);
	struct dr_output_stats st = stats_of(o, "webhook");
	CHECK_EQ(st.queue_depth, 2);
	CHECK_EQ(st.queue_cap, 2);
	CHECK_EQ(st.dropped, 3);
	CHECK_EQ(st.sent, 0);
	/* close() delivers what is queued before it returns. */
	CHECK_EQ(dr_outputs_start(o, err, sizeof(err)), 0);
	dr_outputs_close(o, WAIT_LIMIT);
	CHECK_EQ(receiver_requests(&r), 2);
	receiver_stop(&r);
}

static void test_webhook_close_deadline(void)
{
	/* A receiver that is always down: close() gives up at its deadline
	 * instead of retrying for ever (the test's alarm catches a hang). */
	static const int script[RECV_MAX] = {503, 503, 503, 503, 503, 503, 503, 503,
					     503, 503, 503, 503, 503, 503, 503, 503};
	struct receiver r;
	CHECK_EQ(receiver_start(&r, script, RECV_MAX), 0);
	struct dr_output_config c;
	char url[64], err[256];
	webhook_config(&c, url, sizeof(url), r.port);
	c.webhook_retries = 100;
	c.webhook_backoff = 0.2;
	struct dr_outputs *o = open_outputs(&c);
	if (!o) {
		receiver_stop(&r);
		return;
	}
	CHECK_EQ(dr_outputs_start(o, err, sizeof(err)), 0);
	struct dr_alert a = sample_alert(0);
	dr_outputs_event(o, DR_EVENT_OPEN, &a);
	double until = mono() + WAIT_LIMIT;
	while (receiver_requests(&r) < 2 && mono() < until)
		nap();
	struct dr_output_stats st = stats_of(o, "webhook");
	CHECK(st.failed >= 1);
	CHECK_EQ(st.sent, 0);
	CHECK_EQ(st.queue_depth, 1);
	dr_outputs_close(o, 0.3);
	CHECK(receiver_requests(&r) >= 2);
	receiver_stop(&r);
}

static void test_webhook_close_ends_a_transfer(void)
{
	/* A receiver that takes the connection and never answers, and an
	 * attempt allowed 280 s: close() ends the transfer at its deadline
	 * (without that, it would wait past the test's alarm at 240 s). */
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t sl = sizeof(sa);
	CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(fd, 4) == 0 &&
	      getsockname(fd, (struct sockaddr *)&sa, &sl) == 0);
	struct dr_output_config c;
	char url[64], err[256];
	webhook_config(&c, url, sizeof(url), ntohs(sa.sin_port));
	c.webhook_timeout = 280;
	struct dr_outputs *o = open_outputs(&c);
	if (!o) {
		close(fd);
		return;
	}
	CHECK_EQ(dr_outputs_start(o, err, sizeof(err)), 0);
	struct dr_alert a = sample_alert(0);
	dr_outputs_event(o, DR_EVENT_OPEN, &a);
	int peer = accept(fd, NULL, NULL);	/* the attempt has begun */
	CHECK(peer >= 0);
	dr_outputs_close(o, 0.3);
	/* closed from its side: the receiver reads the end of the stream */
	char buf[4096];
	ssize_t n;
	struct timeval tv = {5, 0};
	setsockopt(peer, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while ((n = recv(peer, buf, sizeof(buf), 0)) > 0)
		;
	CHECK_EQ(n, 0);
	close(peer);
	close(fd);
}

static void test_exec_stdin_and_env(void)
{
	char cmd[700], out[300], env[300];
	snprintf(out, sizeof(out), "%s/hook.json", dir);
	snprintf(env, sizeof(env), "%s/hook.env", dir);
	snprintf(cmd, sizeof(cmd),
		 "cat > '%s' && printf '%%s|%%s|%%s\\n' \"$DNSRADAR_EVENT\" \"$DNSRADAR_TYPE\" "
		 "\"$DNSRADAR_KEY\" > '%s'", out, env);
	struct dr_output_config c;
	dr_output_config_defaults(&c);
	c.exec = cmd;
	struct dr_outputs *o = open_outputs(&c);
	if (!o)
		return;
	struct dr_alert a = sample_alert(3);	/* the loop, whose payload has quotes */
	dr_outputs_event(o, DR_EVENT_OPEN, &a);
	CHECK(wait_settled(o, "exec", 1, 1));
	struct dr_output_stats st = stats_of(o, "exec");
	CHECK_EQ(st.sent, 1);
	CHECK_EQ(st.failed, 0);
	CHECK_EQ(st.queue_depth, 0);
	dr_outputs_close(o, 5);
	char *got = slurp(out, NULL), *want = event_line(DR_EVENT_OPEN, &a), *e = slurp(env, NULL);
	CHECK(got && want && e);
	if (got && want)
		CHECK_STR(got, want);
	if (e)
		CHECK_STR(e, "open|loop|203.0.113.9\n");
	free(got);
	free(want);
	free(e);
}

static void test_exec_failure_counted(void)
{
	struct dr_output_config c;
	dr_output_config_defaults(&c);
	c.exec = "cat > /dev/null; exit 3";
	struct dr_outputs *o = open_outputs(&c);
	if (!o)
		return;
	struct dr_alert a = sample_alert(0);
	dr_outputs_event(o, DR_EVENT_OPEN, &a);
	CHECK(wait_settled(o, "exec", 1, 1));
	struct dr_output_stats st = stats_of(o, "exec");
	CHECK_EQ(st.failed, 1);
	CHECK_EQ(st.sent, 0);
	dr_outputs_close(o, 5);
}

/* Running: neither gone nor a zombie waiting for whoever adopted it. */
static int alive(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	char *stat = slurp(path, NULL);
	if (!stat)
		return 0;
	const char *p = strrchr(stat, ')');
	int zombie = p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
	free(stat);
	return !zombie;
}

static void test_exec_timeout_killed(void)
{
	/* The hook and what it started: both must go (its process group). */
	char cmd[400], pidfile[300];
	snprintf(pidfile, sizeof(pidfile), "%s/sleep.pid", dir);
	snprintf(cmd, sizeof(cmd), "sleep 300 & echo $! > '%s'; wait", pidfile);
	struct dr_output_config c;
	dr_output_config_defaults(&c);
	c.exec = cmd;
	c.exec_timeout = 0.2;
	struct dr_outputs *o = open_outputs(&c);
	if (!o)
		return;
	struct dr_alert a = sample_alert(0);
	dr_outputs_event(o, DR_EVENT_OPEN, &a);
	/* Only dr_outputs_poll enforces the timeout: let the hook start its
	 * child before the first poll, however slow the machine. */
	double until = mono() + WAIT_LIMIT;
	struct stat sb;
	while (stat(pidfile, &sb) != 0 && mono() < until)
		nap();
	CHECK(wait_settled(o, "exec", 1, 1));
	struct dr_output_stats st = stats_of(o, "exec");
	CHECK_EQ(st.failed, 1);
	CHECK_EQ(st.sent, 0);
	CHECK_EQ(st.queue_depth, 0);
	dr_outputs_close(o, 0);
	char *p = slurp(pidfile, NULL);
	CHECK(p != NULL);
	if (p) {
		pid_t child = (pid_t)atoi(p);
		until = mono() + WAIT_LIMIT;
		while (child > 0 && alive(child) && mono() < until)
			nap();
		CHECK(child > 0 && !alive(child));
		free(p);
	}
}

static void test_exec_cap(void)
{
	/* eight hooks at once; the events beyond them wait, none is lost */
	struct dr_output_config c;
	dr_output_config_defaults(&c);
	c.exec = "exec sleep 300";
	c.exec_timeout = 600;
	struct dr_outputs *o = open_outputs(&c);
	if (!o)
		return;
	struct dr_alert a = sample_alert(0);
	for (int i = 0; i < 10; i++)
		dr_outputs_event(o, DR_EVENT_UPDATE, &a);
	dr_outputs_poll(o);
	struct dr_output_stats st = stats_of(o, "exec");
	CHECK_EQ(st.queue_depth, 10);
	CHECK_EQ(st.queue_cap, 8 + 1024);
	CHECK_EQ(st.dropped, 0);
	CHECK_EQ(st.failed, 0);
	dr_outputs_close(o, 0);	/* kills and reaps the eight, gives up on the two */
}

static void test_exec_burst_all_run(void)
{
	/* a burst of 40 events (alerts opening at once): every hook runs, in
	 * turn, as the ones before it end */
	char out[300], cmd[400];
	snprintf(out, sizeof(out), "%s/burst.txt", dir);
	unlink(out);
	snprintf(cmd, sizeof(cmd), "echo \"$DNSRADAR_EVENT\" >> %s", out);
	struct dr_output_config c;
	dr_output_config_defaults(&c);
	c.exec = cmd;
	struct dr_outputs *o = open_outputs(&c);
	if (!o)
		return;
	struct dr_alert a = sample_alert(0);
	for (int i = 0; i < 40; i++)
		dr_outputs_event(o, DR_EVENT_OPEN, &a);
	double until = mono() + WAIT_LIMIT;
	struct dr_output_stats st = stats_of(o, "exec");
	while (st.sent + st.failed < 40 && mono() < until) {
		dr_outputs_poll(o);
		nap();
		st = stats_of(o, "exec");
	}
	CHECK_EQ(st.sent, 40);
	CHECK_EQ(st.dropped, 0);
	CHECK_EQ(st.queue_depth, 0);
	dr_outputs_close(o, 1);
	size_t len = 0;
	char *text = slurp(out, &len);
	CHECK(text != NULL);
	if (text)
		CHECK_EQ(count_lines(text), 40);
	free(text);
}

int main(void)
{
	alarm(240);	/* a hang fails the test instead of holding ctest */
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof(dir), "%s/dr-outputs-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_log_lines);
	RUN(test_log_exact_line);
	RUN(test_log_reopen);
	RUN(test_log_failures_counted);
	RUN(test_bad_settings);
	RUN(test_syslog_line);
	RUN(test_webhook_retries_5xx);
	RUN(test_webhook_4xx_not_retried);
	RUN(test_webhook_queue_overflow_and_drain);
	RUN(test_webhook_close_deadline);
	RUN(test_webhook_close_ends_a_transfer);
	RUN(test_exec_stdin_and_env);
	RUN(test_exec_failure_counted);
	RUN(test_exec_timeout_killed);
	RUN(test_exec_cap);
	RUN(test_exec_burst_all_run);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	TEST_MAIN_END();
}
