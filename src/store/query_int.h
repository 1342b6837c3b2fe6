/* Between query.c and the backends of the reader (query_sqlite.c,
 * query_clickhouse.c): each is one constant table of operations, chosen
 * by the form of the path dr_query_open is given. */
#ifndef DR_STORE_QUERY_INT_H
#define DR_STORE_QUERY_INT_H

#include "store/query.h"

struct dr_query_ops {
	const char *name;
	int sensors;		/* rows carry their sensor: p->sensor may be given */
	/* Whether path is this backend's (a prefix such as "clickhouse://"). */
	int (*claims)(const char *path);
	/* The form of path, nothing opened (dr_query_path_check). */
	int (*check)(const char *path, char *errbuf, size_t errlen);
	int (*open)(struct dr_query **q, const char *path, char *errbuf, size_t errlen);
	void (*close)(struct dr_query *q);
	int (*alerts)(struct dr_query *q, const struct dr_query_params *p, dr_query_alert_fn fn,
		      void *ctx, struct dr_query_result *res, char *errbuf, size_t errlen);
	int (*top)(struct dr_query *q, const struct dr_query_params *p, dr_query_count_fn fn,
		   void *ctx, struct dr_query_result *res, char *errbuf, size_t errlen);
	int (*series)(struct dr_query *q, const struct dr_query_params *p, dr_query_count_fn fn,
		      void *ctx, struct dr_query_result *res, char *errbuf, size_t errlen);
	int (*records)(struct dr_query *q, const struct dr_query_params *p,
		       dr_query_record_fn fn, void *ctx, struct dr_query_result *res,
		       char *errbuf, size_t errlen);
};

/* Every backend's connection starts with this. */
struct dr_query {
	const struct dr_query_ops *ops;
};

extern const struct dr_query_ops dr_query_sqlite, dr_query_clickhouse;

/* "all", "open", "closed", "interrupted", by enum dr_query_state. */
extern const char *const dr_query_state_names[4];
/* The records column each dimension is counted by (top with --where);
 * NULL for total. */
extern const char *const dr_query_record_columns[DR_QD_COUNT];

/* A qtype or rcode kept as a number, shown by its mnemonic (buf holds
 * it when it has none); any other key as it is. */
const char *dr_query_key_shown(enum dr_query_dim dim, const char *key, char *buf, size_t len);

#endif
