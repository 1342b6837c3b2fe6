/* The alert outputs of a running service: renders each lifecycle event
 * once as its JSON line and hands it to the log, syslog, the webhook and
 * the exec hook (webhook.c, exec.c), counting what each delivered. */
#include "service/outputs.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "report/alerts.h"
#include "service/outputs_int.h"

#define EVENT_JSON_MAX (256 * 1024)	/* far above any event; a cap, not a size */

struct dr_outputs {
	char *log_path;			/* NULL: no log */
	int log_fd;
	int uid, gid;
	int syslog;
	struct dr_webhook *webhook;
	struct dr_exec *exec;
	pthread_mutex_t log_lock;	/* log_fd: events and a reopen may come
					 * from different threads */
	pthread_mutex_t lock;		/* the counts below, read by any thread */
	struct dr_output_stats log_st, syslog_st;
};

void dr_output_config_defaults(struct dr_output_config *c)
{
	memset(c, 0, sizeof(*c));
	c->syslog_facility = "daemon";
	c->webhook_timeout = 5;
	c->webhook_queue = 1024;
	c->webhook_retries = 5;
	c->webhook_backoff = 1;
	c->exec_timeout = 10;
}

static const struct {
	const char *name;
	int facility;
} facilities[] = {
	{"daemon", LOG_DAEMON}, {"user", LOG_USER},	{"local0", LOG_LOCAL0},
	{"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2}, {"local3", LOG_LOCAL3},
	{"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5}, {"local6", LOG_LOCAL6},
	{"local7", LOG_LOCAL7},
};

static int facility_of(const char *name)
{
	for (size_t i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++)
		if (strcmp(facilities[i].name, name) == 0)
			return facilities[i].facility;
	return -1;
}

/* Opens the log for appending, created 0640 and given to uid/gid so the
 * service can still reopen it once it runs as them. -1 with why. */
static int open_log(const char *path, int uid, int gid, char *errbuf, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0) {
		snprintf(errbuf, errlen, "alert_log: %s: %s", path, strerror(errno));
		return -1;
	}
	if ((uid != -1 || gid != -1) && fchown(fd, (uid_t)uid, (gid_t)gid) != 0) {
		snprintf(errbuf, errlen, "alert_log: %s: cannot give it to uid %d gid %d: %s", path,
			 uid, gid, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int dr_outputs_open(struct dr_outputs **out, const struct dr_output_config *c, int uid, int gid,
		    char *errbuf, size_t errlen)
{
	struct dr_outputs *o = calloc(1, sizeof(*o));
	int facility = LOG_DAEMON;
	*out = NULL;
	if (!o) {
		snprintf(errbuf, errlen, "outputs: out of memory");
		return -1;
	}
	o->log_fd = -1;
	o->uid = uid;
	o->gid = gid;
	pthread_mutex_init(&o->lock, NULL);
	pthread_mutex_init(&o->log_lock, NULL);
	snprintf(o->log_st.name, sizeof(o->log_st.name), "log");
	snprintf(o->syslog_st.name, sizeof(o->syslog_st.name), "syslog");
	if (c->syslog && c->syslog_facility && (facility = facility_of(c->syslog_facility)) < 0) {
		snprintf(errbuf, errlen, "syslog_facility: unknown facility \"%s\" (daemon, user, "
			 "local0 to local7)", c->syslog_facility);
		goto fail;
	}
	if (c->alert_log && c->alert_log[0]) {
		o->log_path = strdup(c->alert_log);
		if (!o->log_path) {
			snprintf(errbuf, errlen, "alert_log: out of memory");
			goto fail;
		}
		o->log_fd = open_log(o->log_path, uid, gid, errbuf, errlen);
		if (o->log_fd < 0)
			goto fail;
	}
	if (c->webhook && c->webhook[0] && dr_webhook_open(&o->webhook, c, errbuf, errlen) != 0)
		goto fail;
	if (c->exec && c->exec[0] &&
	    dr_exec_open(&o->exec, c->exec, c->exec_timeout, DR_EXEC_MAX, errbuf, errlen) != 0)
		goto fail;
	if (c->syslog) {
		/* LOG_NDELAY: connect now, while /dev/log is still reachable
		 * (before a chroot or dropped privileges). */
		openlog("dnsradar", LOG_NDELAY | LOG_PID, facility);
		o->syslog = 1;
	}
	*out = o;
	return 0;
fail:
	dr_outputs_close(o, 0);
	return -1;
}

int dr_outputs_start(struct dr_outputs *o, char *errbuf, size_t errlen)
{
	return o->webhook ? dr_webhook_start(o->webhook, errbuf, errlen) : 0;
}

/* The event as its JSON line (newline included) in a new buffer; NULL
 * when memory ran out or it passed the cap. */
static char *render_event(enum dr_alert_event event, const struct dr_alert *a, size_t *len)
{
	char *mem = NULL;
	size_t memlen = 0;
	struct dr_out out;
	FILE *fp = open_memstream(&mem, &memlen);
	if (!fp)
		return NULL;
	if (dr_out_init(&out, fp, 16384) != 0) {
		fclose(fp);
		free(mem);
		return NULL;
	}
	dr_alert_event_json(&out, event, a);
	dr_out_fini(&out);
	int err = out.err;
	if (fclose(fp) != 0 || err || memlen == 0 || memlen > EVENT_JSON_MAX) {
		free(mem);
		return NULL;
	}
	*len = memlen;
	return mem;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int dr_outputs_human_line(enum dr_alert_event event, const struct dr_alert *a, char *buf,
			  size_t len)
{
	char summary[1024], bps[32];
	int cut = dr_alert_summary(a, summary, sizeof(summary));
	dr_fmt_bps(bps, sizeof(bps), a->last_bps);
	int n = snprintf(buf, len, "%s %s %s severity=%s pps=%.0f bps=%.0f (%s): %s",
			 dr_alert_event_name(event), a->type ? a->type : "-", a->key,
			 dr_severity_name(a->severity), a->last_pps, a->last_bps, bps, summary);
	return cut || n < 0 || (size_t)n >= len ? -1 : 0;
}

static int syslog_priority(enum dr_alert_event event, int severity)
{
	if (event == DR_EVENT_CLOSE)
		return LOG_INFO;
	switch (severity) {
	case DR_SEV_CRITICAL: return LOG_CRIT;
	case DR_SEV_HIGH: return LOG_ERR;
	case DR_SEV_MEDIUM: return LOG_WARNING;
	default: return LOG_NOTICE;
	}
}

void dr_outputs_event(void *ctx, enum dr_alert_event event, const struct dr_alert *a)
{
	struct dr_outputs *o = ctx;
	size_t len = 0;
	char *json = render_event(event, a, &len);
	if (!json) {
		/* Every output misses this event: count it against each. */
		pthread_mutex_lock(&o->lock);
		o->log_st.dropped += o->log_fd >= 0;
		o->syslog_st.dropped += o->syslog;
		pthread_mutex_unlock(&o->lock);
		return;
	}
	if (o->log_fd >= 0) {
		/* One write(2) per line on an O_APPEND descriptor: the line
		 * is on disk as a whole, or counted as failed. */
		pthread_mutex_lock(&o->log_lock);
		int bad = write_all(o->log_fd, json, len) != 0;
		pthread_mutex_unlock(&o->log_lock);
		pthread_mutex_lock(&o->lock);
		if (bad)
			o->log_st.failed++;
		else
			o->log_st.sent++;
		pthread_mutex_unlock(&o->lock);
	}
	if (o->syslog) {
		char human[1400];
		dr_outputs_human_line(event, a, human, sizeof(human));
		syslog(syslog_priority(event, a->severity), "%s %.*s", human, (int)(len - 1), json);
		pthread_mutex_lock(&o->lock);
		o->syslog_st.sent++;
		pthread_mutex_unlock(&o->lock);
	}
	if (o->webhook)
		dr_webhook_push(o->webhook, json, len - 1);	/* the body has no newline */
	if (o->exec)
		dr_exec_event(o->exec, dr_alert_event_name(event), a->type ? a->type : "", a->key,
			      json, len);
	free(json);
}

void dr_outputs_poll(struct dr_outputs *o)
{
	if (o->exec)
		dr_exec_poll(o->exec);
}

int dr_outputs_reopen(struct dr_outputs *o, char *errbuf, size_t errlen)
{
	if (!o->log_path)
		return 0;
	/* Open the new file before closing the old one: if it fails, the
	 * events keep going to the old file rather than nowhere. */
	int fd = open_log(o->log_path, o->uid, o->gid, errbuf, errlen);
	if (fd < 0)
		return -1;
	pthread_mutex_lock(&o->log_lock);
	int old = o->log_fd;
	o->log_fd = fd;
	pthread_mutex_unlock(&o->log_lock);
	close(old);
	return 0;
}

unsigned dr_outputs_stats(struct dr_outputs *o, struct dr_output_stats *st, unsigned max)
{
	unsigned n = 0;
	pthread_mutex_lock(&o->lock);
	if (o->log_path && n < max)
		st[n++] = o->log_st;
	if (o->syslog && n < max)
		st[n++] = o->syslog_st;
	pthread_mutex_unlock(&o->lock);
	if (o->webhook && n < max)
		dr_webhook_stats(o->webhook, &st[n++]);
	if (o->exec && n < max)
		dr_exec_stats(o->exec, &st[n++]);
	return n;
}

void dr_outputs_close(struct dr_outputs *o, double deadline)
{
	if (!o)
		return;
	/* The webhook and the hooks share one deadline: the hooks get what
	 * the webhook's drain left of it. */
	double until = dr_mono_now() + (deadline > 0 ? deadline : 0);
	if (o->webhook)
		dr_webhook_close(o->webhook, deadline);
	if (o->exec) {
		double left = until - dr_mono_now();
		dr_exec_close(o->exec, left > 0 ? left : 0);
	}
	if (o->log_fd >= 0)
		close(o->log_fd);
	/* no closelog(): the connection is the process's, and a reload's new
	 * outputs have just opened it with the same ident */
	pthread_mutex_destroy(&o->lock);
	pthread_mutex_destroy(&o->log_lock);
	free(o->log_path);
	free(o);
}
