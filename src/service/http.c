/* The HTTP API and /metrics on libmicrohttpd (http.h). One polling thread
 * of libmicrohttpd's serves every connection in turn, so requests never
 * run at once: the store is opened read-only for each request (picking up
 * a store that appeared after the start) and the metrics copy is h's. */
#include "service/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "action/journal.h"
#include "lib/now.h"
#include "lib/when.h"
#include "store/query.h"

#define PARAMS_MAX 40
#define TOKEN_MAX 256

struct dr_http {
	int fd;
	unsigned port;
	int family;
	struct MHD_Daemon *daemon;
	char token[TOKEN_MAX];
	size_t token_len;
	char *store;
	struct dr_metrics_board *board;
	struct dr_respond *respond;
	struct dr_metrics copy;		/* the HTTP thread's copy for /metrics */
	atomic_uint_fast64_t requests, errors;
};

/* ---- binding ---- */

static int is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a))
			return a->s6_addr[12] == 127;
		return IN6_IS_ADDR_LOOPBACK(a);
	}
	return 0;
}

/* "HOST:PORT" or "[V6]:PORT" into host and port text; 0 or -1. */
static int split_bind(const char *spec, char *host, size_t hlen, char *port, size_t plen)
{
	const char *colon;
	if (spec[0] == '[') {
		const char *close = strchr(spec, ']');
		if (!close || close[1] != ':')
			return -1;
		if ((size_t)(close - spec - 1) >= hlen)
			return -1;
		memcpy(host, spec + 1, (size_t)(close - spec - 1));
		host[close - spec - 1] = 0;
		colon = close + 1;
	} else {
		colon = strrchr(spec, ':');
		if (!colon || (size_t)(colon - spec) >= hlen || strchr(spec, ':') != colon)
			return -1;
		memcpy(host, spec, (size_t)(colon - spec));
		host[colon - spec] = 0;
	}
	if (!host[0] || !colon[1] || strlen(colon + 1) >= plen ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1) || atoi(colon + 1) > 65535)
		return -1;
	snprintf(port, plen, "%s", colon + 1);
	return 0;
}

int dr_http_open(struct dr_http **hp, const char *spec, const char *token, const char *store,
		 struct dr_metrics_board *board, struct dr_respond *respond, char *errbuf,
		 size_t errlen)
{
	struct dr_http *h = calloc(1, sizeof(*h));
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *ai = NULL;
	char host[256], port[8];
	int one = 1, rc;

	*hp = NULL;
	if (!h) {
		snprintf(errbuf, errlen, "--http %s: out of memory", spec);
		return -1;
	}
	h->fd = -1;
	if (split_bind(spec, host, sizeof(host), port, sizeof(port)) < 0) {
		snprintf(errbuf, errlen, "--http '%s': give ADDRESS:PORT, e.g. 127.0.0.1:8053 or "
			 "[::1]:8053", spec);
		goto fail;
	}
	if ((rc = getaddrinfo(host, port, &hints, &ai)) != 0) {
		snprintf(errbuf, errlen, "--http %s: %s", spec, gai_strerror(rc));
		goto fail;
	}
	if (token && strlen(token) >= TOKEN_MAX) {
		snprintf(errbuf, errlen, "http_token: longer than %d characters", TOKEN_MAX - 1);
		goto fail;
	}
	if ((!token || !*token) && !is_loopback(ai->ai_addr)) {
		snprintf(errbuf, errlen, "--http %s needs http_token (only a loopback address may "
			 "go without)", spec);
		goto fail;
	}
	if (token) {
		h->token_len = strlen(token);
		memcpy(h->token, token, h->token_len);
	}
	h->family = ai->ai_family;
	h->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (h->fd < 0) {
		snprintf(errbuf, errlen, "--http %s: %s", spec, strerror(errno));
		goto fail;
	}
	setsockopt(h->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ai->ai_family == AF_INET6)
		setsockopt(h->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(h->fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(h->fd, 64) < 0) {
		snprintf(errbuf, errlen, "--http %s: %s", spec, strerror(errno));
		goto fail;
	}
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	if (getsockname(h->fd, (struct sockaddr *)&ss, &sl) == 0)
		h->port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
				: ((struct sockaddr_in6 *)&ss)->sin6_port);
	if (store && !(h->store = strdup(store))) {
		snprintf(errbuf, errlen, "--http %s: out of memory", spec);
		goto fail;
	}
	h->board = board;
	h->respond = respond;
	freeaddrinfo(ai);
	*hp = h;
	return 0;
fail:
	if (ai)
		freeaddrinfo(ai);
	dr_http_close(h);
	return -1;
}

