/* The service's configuration (dnsradar run): one file of NAME = VALUE
 * lines whose main keys also exist as flags. The same reader serves the
 * start, `dnsradar check-config` (which lists every mistake, not just
 * the first) and SIGHUP reloads (which change thresholds, roles and
 * outputs, and say which settings wait for a restart). */
#ifndef DR_SERVICE_CONFIG_H
#define DR_SERVICE_CONFIG_H

#include <stddef.h>

#include "action/respond.h"
#include "detect/engine.h"
#include "input/input.h"
#include "service/outputs.h"
#include "store/store.h"

#define DR_CONF_VALUE 512	/* octets of a value, with its end */

struct dr_service_config {
	/* what is read */
	char ifaces[DR_IFACES_MAX][32];
	unsigned nifaces;
	char listen[DR_LISTEN_MAX][64];
	unsigned nlisten;
	char bpf[DR_CONF_VALUE];
	int snaplen;			/* 0: the input's default */
	int capture_buffer;		/* octets; 0: the input's default */
	int rcvbuf;			/* octets; 0: the input's default */
	uint8_t dns_ports[8192];	/* bitmap, port 53 always */
	uint8_t flow_ports[8192];	/* bitmap, the defaults always */
	int flows;			/* 0: decode no flow exports */
	unsigned threads;		/* 1 or 2 */
	/* what is kept and shown */
	char store[DR_CONF_VALUE];	/* "" : no store */
	/* what the HTTP API reads: a store file or clickhouse://...; "" :
	 * the store above */
	char http_store[DR_CONF_VALUE];
	double store_values[DR_STORE_NPARAMS];
	/* ClickHouse beside the store: "" or its HTTP URL */
	char clickhouse[DR_CONF_VALUE];
	char clickhouse_sensor[128];	/* "": the host's name */
	char clickhouse_spool[DR_CONF_VALUE];	/* "": STORE.spool */
	char clickhouse_cluster[64];	/* "": no Distributed tables */
	double clickhouse_values[DR_CH_NPARAMS];
	char http[64];			/* "ADDR:PORT", "" : no HTTP */
	char http_token[DR_CONF_VALUE];
	char geoip[DR_CONF_VALUE], asn[DR_CONF_VALUE];
	/* where alerts go (the strings below are the output config's) */
	char alert_log[DR_CONF_VALUE];
	int syslog;
	char syslog_facility[32];
	char webhook[DR_CONF_VALUE];
	char webhook_header[DR_CONF_VALUE];
	double webhook_timeout;
	double webhook_backoff;		/* seconds before the first retry */
	unsigned webhook_queue, webhook_retries;
	char exec[DR_CONF_VALUE];
	double exec_timeout;
	/* who it runs as once its captures and sockets are open */
	char user[64];			/* "" : dnsradar when it exists, else stay */
	int user_given;			/* set by the file or --user */
	/* the response: policy, backends, dry-run or not */
	struct dr_respond_config respond;
	/* detection: thresholds, roles (and the decoders' settings) */
	struct dr_engine engine;
};

/* Defaults (the engine's included). No allocation. */
void dr_service_config_defaults(struct dr_service_config *c);

/* One mistake: file, line (0 for the file as a whole) and why. */
typedef void (*dr_conf_error_fn)(void *ctx, const char *file, unsigned line, const char *why);

/* Reads a config file into c. Every mistake goes to err (all of them:
 * the reading goes on past a bad line); returns how many there were, or
 * -1 when the file cannot be read (err told why). */
int dr_service_config_load(struct dr_service_config *c, const char *path, dr_conf_error_fn err,
			   void *ctx);

/* One setting, as a config line or a flag gives it: 0, or -1 with why
 * (not naming the key). "interface" and "listen" add; others replace. */
int dr_service_config_set(struct dr_service_config *c, const char *key, const char *value,
			  char *why, size_t len);

/* After every setting: the settings that only make sense together (a
 * non-loopback --http needs a token; something to read; the detectors'
 * memory). 0, or -1 with the reason. */
int dr_service_config_check(const struct dr_service_config *c, char *why, size_t len);

/* The ClickHouse sink's settings (clickhouse set); spool holds its
 * folder's name (STORE.spool unless clickhouse.spool is set). */
void dr_service_clickhouse_config(const struct dr_service_config *c, struct dr_ch_config *ch,
				  char *spool, size_t len);

/* The output configuration c describes (its strings borrowed from c). */
void dr_service_output_config(const struct dr_service_config *c, struct dr_output_config *o);

/* Every key a config file takes, for messages and --help. */
extern const char dr_service_config_keys[];

#endif
