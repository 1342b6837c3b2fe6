/* The service's HTTP API (libmicrohttpd): the store's drill-down as JSON
 * (/api/alerts, /api/top, /api/series, /api/records), Prometheus metrics
 * (/metrics) and /healthz. Every query is bounded as the CLI's are
 * (store/query.h); a bad request gets a 4xx and {"error": "..."}. */
#ifndef DR_SERVICE_HTTP_H
#define DR_SERVICE_HTTP_H

#include <stddef.h>

#include "action/respond.h"
#include "service/metrics.h"

#define DR_HTTP_CONNECTIONS 32		/* connections served at once */
#define DR_HTTP_TIMEOUT 15		/* seconds a connection may stay idle */
#define DR_HTTP_ANSWER_MAX (64u << 20)	/* the largest answer built, bytes */

struct dr_http;

/* Parses bind ("127.0.0.1:8053", "[::1]:8053", "localhost:8053"; port 0
 * picks a free one), refuses an address that is not loopback unless a
 * token is given ("--http 0.0.0.0:8053 needs http_token"), and binds and
 * listens now, so that the service may drop root before dr_http_start.
 * token (copied; NULL or "" for none) is asked of every request but
 * /healthz as "Authorization: Bearer TOKEN". store (copied; may be NULL:
 * /api answers 503) is opened read-only per request. board (borrowed; may
 * be NULL: /metrics answers 503) is read under its lock. respond (borrowed;
 * may be NULL: /api/actions answers 503) serves GET /api/actions and
 * POST /api/actions/ID/lift. 0, or -1 with
 * the reason in errbuf. */
int dr_http_open(struct dr_http **h, const char *bind, const char *token, const char *store,
		 struct dr_metrics_board *board, struct dr_respond *respond, char *errbuf,
		 size_t errlen);

/* The port bound (the one the kernel chose for port 0). */
unsigned dr_http_port(const struct dr_http *h);

/* Starts serving from a thread of libmicrohttpd's own. 0, or -1. */
int dr_http_start(struct dr_http *h, char *errbuf, size_t errlen);

/* Stops the thread (if started), closes the socket, frees h. */
void dr_http_close(struct dr_http *h);

#endif