unsigned dr_http_port(const struct dr_http *h)
{
	return h->port;
}

/* ---- requests ---- */

struct params {
	unsigned n;
	int overflow;
	struct {
		const char *key, *value;
	} p[PARAMS_MAX];
};

static enum MHD_Result collect_param(void *cls, enum MHD_ValueKind kind, const char *key,
				     const char *value)
{
	struct params *ps = cls;
	(void)kind;
	if (ps->n == PARAMS_MAX) {
		ps->overflow = 1;
		return MHD_NO;
	}
	ps->p[ps->n].key = key;
	ps->p[ps->n++].value = value ? value : "";
	return MHD_YES;
}

/* The one value of key, or NULL; repeated keys are refused before. */
static const char *param(const struct params *ps, const char *key)
{
	for (unsigned i = 0; i < ps->n; i++)
		if (strcmp(ps->p[i].key, key) == 0)
			return ps->p[i].value;
	return NULL;
}

/* Whether every parameter is one the endpoint takes, once (where may be
 * repeated); else the message. */
static int params_check(const struct params *ps, const char *const *allowed, char *errbuf,
			size_t errlen)
{
	if (ps->overflow) {
		snprintf(errbuf, errlen, "more than %d parameters", PARAMS_MAX);
		return -1;
	}
	for (unsigned i = 0; i < ps->n; i++) {
		const char *k = ps->p[i].key;
		unsigned a;
		for (a = 0; allowed[a]; a++)
			if (strcmp(k, allowed[a]) == 0)
				break;
		if (!allowed[a]) {
			size_t n = (size_t)snprintf(errbuf, errlen, "unknown parameter '%.64s'; this "
						    "endpoint takes", k);
			for (a = 0; allowed[a] && n < errlen; a++)
				n += (size_t)snprintf(errbuf + n, errlen - n, "%s %s",
						      a ? "," : "", allowed[a]);
			return -1;
		}
		if (strcmp(k, "where") == 0)
			continue;
		for (unsigned j = 0; j < i; j++)
			if (strcmp(ps->p[j].key, k) == 0) {
				snprintf(errbuf, errlen, "parameter '%s' given twice", k);
				return -1;
			}
	}
	return 0;
}

/* An answer: a status and a body (taken: freed by libmicrohttpd). */
struct answer {
	unsigned status;
	const char *type;
	struct dr_out out;
};

static void answer_error(struct answer *a, unsigned status, const char *msg)
{
	a->status = status;
	a->type = "application/json";
	a->out.len = 0;
	a->out.err = 0;
	dr_out_str(&a->out, "{\"error\":");
	dr_out_json_str(&a->out, msg, strlen(msg));
	dr_out_str(&a->out, "}\n");
}

enum endpoint { EP_ALERTS, EP_TOP, EP_SERIES, EP_RECORDS };

static const char *const allowed_params[][8] = {
	[EP_ALERTS] = {"since", "from", "to", "state", "type", "limit", NULL},
	[EP_TOP] = {"by", "since", "from", "to", "where", "limit", NULL},
	[EP_SERIES] = {"dim", "key", "since", "from", "to", "limit", NULL},
	[EP_RECORDS] = {"since", "from", "to", "where", "limit", NULL},
};
static const char *const endpoint_names[] = {"alerts", "top", "series", "records"};
static const double default_spans[] = {86400, 3600, 3600, 600};

