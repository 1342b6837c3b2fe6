/* The exec hook: a command (/bin/sh -c) per event, the event's JSON on its
 * standard input and its type and key in the environment; started without
 * waiting, reaped by dr_exec_poll, killed past its timeout. */
#define _GNU_SOURCE	/* posix_spawn_file_actions_addclosefrom_np */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "service/outputs_int.h"

#define EXEC_TIMEOUT_MAX 3600.0

extern char **environ;

struct hook {
	pid_t pid;			/* 0: a free slot */
	double started, termed;		/* monotonic; termed 0: not yet */
	int sock;			/* our end of its stdin; -1 once closed */
	char *rest;			/* what its stdin has not taken yet */
	size_t rest_len, rest_off;
};

/* An event waiting for a free slot: a burst of alerts opening at once
 * (or closing at SIGTERM) is run as hooks finish, not dropped. */
struct pending {
	const char *event;		/* a static string */
	char *type, *key, *json;
	size_t len;
};

struct dr_exec {
	char *cmd;
	double timeout;
	unsigned max, running;
	struct hook hook[DR_EXEC_MAX];
	struct pending pend[DR_EXEC_PENDING];
	unsigned phead, plen;
	pthread_mutex_t lock;		/* all of it: events, polls and stats may
					 * come from different threads */
	struct dr_output_stats st;
};

int dr_exec_open(struct dr_exec **out, const char *cmd, double timeout, unsigned max,
		 char *errbuf, size_t errlen)
{
	*out = NULL;
	if (!(timeout > 0 && timeout <= EXEC_TIMEOUT_MAX)) {
		snprintf(errbuf, errlen, "exec_timeout: must be more than 0 and at most 3600 seconds");
		return -1;
	}
	if (access("/bin/sh", X_OK) != 0) {
		snprintf(errbuf, errlen, "exec: /bin/sh: %s", strerror(errno));
		return -1;
	}
	struct dr_exec *x = calloc(1, sizeof(*x));
	if (!x || !(x->cmd = strdup(cmd))) {
		free(x);
		snprintf(errbuf, errlen, "exec: out of memory");
		return -1;
	}
	x->timeout = timeout;
	x->max = max < 1 ? 1 : max > DR_EXEC_MAX ? DR_EXEC_MAX : max;
	for (unsigned i = 0; i < DR_EXEC_MAX; i++)
		x->hook[i].sock = -1;
	pthread_mutex_init(&x->lock, NULL);
	snprintf(x->st.name, sizeof(x->st.name), "exec");
	x->st.queue_cap = x->max + DR_EXEC_PENDING;
	*out = x;
	return 0;
}

/* With the lock held. */
static void count(struct dr_exec *x, uint64_t *counter)
{
	(*counter)++;
	x->st.queue_depth = x->running + x->plen;
}

/* The environment of a hook: ours without any DNSRADAR_EVENT, _TYPE or
 * _KEY, then those three. Built before the spawn, which only reads it. */
static char **hook_env(const char *event, const char *type, const char *key)
{
	size_t n = 0;
	while (environ && environ[n])
		n++;
	char **env = calloc(n + 4, sizeof(*env));
	if (!env)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "DNSRADAR_EVENT=", 15) != 0 &&
		    strncmp(environ[i], "DNSRADAR_TYPE=", 14) != 0 &&
		    strncmp(environ[i], "DNSRADAR_KEY=", 13) != 0)
			env[k++] = environ[i];
	const char *names[3] = {"DNSRADAR_EVENT", "DNSRADAR_TYPE", "DNSRADAR_KEY"};
	const char *values[3] = {event, type, key};
	for (int i = 0; i < 3; i++) {
		size_t len = strlen(names[i]) + strlen(values[i]) + 2;
		if (!(env[k] = malloc(len))) {
			for (int j = 0; j < i; j++)
				free(env[k - 1 - j]);
			free(env);
			return NULL;
		}
		snprintf(env[k++], len, "%s=%s", names[i], values[i]);
	}
	env[k] = NULL;
	return env;
}

static void free_env(char **env)
{
	size_t n = 0;
	while (env[n])
		n++;
	for (size_t i = n - 3; i < n; i++)
		free(env[i]);
	free(env);
}

