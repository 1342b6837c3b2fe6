/* The webhook: each event's JSON POSTed to a URL by a thread of its own
 * (libcurl's easy API), from a bounded queue, in order, retried with
 * exponential backoff when the receiver is down or answers 5xx. */
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "service/outputs_int.h"

#define WEBHOOK_QUEUE_MAX 1000000u
#define WEBHOOK_RETRIES_MAX 100u
#define WEBHOOK_TIMEOUT_MAX 300.0

struct webhook_item {
	char *body;
	size_t len;
};

struct dr_webhook {
	char *url, *header;
	double timeout, backoff;
	unsigned cap, retries;
	pthread_t thread;
	int started;
	pthread_mutex_t lock;
	pthread_cond_t wake;		/* CLOCK_MONOTONIC: an event, or stop */
	struct webhook_item *q;		/* a ring of cap items */
	unsigned head, n;		/* n counts the item being sent too */
	int stopping;
	double stop_at;			/* monotonic: give up on what is left */
	unsigned seed;			/* the backoff's jitter */
	struct dr_output_stats st;
};

/* What one attempt came to. */
enum attempt { ATTEMPT_SENT, ATTEMPT_RETRY, ATTEMPT_GIVE_UP };

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result;

static void curl_init(void)
{
	curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int bad(char *errbuf, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int bad(char *errbuf, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

int dr_webhook_open(struct dr_webhook **out, const struct dr_output_config *c, char *errbuf,
		    size_t errlen)
{
	*out = NULL;
	if (strncasecmp(c->webhook, "http://", 7) != 0 && strncasecmp(c->webhook, "https://", 8) != 0)
		return bad(errbuf, errlen, "webhook: \"%s\" is not an http:// or https:// URL",
			   c->webhook);
	if (c->webhook_header && (!strchr(c->webhook_header, ':') ||
				  strpbrk(c->webhook_header, "\r\n")))
		return bad(errbuf, errlen, "webhook_header: \"%s\" is not one \"Name: value\" header",
			   c->webhook_header);
	if (!(c->webhook_timeout > 0 && c->webhook_timeout <= WEBHOOK_TIMEOUT_MAX))
		return bad(errbuf, errlen, "%s: must be more than 0 and at most 300 seconds",
			   "webhook_timeout");
	if (c->webhook_queue < 1 || c->webhook_queue > WEBHOOK_QUEUE_MAX)
		return bad(errbuf, errlen, "%s: must be 1 to 1000000 events", "webhook_queue");
	if (c->webhook_retries > WEBHOOK_RETRIES_MAX)
		return bad(errbuf, errlen, "%s: must be 0 to 100", "webhook_retries");
	if (!(c->webhook_backoff > 0 && c->webhook_backoff <= DR_WEBHOOK_BACKOFF_MAX))
		return bad(errbuf, errlen, "%s: must be more than 0 and at most 60 seconds",
			   "webhook_backoff");
	pthread_once(&curl_once, curl_init);
	if (curl_init_result != CURLE_OK)
		return bad(errbuf, errlen, "webhook: libcurl: %s", curl_easy_strerror(curl_init_result));
	CURLU *u = curl_url();
	CURLUcode uc = u ? curl_url_set(u, CURLUPART_URL, c->webhook, 0) : CURLUE_OUT_OF_MEMORY;
	curl_url_cleanup(u);
	if (uc != CURLUE_OK) {
		snprintf(errbuf, errlen, "webhook: \"%s\": %s", c->webhook, curl_url_strerror(uc));
		return -1;
	}

	struct dr_webhook *w = calloc(1, sizeof(*w));
	if (!w)
		return bad(errbuf, errlen, "%s: out of memory", "webhook");
	w->url = strdup(c->webhook);
	w->header = c->webhook_header ? strdup(c->webhook_header) : NULL;
	w->q = calloc(c->webhook_queue, sizeof(*w->q));
	if (!w->url || (c->webhook_header && !w->header) || !w->q) {
		free(w->url);
		free(w->header);
		free(w->q);
		free(w);
		return bad(errbuf, errlen, "%s: out of memory", "webhook");
	}
	w->timeout = c->webhook_timeout;
	w->backoff = c->webhook_backoff;
	w->cap = c->webhook_queue;
	w->retries = c->webhook_retries;
	w->seed = (unsigned)time(NULL) ^ (unsigned)(uintptr_t)w;
	pthread_mutex_init(&w->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->wake, &ca);
	pthread_condattr_destroy(&ca);
	snprintf(w->st.name, sizeof(w->st.name), "webhook");
	w->st.queue_cap = w->cap;
	*out = w;
	return 0;
}

static size_t discard_body(char *p, size_t size, size_t n, void *ctx)
{
	(void)p;
	(void)ctx;
	return size * n;
}

/* One POST of body, for at most `limit` seconds. */
/* During a transfer: a close's deadline that has passed ends it, so that
 * a slow receiver never holds the caller of dr_webhook_close (a reload,
 * SIGTERM) past its deadline. libcurl calls it about once a second
 * while waiting, and more often while data moves. */
static int past_deadline(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
			 curl_off_t ulnow)
{
	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	struct dr_webhook *w = arg;
	pthread_mutex_lock(&w->lock);
	int over = w->stopping && dr_mono_now() >= w->stop_at;
	pthread_mutex_unlock(&w->lock);
	return over;
}

static enum attempt post(struct dr_webhook *w, CURL *curl, struct curl_slist *headers,
			 const struct webhook_item *it, double limit)
{
	long ms = (long)(limit * 1000);
	curl_easy_setopt(curl, CURLOPT_URL, w->url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, it->body);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)it->len);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, ms > 1 ? ms : 1L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, ms > 1 ? ms : 1L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard_body);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "dnsradar");
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, past_deadline);
	curl_easy_setopt(curl, CURLOPT_XFERINFODATA, w);
	curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
	CURLcode rc = curl_easy_perform(curl);
	if (rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL)
		return ATTEMPT_GIVE_UP;
	if (rc != CURLE_OK)
		return ATTEMPT_RETRY;	/* refused, reset, timed out: it may come back */
	long status = 0;
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 200 && status < 300)
		return ATTEMPT_SENT;
	/* The server is busy or down (5xx), asks us to slow down (429) or
	 * timed out waiting (408): try again. Any other answer would be the
	 * same next time. */
	if (status >= 500 || status == 429 || status == 408)
		return ATTEMPT_RETRY;
	return ATTEMPT_GIVE_UP;
}