/* Reads the parameters of an /api endpoint into p (w holds --where). */
static int api_params(enum endpoint ep, const struct params *ps, struct dr_query_params *p,
		      struct dr_where *w, char *errbuf, size_t errlen)
{
	const char *v;
	if (params_check(ps, allowed_params[ep], errbuf, errlen) < 0)
		return -1;
	/* API times are read in UTC: a server's local zone is nobody's */
	if (dr_when_range(param(ps, "since"), param(ps, "from"), param(ps, "to"), 1, dr_wall_now(),
			  default_spans[ep], "", &p->from, &p->to, errbuf, errlen) < 0)
		return -1;
	if ((v = param(ps, "limit"))) {
		char *end;
		long n = strtol(v, &end, 10);
		if (*end || end == v || n < 1 || n > DR_QUERY_LIMIT_MAX) {
			snprintf(errbuf, errlen, "limit '%.32s': give a number from 1 to %d", v,
				 DR_QUERY_LIMIT_MAX);
			return -1;
		}
		p->limit = (unsigned)n;
	}
	if ((v = param(ps, "state"))) {
		int st = dr_query_state_parse(v);
		if (st < 0) {
			snprintf(errbuf, errlen, "state '%.32s': give open, closed, interrupted or all",
				 v);
			return -1;
		}
		p->state = (enum dr_query_state)st;
	}
	p->type = param(ps, "type");
	p->key = param(ps, "key");
	p->dim = ep == EP_SERIES ? DR_QD_TOTAL : DR_QD_SRC;
	if ((v = param(ps, ep == EP_SERIES ? "dim" : "by"))) {
		int dim = dr_query_dim_parse(v, ep == EP_SERIES);
		if (dim < 0) {
			snprintf(errbuf, errlen, "%s '%.32s': give src, dst, sport, dport, qname, zone, "
				 "qtype, rcode, country or asn%s", ep == EP_SERIES ? "dim" : "by", v,
				 ep == EP_SERIES ? " (or total)" : "");
			return -1;
		}
		p->dim = (enum dr_query_dim)dim;
	}
	if (p->key && p->dim == DR_QD_TOTAL) {
		snprintf(errbuf, errlen, "key needs dim (src, qname, ...)");
		return -1;
	}
	for (unsigned i = 0; i < ps->n; i++)
		if (strcmp(ps->p[i].key, "where") == 0 &&
		    dr_where_add(w, ps->p[i].value, errbuf, errlen) < 0)
			return -1;
	p->where = w;
	return dr_query_check(endpoint_names[ep], p, "", errbuf, errlen);
}

static void serve_api(struct dr_http *h, enum endpoint ep, const struct params *ps,
		      struct answer *a)
{
	struct dr_query_params p = {.state = DR_QS_ALL};
	struct dr_where *w = calloc(1, sizeof(*w));
	struct dr_query *q = NULL;
	char err[768];
	int rc;

	if (!w) {
		answer_error(a, 500, "out of memory");
		return;
	}
	if (api_params(ep, ps, &p, w, err, sizeof(err)) < 0) {
		answer_error(a, 400, err);
		goto out;
	}
	if (!h->store) {
		answer_error(a, 503, "no store: the service runs without --store");
		goto out;
	}
	if (dr_query_open(&q, h->store, err, sizeof(err)) < 0) {
		answer_error(a, 503, err);
		goto out;
	}
	switch (ep) {
	case EP_ALERTS: rc = dr_query_alerts_json(q, &p, &a->out, err, sizeof(err)); break;
	case EP_TOP: rc = dr_query_top_json(q, &p, &a->out, err, sizeof(err)); break;
	case EP_SERIES: rc = dr_query_series_json(q, &p, &a->out, err, sizeof(err)); break;
	default: rc = dr_query_records_json(q, &p, 0, &a->out, err, sizeof(err)); break;
	}
	if (rc < 0) {
		/* the bounds were checked before: what is left is the store's */
		answer_error(a, strstr(err, "stopped after") ? 400 : 500, err);
	} else if (a->out.err) {
		answer_error(a, 400, "the answer is larger than the most this server builds; "
			     "lower limit or narrow the range");
	} else {
		dr_out_char(&a->out, '\n');
		a->status = 200;
		a->type = "application/json";
	}
out:
	dr_query_close(q);
	free(w);
}