/* Gives the hook more of its stdin without blocking; closes our end once
 * all is written or the hook stopped reading. */
static void feed(struct hook *h)
{
	while (h->sock >= 0 && h->rest_off < h->rest_len) {
		/* A socket, not a pipe: MSG_NOSIGNAL keeps a hook that exits
		 * without reading from sending us SIGPIPE. */
		ssize_t w = send(h->sock, h->rest + h->rest_off, h->rest_len - h->rest_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (w <= 0)
			break;
		h->rest_off += (size_t)w;
	}
	if (h->sock >= 0)
		close(h->sock);
	h->sock = -1;
	free(h->rest);
	h->rest = NULL;
}

static struct hook *free_slot(struct dr_exec *x)
{
	for (unsigned i = 0; i < x->max; i++)
		if (!x->hook[i].pid)
			return &x->hook[i];
	return NULL;
}

/* Starts a hook in slot h; with the lock held. */
static void start(struct dr_exec *x, struct hook *h, const char *event, const char *type,
		  const char *key, const char *json, size_t len)
{
	int sv[2] = {-1, -1};
	char **env = NULL;
	char *rest = malloc(len ? len : 1);
	int spawned = 0;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int have_fa = 0, have_attr = 0;
	if (!rest || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		goto out;
	memcpy(rest, json, len);
	if (!(env = hook_env(event, type, key)))
		goto out;
	if (posix_spawn_file_actions_init(&fa) != 0)
		goto out;
	have_fa = 1;
	if (posix_spawnattr_init(&attr) != 0)
		goto out;
	have_attr = 1;
	/* stdin is the socket; nothing else of ours leaks into the hook. The
	 * hook runs in a process group of its own, so that a timeout kills
	 * what it started too, with default signal handling and an empty
	 * mask whatever the service's threads block. */
	sigset_t none, all;
	sigemptyset(&none);
	sigfillset(&all);
	if (posix_spawn_file_actions_adddup2(&fa, sv[1], 0) != 0 ||
	    posix_spawn_file_actions_addclosefrom_np(&fa, 3) != 0 ||
	    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
						   POSIX_SPAWN_SETSIGDEF) != 0 ||
	    posix_spawnattr_setpgroup(&attr, 0) != 0 || posix_spawnattr_setsigmask(&attr, &none) != 0 ||
	    posix_spawnattr_setsigdefault(&attr, &all) != 0)
		goto out;
	char *argv[] = {"sh", "-c", x->cmd, NULL};
	pid_t pid;
	if (posix_spawn(&pid, "/bin/sh", &fa, &attr, argv, env) != 0)
		goto out;
	spawned = 1;
	close(sv[1]);
	sv[1] = -1;
	h->pid = pid;
	h->started = dr_mono_now();
	h->termed = 0;
	h->sock = sv[0];
	sv[0] = -1;
	h->rest = rest;
	h->rest_len = len;
	h->rest_off = 0;
	rest = NULL;
	x->running++;
	x->st.queue_depth = x->running + x->plen;
	feed(h);
out:
	if (!spawned)
		count(x, &x->st.failed);
	if (have_fa)
		posix_spawn_file_actions_destroy(&fa);
	if (have_attr)
		posix_spawnattr_destroy(&attr);
	if (env)
		free_env(env);
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	free(rest);
}

static void reaped(struct dr_exec *x, struct hook *h, int status);

/* Reaps the hooks that ended; with the lock held. */
static void reap_ended(struct dr_exec *x)
{
	for (unsigned i = 0; i < DR_EXEC_MAX; i++) {
		struct hook *h = &x->hook[i];
		int status;
		if (!h->pid)
			continue;
		pid_t r = waitpid(h->pid, &status, WNOHANG);
		if (r == h->pid || (r < 0 && errno == ECHILD))
			reaped(x, h, r == h->pid ? status : -1);
	}
}

static void pending_free(struct pending *q)
{
	free(q->type);
	free(q->key);
	free(q->json);
	memset(q, 0, sizeof(*q));
}

/* Starts waiting events while slots are free; with the lock held. */
static void start_pending(struct dr_exec *x)
{
	struct hook *h;
	while (x->plen && (h = free_slot(x))) {
		struct pending *q = &x->pend[x->phead];
		x->phead = (x->phead + 1) % DR_EXEC_PENDING;
		x->plen--;
		start(x, h, q->event, q->type, q->key, q->json, q->len);
		pending_free(q);
	}
}

void dr_exec_event(struct dr_exec *x, const char *event, const char *type, const char *key,
		   const char *json, size_t len)
{
	pthread_mutex_lock(&x->lock);
	struct hook *h = x->plen ? NULL : free_slot(x);
	if (!h && !x->plen) {	/* a slot may have ended since the last poll */
		reap_ended(x);
		h = free_slot(x);
	}
	if (h) {
		start(x, h, event, type, key, json, len);
	} else if (x->plen == DR_EXEC_PENDING) {
		count(x, &x->st.dropped);
	} else {
		struct pending *q = &x->pend[(x->phead + x->plen) % DR_EXEC_PENDING];
		q->event = event;
		q->type = strdup(type);
		q->key = strdup(key);
		q->json = malloc(len ? len : 1);
		q->len = len;
		if (!q->type || !q->key || !q->json) {
			pending_free(q);
			count(x, &x->st.dropped);
		} else {
			memcpy(q->json, json, len);
			x->plen++;
			x->st.queue_depth = x->running + x->plen;
		}
	}
	pthread_mutex_unlock(&x->lock);
}

/* The hook ended with `status`: sent if it exited 0 in time. */
static void reaped(struct dr_exec *x, struct hook *h, int status)
{
	int ok = !h->termed && WIFEXITED(status) && WEXITSTATUS(status) == 0;
	if (h->sock >= 0)
		close(h->sock);
	free(h->rest);
	memset(h, 0, sizeof(*h));
	h->sock = -1;
	x->running--;
	count(x, ok ? &x->st.sent : &x->st.failed);
}

void dr_exec_poll(struct dr_exec *x)
{
	double now = dr_mono_now();
	pthread_mutex_lock(&x->lock);
	for (unsigned i = 0; i < DR_EXEC_MAX; i++) {
		struct hook *h = &x->hook[i];
		if (!h->pid)
			continue;
		feed(h);
		int status;
		/* Only our own children, by pid: the service may have others. */
		pid_t r = waitpid(h->pid, &status, WNOHANG);
		if (r == h->pid || (r < 0 && errno == ECHILD)) {
			reaped(x, h, r == h->pid ? status : -1);
			continue;
		}
		if (!h->termed && now - h->started >= x->timeout) {
			kill(-h->pid, SIGTERM);
			h->termed = now;
		} else if (h->termed && now - h->termed >= DR_EXEC_GRACE) {
			kill(-h->pid, SIGKILL);
		}
	}
	start_pending(x);
	pthread_mutex_unlock(&x->lock);
}

void dr_exec_stats(struct dr_exec *x, struct dr_output_stats *st)
{
	pthread_mutex_lock(&x->lock);
	*st = x->st;
	pthread_mutex_unlock(&x->lock);
}

void dr_exec_close(struct dr_exec *x, double deadline)
{
	if (!x)
		return;
	double until = dr_mono_now() + (deadline > 0 ? deadline : 0);
	while ((x->running || x->plen) && dr_mono_now() < until) {
		dr_exec_poll(x);
		struct timespec ts = {0, 20 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	pthread_mutex_lock(&x->lock);
	for (unsigned i = 0; i < DR_EXEC_MAX; i++) {
		struct hook *h = &x->hook[i];
		if (!h->pid)
			continue;
		int status = -1;
		kill(-h->pid, SIGKILL);
		while (waitpid(h->pid, &status, 0) < 0 && errno == EINTR)
			;
		h->termed = h->termed ? h->termed : 1;	/* counted as failed */
		reaped(x, h, status);
	}
	while (x->plen) {	/* never started: given up on */
		pending_free(&x->pend[x->phead]);
		x->phead = (x->phead + 1) % DR_EXEC_PENDING;
		x->plen--;
		count(x, &x->st.dropped);
	}
	pthread_mutex_unlock(&x->lock);
	pthread_mutex_destroy(&x->lock);
	free(x->cmd);
	free(x);
}