static struct timespec mono_ts(double t)
{
	struct timespec ts;
	ts.tv_sec = (time_t)t;
	ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

/* With the lock held: the wait before retry number `retry` (1, 2, ...):
 * backoff doubling up to the cap, then a random half of it taken off so
 * that many senders do not retry in step. */
static double retry_delay(struct dr_webhook *w, unsigned retry)
{
	double d = w->backoff;
	for (unsigned i = 1; i < retry && d < DR_WEBHOOK_BACKOFF_MAX; i++)
		d *= 2;
	if (d > DR_WEBHOOK_BACKOFF_MAX)
		d = DR_WEBHOOK_BACKOFF_MAX;
	return d * (0.5 + 0.5 * ((double)rand_r(&w->seed) / RAND_MAX));
}

/* With the lock held: drops the head item. */
static void pop(struct dr_webhook *w)
{
	free(w->q[w->head].body);
	w->q[w->head].body = NULL;
	w->head = (w->head + 1) % w->cap;
	w->n--;
}

static void *webhook_thread(void *arg)
{
	struct dr_webhook *w = arg;
	CURL *curl = curl_easy_init();
	struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
	/* No "Expect: 100-continue" for bodies over 1 KiB: one round trip
	 * fewer, and receivers that ignore it cost no second of waiting. */
	headers = headers ? curl_slist_append(headers, "Expect:") : NULL;
	if (headers && w->header)
		headers = curl_slist_append(headers, w->header);

	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (w->n == 0 && !w->stopping)
			pthread_cond_wait(&w->wake, &w->lock);
		if (w->n == 0 || (w->stopping && dr_mono_now() >= w->stop_at))
			break;
		/* The item stays queued (and counted in the depth) until it
		 * is delivered or given up on; only this thread pops. */
		struct webhook_item it = w->q[w->head];
		unsigned attempt = 0;
		int quit = 0;
		for (;;) {
			double limit = w->timeout;
			if (w->stopping && w->stop_at - dr_mono_now() < limit)
				limit = w->stop_at - dr_mono_now();
			enum attempt r = ATTEMPT_RETRY;
			if (limit > 0 && curl && headers) {
				pthread_mutex_unlock(&w->lock);
				r = post(w, curl, headers, &it, limit);
				pthread_mutex_lock(&w->lock);
			}
			if (r == ATTEMPT_SENT) {
				w->st.sent++;
				pop(w);
				break;
			}
			w->st.failed++;
			if (r == ATTEMPT_GIVE_UP || attempt >= w->retries) {
				w->st.dropped++;
				pop(w);
				break;
			}
			double retry_at = dr_mono_now() + retry_delay(w, ++attempt);
			for (;;) {
				double now = dr_mono_now();
				if (w->stopping && now >= w->stop_at) {
					quit = 1;
					break;
				}
				if (now >= retry_at)
					break;
				double until = retry_at;
				if (w->stopping && w->stop_at < until)
					until = w->stop_at;
				struct timespec ts = mono_ts(until);
				pthread_cond_timedwait(&w->wake, &w->lock, &ts);
			}
			if (quit)
				break;
		}
		if (quit)
			break;
	}
	pthread_mutex_unlock(&w->lock);
	curl_slist_free_all(headers);
	if (curl)
		curl_easy_cleanup(curl);
	return NULL;
}

int dr_webhook_start(struct dr_webhook *w, char *errbuf, size_t errlen)
{
	if (w->started)
		return 0;
	/* The thread takes no signals: SIGHUP and SIGTERM are the main
	 * thread's to handle. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int rc = pthread_create(&w->thread, NULL, webhook_thread, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		snprintf(errbuf, errlen, "webhook: cannot start its thread: %s", strerror(rc));
		return -1;
	}
	w->started = 1;
	return 0;
}

void dr_webhook_push(struct dr_webhook *w, const char *body, size_t len)
{
	char *copy = malloc(len + 1);
	if (copy) {
		memcpy(copy, body, len);
		copy[len] = 0;
	}
	pthread_mutex_lock(&w->lock);
	if (!copy || w->n == w->cap || w->stopping) {
		w->st.dropped++;
		free(copy);
	} else {
		struct webhook_item *it = &w->q[(w->head + w->n) % w->cap];
		it->body = copy;
		it->len = len;
		w->n++;
		pthread_cond_signal(&w->wake);
	}
	pthread_mutex_unlock(&w->lock);
}

void dr_webhook_stats(struct dr_webhook *w, struct dr_output_stats *st)
{
	pthread_mutex_lock(&w->lock);
	*st = w->st;
	st->queue_depth = w->n;
	pthread_mutex_unlock(&w->lock);
}

void dr_webhook_close(struct dr_webhook *w, double deadline)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = 1;
	w->stop_at = dr_mono_now() + (deadline > 0 ? deadline : 0);
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	if (w->started)
		pthread_join(w->thread, NULL);
	while (w->n) {
		w->st.dropped++;
		pop(w);
	}
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	free(w->q);
	free(w->url);
	free(w->header);
	free(w);
}