static void serve_metrics(struct dr_http *h, const struct params *ps, struct answer *a)
{
	static const char *const none[] = {NULL};
	char err[256];
	if (params_check(ps, none, err, sizeof(err)) < 0) {
		answer_error(a, 400, err);
		return;
	}
	if (!h->board) {
		answer_error(a, 503, "no metrics yet");
		return;
	}
	pthread_mutex_lock(&h->board->lock);
	h->copy = h->board->m;
	pthread_mutex_unlock(&h->board->lock);
	/* the HTTP thread's own counts, never written by the publisher */
	h->copy.http_requests = atomic_load(&h->requests);
	h->copy.http_errors = atomic_load(&h->errors);
	dr_metrics_render(&a->out, &h->copy);
	if (a->out.err) {
		answer_error(a, 500, "the metrics are larger than the most this server builds");
		return;
	}
	a->status = 200;
	a->type = "text/plain; version=0.0.4; charset=utf-8";
}

/* GET /api/actions: what the response has in force or on its way. */
static void serve_actions(struct dr_http *h, const struct params *ps, struct answer *a)
{
	static const char *const none[] = {NULL};
	char err[256];
	if (params_check(ps, none, err, sizeof(err)) < 0) {
		answer_error(a, 400, err);
		return;
	}
	struct dr_action_view *v = calloc(DR_ACTIONS_CAP, sizeof(*v));
	json_t *doc = json_object(), *arr = json_array();
	char *text = NULL;
	if (!v || !doc || !arr) {
		answer_error(a, 500, "out of memory");
		goto out;
	}
	unsigned n = dr_respond_list(h->respond, v, DR_ACTIONS_CAP);
	for (unsigned i = 0; i < n; i++)
		json_array_append_new(arr, dr_action_view_json(&v[i]));
	json_object_set_new(doc, "acting", json_boolean(dr_respond_acting(h->respond)));
	json_object_set(doc, "actions", arr);
	if (!(text = json_dumps(doc, JSON_COMPACT))) {
		answer_error(a, 500, "out of memory");
		goto out;
	}
	dr_out_str(&a->out, text);
	dr_out_char(&a->out, '\n');
	a->status = 200;
	a->type = "application/json";
out:
	free(text);
	json_decref(arr);
	json_decref(doc);
	free(v);
}

/* POST /api/actions/ID/lift: lifts one by hand. */
static void serve_lift(struct dr_http *h, const char *rest, struct answer *a)
{
	char *end;
	errno = 0;
	unsigned long long id = strtoull(rest, &end, 10);
	if (end == rest || strcmp(end, "/lift") != 0 || errno) {
		answer_error(a, 404, "lift an action with POST /api/actions/ID/lift");
		return;
	}
	if (dr_respond_lift(h->respond, id) < 0) {
		answer_error(a, 404, "no such action (GET /api/actions lists them)");
		return;
	}
	dr_out_str(&a->out, "{\"lifted\":");
	dr_out_u64(&a->out, id);
	dr_out_str(&a->out, "}\n");
	a->status = 200;
	a->type = "application/json";
}

/* Compares the Authorization header with "Bearer TOKEN" in a time that
 * depends on the token's length only, not on where they differ. */
