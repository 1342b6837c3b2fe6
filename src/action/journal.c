/* The state file: the actions dnsradar put in force, as JSON, rewritten
 * whole after every change (at most max_actions entries), so that a
 * restart knows what to reconcile and lift. */
#include "action/journal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *const dr_action_state_names[] = {
	[0] = "?",
	[DR_ACTION_PENDING] = "pending",
	[DR_ACTION_ACTIVE] = "active",
	[DR_ACTION_DRY] = "dry-run",
	[DR_ACTION_LIFTING] = "lifting",
};

static json_t *addr_json(const struct dr_ev_addr *a)
{
	char t[INET6_ADDRSTRLEN];
	return dr_action_addr_text(a, t, sizeof(t)) < 0 ? json_null() : json_string(t);
}

/* null: no address */
static int addr_parse(json_t *v, struct dr_ev_addr *a)
{
	memset(a, 0, sizeof(*a));
	return !v || json_is_null(v) ? 0 : dr_action_addr_parse(json_string_value(v), a);
}

json_t *dr_action_view_json(const struct dr_action_view *v)
{
	const struct dr_action *a = &v->action;
	char what[256];
	dr_action_describe(a, what, sizeof(what));
	json_t *o = json_object();
	if (!o)
		return NULL;
	json_object_set_new(o, "id", json_integer((json_int_t)v->id));
	json_object_set_new(o, "kind", json_string(dr_action_kind_names[a->kind]));
	json_object_set_new(o, "backend", json_string(v->backend));
	json_object_set_new(o, "state", json_string(dr_action_state_names[v->state]));
	json_object_set_new(o, "what", json_string(what));
	json_object_set_new(o, "address", addr_json(&a->addr));
	json_object_set_new(o, "address2", addr_json(&a->addr2));
	json_object_set_new(o, "port", json_integer(a->port));
	json_object_set_new(o, "port2", json_integer(a->port2));
	json_object_set_new(o, "length", json_integer(a->length));
	json_object_set_new(o, "rate", json_integer(a->rate));
	json_object_set_new(o, "zone", json_string(a->zone));
	json_object_set_new(o, "alert", json_integer((json_int_t)a->alert));
	json_object_set_new(o, "type", json_string(a->type));
	json_object_set_new(o, "key", json_string(a->key));
	json_object_set_new(o, "since", json_real(v->since));
	json_object_set_new(o, "lift_at", v->lift_at > 0 ? json_real(v->lift_at) : json_null());
	json_object_set_new(o, "tries", json_integer(v->tries));
	json_object_set_new(o, "error", v->error[0] ? json_string(v->error) : json_null());
	json_object_set_new(o, "command", json_string(v->command));
	return o;
}

static int text(json_t *o, const char *k, char *dst, size_t size)
{
	const char *s = json_string_value(json_object_get(o, k));
	if (!s || strlen(s) >= size)
		return -1;
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

static double number(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_number(v) ? json_number_value(v) : 0;
}

int dr_action_view_parse(json_t *o, struct dr_action_view *v)
{
	struct dr_action *a = &v->action;
	char kind[32], state[32];
	memset(v, 0, sizeof(*v));
	if (!json_is_object(o) || text(o, "kind", kind, sizeof(kind)) < 0 ||
	    text(o, "state", state, sizeof(state)) < 0 ||
	    text(o, "backend", v->backend, sizeof(v->backend)) < 0 ||
	    text(o, "zone", a->zone, sizeof(a->zone)) < 0 ||
	    text(o, "type", a->type, sizeof(a->type)) < 0 ||
	    text(o, "key", a->key, sizeof(a->key)) < 0 ||
	    addr_parse(json_object_get(o, "address"), &a->addr) < 0 ||
	    addr_parse(json_object_get(o, "address2"), &a->addr2) < 0)
		return -1;
	a->kind = DR_ACT_KINDS;
	for (int k = 0; k < DR_ACT_KINDS; k++)
		if (!strcmp(kind, dr_action_kind_names[k]))
			a->kind = (uint8_t)k;
	for (int s = DR_ACTION_PENDING; s <= DR_ACTION_LIFTING; s++)
		if (!strcmp(state, dr_action_state_names[s]))
			v->state = s;
	double port = number(o, "port"), port2 = number(o, "port2");
	double length = number(o, "length"), rate = number(o, "rate");
	if (a->kind == DR_ACT_KINDS || !v->state || port < 0 || port > 65535 || port2 < 0 ||
	    port2 > 65535 || length < 0 || length > 65535 || rate < 0 || rate > 1e7)
		return -1;
	a->port = (uint16_t)port;
	a->port2 = (uint16_t)port2;
	a->length = (uint16_t)length;
	a->rate = (uint32_t)rate;
	a->alert = (uint64_t)number(o, "alert");
	v->id = (uint64_t)number(o, "id");
	v->since = number(o, "since");
	v->lift_at = number(o, "lift_at");
	v->tries = (unsigned)number(o, "tries");
	text(o, "error", v->error, sizeof(v->error));
	text(o, "command", v->command, sizeof(v->command));
	return v->id ? 0 : -1;
}

int dr_journal_write(const char *path, const struct dr_action_view *v, unsigned n, char *err,
		     size_t errlen)
{
	char tmp[4200];
	int rc = -1;
	json_t *doc = json_object(), *arr = json_array();
	if (!doc || !arr)
		goto out;
	for (unsigned i = 0; i < n; i++)
		json_array_append_new(arr, dr_action_view_json(&v[i]));
	json_object_set_new(doc, "version", json_integer(1));
	json_object_set(doc, "actions", arr);
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		snprintf(err, errlen, "%s: path too long", path);
		goto out;
	}
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if (json_dumpfd(doc, fd, JSON_INDENT(1)) < 0 || fsync(fd) < 0) {
		snprintf(err, errlen, "%s: cannot write it: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		goto out;
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	rc = 0;
out:
	if (rc < 0 && (!doc || !arr))
		snprintf(err, errlen, "%s: out of memory", path);
	json_decref(arr);
	json_decref(doc);
	return rc;
}

int dr_journal_read(const char *path, struct dr_action_view *v, unsigned max, unsigned *n,
		    unsigned *bad, char *err, size_t errlen)
{
	json_error_t je;
	*n = *bad = 0;
	if (access(path, F_OK) < 0 && errno == ENOENT)
		return 0;
	json_t *doc = json_load_file(path, 0, &je), *it;
	if (!doc) {
		snprintf(err, errlen, "%s: line %d: %s", path, je.line, je.text);
		return -1;
	}
	json_t *arr = json_object_get(doc, "actions");
	if (!json_is_array(arr)) {
		snprintf(err, errlen, "%s: no list of actions in it", path);
		json_decref(doc);
		return -1;
	}
	size_t i;
	json_array_foreach(arr, i, it) {
		if (*n == max || dr_action_view_parse(it, &v[*n]) < 0)
			(*bad)++;
		else
			(*n)++;
	}
	json_decref(doc);
	return 0;
}