static int authorized(const struct dr_http *h, struct MHD_Connection *c)
{
	if (!h->token_len)
		return 1;
	const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	if (!v || strncmp(v, "Bearer ", 7) != 0)
		return 0;
	v += 7;
	size_t n = strlen(v);
	unsigned diff = n != h->token_len;
	for (size_t i = 0; i < h->token_len; i++)
		diff |= (unsigned)(h->token[i] ^ (i < n ? v[i] : 0));
	return diff == 0;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **con_cls)
{
	struct dr_http *h = cls;
	struct answer a = {.status = 500};
	struct params *ps = NULL;
	(void)version;
	(void)upload;
	(void)con_cls;

	if (dr_out_init_mem(&a.out, 16 * 1024, DR_HTTP_ANSWER_MAX) < 0)
		return MHD_NO;
	*upload_size = 0;	/* a body is never read */
	atomic_fetch_add(&h->requests, 1);
	int post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
	if (post && strncmp(url, "/api/actions/", 13) != 0) {
		answer_error(&a, 405, "only GET is served here; POST only to /api/actions/ID/lift");
		goto send;
	}
	if (!post && strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
		answer_error(&a, 405, "only GET is served (and POST /api/actions/ID/lift)");
		goto send;
	}
	if (strcmp(url, "/healthz") == 0) {
		a.status = 200;
		a.type = "text/plain; charset=utf-8";
		dr_out_str(&a.out, "ok\n");
		goto send;
	}
	if (!authorized(h, c)) {
		answer_error(&a, 401, "give the service's http_token as 'Authorization: Bearer TOKEN'");
		goto send;
	}
	if (!(ps = calloc(1, sizeof(*ps)))) {
		answer_error(&a, 500, "out of memory");
		goto send;
	}
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_param, ps);
	if (strcmp(url, "/metrics") == 0) {
		serve_metrics(h, ps, &a);
	} else if (!strcmp(url, "/api/actions") || !strncmp(url, "/api/actions/", 13)) {
		if (!h->respond)
			answer_error(&a, 503, "the response is not running");
		else if (url[12] == '/' && post &&
			 MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin"))
			/* a browser's request (a page posting to loopback): never
			 * lets a web page lift a ban; dnsradar actions sends none */
			answer_error(&a, 403, "a request with an Origin header may not lift actions");
		else if (url[12] == '/' && post)
			serve_lift(h, url + 13, &a);
		else if (url[12] == '/')
			answer_error(&a, 405, "lift an action with POST /api/actions/ID/lift");
		else
			serve_actions(h, ps, &a);
	} else if (strncmp(url, "/api/", 5) == 0) {
		unsigned ep;
		for (ep = 0; ep < 4; ep++)
			if (strcmp(url + 5, endpoint_names[ep]) == 0)
				break;
		if (ep < 4)
			serve_api(h, (enum endpoint)ep, ps, &a);
		else
			answer_error(&a, 404, "no such endpoint; try /api/alerts, /api/top, "
				     "/api/series, /api/records, /api/actions, /metrics or "
				     "/healthz");
	} else {
		answer_error(&a, 404, "no such endpoint; try /api/alerts, /api/top, /api/series, "
			     "/api/records, /api/actions, /metrics or /healthz");
	}
send:
	free(ps);
	if (a.status >= 400)
		atomic_fetch_add(&h->errors, 1);
	if (h->board) {	/* the publisher carries these over (service.c) */
		pthread_mutex_lock(&h->board->lock);
		h->board->m.http_requests = atomic_load(&h->requests);
		h->board->m.http_errors = atomic_load(&h->errors);
		pthread_mutex_unlock(&h->board->lock);
	}
	struct MHD_Response *r = MHD_create_response_from_buffer(a.out.len, a.out.buf,
								 MHD_RESPMEM_MUST_FREE);
	if (!r) {
		dr_out_fini(&a.out);
		return MHD_NO;
	}
	a.out.buf = NULL;	/* libmicrohttpd frees it with the response */
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				a.type ? a.type : "application/json");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (a.status == 405)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW,
					strncmp(url, "/api/actions/", 13) ? "GET, HEAD" : "POST");
	if (a.status == 401)
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
	enum MHD_Result ret = MHD_queue_response(c, a.status, r);
	MHD_destroy_response(r);
	return ret;
}

int dr_http_start(struct dr_http *h, char *errbuf, size_t errlen)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO;
	if (h->family == AF_INET6)
		flags |= MHD_USE_IPv6;
	h->daemon = MHD_start_daemon(flags, 0, NULL, NULL, handle, h,
				     MHD_OPTION_LISTEN_SOCKET, (MHD_socket)h->fd,
				     MHD_OPTION_CONNECTION_LIMIT, (unsigned)DR_HTTP_CONNECTIONS,
				     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)DR_HTTP_TIMEOUT,
				     MHD_OPTION_END);
	if (!h->daemon) {
		snprintf(errbuf, errlen, "--http port %u: libmicrohttpd would not start", h->port);
		return -1;
	}
	return 0;
}

void dr_http_close(struct dr_http *h)
{
	if (!h)
		return;
	if (h->daemon)
		MHD_stop_daemon(h->daemon);	/* closes the listening socket too */
	else if (h->fd >= 0)
		close(h->fd);
	free(h->store);
	free(h);
}
