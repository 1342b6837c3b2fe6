/* GET /metrics: a copy of the service's counters in the Prometheus text
 * exposition format 0.0.4 (metrics.h). Names follow Prometheus' rules:
 * the dnsradar_ prefix, base units (seconds, bytes), _total on counters,
 * one name per thing counted and labels for the instances of it. */
#include "service/metrics.h"

#include <string.h>

/* "# HELP name text\n# TYPE name kind\n" */
static void family(struct dr_out *o, const char *name, const char *kind, const char *help)
{
	dr_out_need(o, 512);
	dr_out_str(o, "# HELP ");
	dr_out_str(o, name);
	dr_out_char(o, ' ');
	/* HELP escapes backslash and newline */
	for (const char *p = help; *p; p++) {
		if (*p == '\\')
			dr_out_str(o, "\\\\");
		else if (*p == '\n')
			dr_out_str(o, "\\n");
		else
			dr_out_char(o, *p);
	}
	dr_out_str(o, "\n# TYPE ");
	dr_out_str(o, name);
	dr_out_char(o, ' ');
	dr_out_str(o, kind);
	dr_out_char(o, '\n');
}

/* A label value: backslash, double quote and newline escaped. */
static void label_value(struct dr_out *o, const char *v)
{
	for (const char *p = v; *p; p++) {
		if (*p == '\\' || *p == '"') {
			dr_out_char(o, '\\');
			dr_out_char(o, *p);
		} else if (*p == '\n') {
			dr_out_str(o, "\\n");
		} else {
			dr_out_char(o, *p);
		}
	}
}

static void sample_start(struct dr_out *o, const char *name, const char *label,
			 const char *value)
{
	dr_out_need(o, 256);
	dr_out_str(o, name);
	if (label) {
		dr_out_char(o, '{');
		dr_out_str(o, label);
		dr_out_str(o, "=\"");
		label_value(o, value);
		dr_out_str(o, "\"}");
	}
	dr_out_char(o, ' ');
}

static void sample_u(struct dr_out *o, const char *name, const char *label, const char *value,
		     uint64_t v)
{
	sample_start(o, name, label, value);
	dr_out_u64(o, v);
	dr_out_char(o, '\n');
}

static void sample_d(struct dr_out *o, const char *name, const char *label, const char *value,
		     double v)
{
	sample_start(o, name, label, value);
	dr_out_double(o, v, 3);
	dr_out_char(o, '\n');
}

/* One family of one unlabelled sample. */
static void one_u(struct dr_out *o, const char *name, const char *kind, const char *help,
		  uint64_t v)
{
	family(o, name, kind, help);
	sample_u(o, name, NULL, NULL, v);
}

/* A counter of ClickHouse's spool by table. */
static void by_table(struct dr_out *o, const char *name, const char *help, const uint64_t *v)
{
	family(o, name, "counter", help);
	for (int t = 0; t < DR_CH_NTABLES; t++)
		sample_u(o, name, "table", dr_ch_table_names[t], v[t]);
}

#define IFACE_FAMILY(field, mname, kind, help) do { \
	family(o, mname, kind, help); \
	for (unsigned i_ = 0; i_ < m->nifaces && i_ < DR_IFACES_MAX; i_++) \
		sample_u(o, mname, "interface", m->ifaces[i_].name, (uint64_t)m->ifaces[i_].field); \
} while (0)

#define SOCKET_FAMILY(field, mname, kind, help) do { \
	family(o, mname, kind, help); \
	for (unsigned i_ = 0; i_ < m->nsockets && i_ < DR_LISTEN_MAX; i_++) \
		sample_u(o, mname, "socket", m->sockets[i_].name, (uint64_t)m->sockets[i_].field); \
} while (0)

#define OUTPUT_FAMILY(field, mname, kind, help) do { \
	family(o, mname, kind, help); \
	for (unsigned i_ = 0; i_ < m->noutputs && i_ < DR_METRIC_OUTPUTS; i_++) \
		sample_u(o, mname, "output", m->outputs[i_].name, (uint64_t)m->outputs[i_].field); \
} while (0)

#define DETECTOR_FAMILY(array, mname, kind, help) do { \
	family(o, mname, kind, help); \
	for (unsigned i_ = 0; i_ < m->ndetectors && i_ < DR_DETECTORS_MAX; i_++) \
		sample_u(o, mname, "type", m->detector[i_] ? m->detector[i_] : "", m->array[i_]); \
} while (0)

void dr_metrics_render(struct dr_out *o, const struct dr_metrics *m)
{
	char name[128];

	family(o, "dnsradar_start_time_seconds", "gauge",
	       "When the service started, seconds since the epoch.");
	sample_d(o, "dnsradar_start_time_seconds", NULL, NULL, m->started);
	family(o, "dnsradar_metrics_published_time_seconds", "gauge",
	       "When the detection thread last published these numbers.");
	sample_d(o, "dnsradar_metrics_published_time_seconds", NULL, NULL, m->now);
	family(o, "dnsradar_engine_clock_seconds", "gauge",
	       "The engine's clock (the watermark of input time), seconds since the epoch.");
	sample_d(o, "dnsradar_engine_clock_seconds", NULL, NULL, (double)m->engine_clock);

	IFACE_FAMILY(received, "dnsradar_capture_packets_total", "counter",
		     "Packets a live capture interface handed to dnsradar.");
	IFACE_FAMILY(kernel_drops, "dnsradar_capture_kernel_drops_total", "counter",
		     "Packets the kernel dropped because the capture ring was full.");
	IFACE_FAMILY(if_drops, "dnsradar_capture_interface_drops_total", "counter",
		     "Packets dropped by the interface or its driver.");
	IFACE_FAMILY(buffer, "dnsradar_capture_buffer_bytes", "gauge",
		     "The size of the capture ring, bytes.");

	SOCKET_FAMILY(datagrams, "dnsradar_flow_socket_datagrams_total", "counter",
		      "Datagrams a flow export socket received.");
	SOCKET_FAMILY(octets, "dnsradar_flow_socket_received_bytes_total", "counter",
		      "Bytes of UDP payload a flow export socket received.");
	SOCKET_FAMILY(drops, "dnsradar_flow_socket_drops_total", "counter",
		      "Datagrams the kernel dropped because the socket's receive buffer was full.");
	SOCKET_FAMILY(truncated, "dnsradar_flow_socket_truncated_total", "counter",
		      "Datagrams longer than a receive slot, cut.");
	SOCKET_FAMILY(rcvbuf, "dnsradar_flow_socket_receive_buffer_bytes", "gauge",
		      "The receive buffer the kernel gave the socket, bytes.");

	/* One counter per decoder stage, named after the stage. */
#define DR_DECODE_METRIC(field, problem, text) \
	snprintf(name, sizeof(name), "dnsradar_decode_%s_total", #field); \
	one_u(o, name, "counter", "Decoder: " text ".", m->decode.field);
	DR_DECODE_COUNTERS(DR_DECODE_METRIC)
#undef DR_DECODE_METRIC
#define DR_FLOW_METRIC(field, problem, text) \
	snprintf(name, sizeof(name), "dnsradar_flow_%s_total", #field); \
	one_u(o, name, "counter", "Flow decoder: " text ".", m->flows.field);
	DR_FLOW_COUNTERS(DR_FLOW_METRIC)
#undef DR_FLOW_METRIC

	family(o, "dnsradar_records_total", "counter",
	       "Records handed to the detectors, by kind (DNS messages, flow records).");
	sample_u(o, "dnsradar_records_total", "kind", "dns", m->records[0]);
	sample_u(o, "dnsradar_records_total", "kind", "flow", m->records[1]);
	one_u(o, "dnsradar_records_ahead_total", "counter",
	      "Records dropped because their time was more than 5 minutes ahead of the wall clock.",
	      m->records_ahead);
	one_u(o, "dnsradar_engine_late_records_total", "counter",
	      "Records later than the allowed lateness, not judged.", m->losses.late);
	one_u(o, "dnsradar_engine_early_records_total", "counter",
	      "Records handed on early because the reorder buffer was full.", m->losses.early);
	one_u(o, "dnsradar_engine_lost_windows_total", "counter",
	      "Firing seconds lost because every alert slot was open.", m->losses.lost_windows);
	one_u(o, "dnsradar_engine_unjudged_windows_total", "counter",
	      "Detector windows never judged.", m->losses.unjudged);
	one_u(o, "dnsradar_reorder_queue_depth", "gauge",
	      "Records held in the reorder buffer for late ones.", m->reorder_depth);
	one_u(o, "dnsradar_reorder_queue_capacity", "gauge",
	      "Records the reorder buffer can hold.", m->reorder_cap);

	DETECTOR_FAMILY(alerts_opened, "dnsradar_alerts_opened_total", "counter",
			"Alerts raised, by detector type.");
	DETECTOR_FAMILY(alerts_open, "dnsradar_alerts_open", "gauge",
			"Alerts open now, by detector type.");
	one_u(o, "dnsradar_alerts_dropped_total", "counter",
	      "Firing seconds lost because the alert slots were full.", m->alerts_dropped);

	if (m->have_respond) {
		const struct dr_respond_stats *r = &m->respond;
		one_u(o, "dnsradar_response_acting", "gauge",
		      "1 when the response acts; 0 in dry-run (it plans, logs and lists only).",
		      (uint64_t)m->respond_act);
		one_u(o, "dnsradar_actions_in_force", "gauge",
		      "Actions in force or on their way (dry-run ones included).", r->in_force);
		family(o, "dnsradar_actions_total", "counter",
		       "Actions by what happened to them: planned, dry-run, applied, lifted; failed "
		       "and retried attempts; not planned because of the allowlist or max_actions.");
		sample_u(o, "dnsradar_actions_total", "result", "planned", r->planned);
		sample_u(o, "dnsradar_actions_total", "result", "dry_run", r->dry);
		sample_u(o, "dnsradar_actions_total", "result", "applied", r->applied);
		sample_u(o, "dnsradar_actions_total", "result", "lifted", r->lifted);
		sample_u(o, "dnsradar_actions_total", "result", "failed", r->failed);
		sample_u(o, "dnsradar_actions_total", "result", "retried", r->retried);
		sample_u(o, "dnsradar_actions_total", "result", "allowlisted", r->allowed);
		sample_u(o, "dnsradar_actions_total", "result", "capped", r->capped);
	}

	if (m->have_store) {
		const struct dr_store_stats *s = &m->store;
		one_u(o, "dnsradar_store_events_total", "counter",
		      "Alert events committed to the store.", s->events);
		one_u(o, "dnsradar_store_minutes_total", "counter",
		      "Minutes of aggregates committed to the store.", s->minutes);
		one_u(o, "dnsradar_store_aggregate_rows_total", "counter",
		      "Rows of per-minute aggregates committed.", s->agg_rows);
		one_u(o, "dnsradar_store_records_total", "counter",
		      "Records committed to the store for drill-down.", s->records);
		one_u(o, "dnsradar_store_records_skipped_total", "counter",
		      "Records not kept, over a minute's caps (by design).", s->records_skipped);
		one_u(o, "dnsradar_store_dropped_batches_total", "counter",
		      "Batches lost because the writer's queue was full.", s->dropped_batches);
		one_u(o, "dnsradar_store_dropped_events_total", "counter",
		      "Alert events among the lost batches.", s->dropped_events);
		one_u(o, "dnsradar_store_write_errors_total", "counter",
		      "Store transactions that failed (disk full, I/O error).", s->write_errors);
		one_u(o, "dnsradar_store_deleted_rows_total", "counter",
		      "Rows removed by retention or the size cap.", s->deleted_rows);
		one_u(o, "dnsradar_store_queue_depth", "gauge",
		      "Batches waiting for the store's writer.", s->queue_depth);
		one_u(o, "dnsradar_store_queue_capacity", "gauge",
		      "Batches the store's writer may fall behind.", s->queue_cap);
		one_u(o, "dnsradar_store_file_size_bytes", "gauge",
		      "The store's file size at the last check, bytes.", s->file_bytes);
	}
	if (m->have_store && m->store.have_clickhouse) {
		const struct dr_ch_stats *c = &m->store.clickhouse;
		one_u(o, "dnsradar_clickhouse_connected", "gauge",
		      "1 when the last attempt reached ClickHouse.", (uint64_t)c->connected);
		one_u(o, "dnsradar_clickhouse_schema_ready", "gauge",
		      "1 once the schema was applied on ClickHouse.", (uint64_t)c->migrated);
		one_u(o, "dnsradar_clickhouse_batches_sent_total", "counter",
		      "Batches inserted into ClickHouse.", c->batches_sent);
		one_u(o, "dnsradar_clickhouse_rows_sent_total", "counter",
		      "Rows inserted into ClickHouse.", c->rows_sent);
		one_u(o, "dnsradar_clickhouse_bytes_sent_total", "counter",
		      "Compressed octets of the inserted batches.", c->bytes_sent);
		one_u(o, "dnsradar_clickhouse_send_errors_total", "counter",
		      "Attempts that failed (each batch is retried).", c->send_errors);
		one_u(o, "dnsradar_clickhouse_duplicates_total", "counter",
		      "Batches found stored already after a lost answer: not sent again.",
		      c->duplicates);
		one_u(o, "dnsradar_clickhouse_rejected_total", "counter",
		      "Batches ClickHouse refused as bad data, set aside in the spool.", c->rejected);
		one_u(o, "dnsradar_clickhouse_partitions_dropped_total", "counter",
		      "Day partitions dropped by the tables' retention.", c->partitions_dropped);
		one_u(o, "dnsradar_clickhouse_spool_batches", "gauge",
		      "Batches waiting in the spool.", c->spool_batches);
		one_u(o, "dnsradar_clickhouse_spool_bytes", "gauge",
		      "Octets the spool holds.", c->spool_bytes);
		one_u(o, "dnsradar_clickhouse_spool_over_bytes", "gauge",
		      "Octets of alert events kept over clickhouse.spool_max (never dropped).",
		      c->spool_over);
		one_u(o, "dnsradar_clickhouse_spool_errors_total", "counter",
		      "Batches the spool could not write or read back.", c->spool_errors);
		by_table(o, "dnsradar_clickhouse_spool_dropped_batches_total",
			 "Batches dropped from a full spool, by table.", c->spool_dropped);
		by_table(o, "dnsradar_clickhouse_spool_dropped_rows_total",
			 "Rows of the batches dropped from a full spool, by table.",
			 c->spool_dropped_rows);
	}

	OUTPUT_FAMILY(sent, "dnsradar_output_events_sent_total", "counter",
		      "Alert events an output delivered.");
	OUTPUT_FAMILY(failed, "dnsradar_output_failures_total", "counter",
		      "Attempts to deliver an alert event that failed (retried if it can).");
	OUTPUT_FAMILY(dropped, "dnsradar_output_events_dropped_total", "counter",
		      "Alert events given up on: queue full or retries spent.");
	OUTPUT_FAMILY(queue_depth, "dnsradar_output_queue_depth", "gauge",
		      "Alert events waiting in an output's queue.");
	OUTPUT_FAMILY(queue_cap, "dnsradar_output_queue_capacity", "gauge",
		      "Alert events an output's queue can hold.");

	one_u(o, "dnsradar_reloads_total", "counter", "Configuration reloads (SIGHUP).",
	      m->reloads);
	one_u(o, "dnsradar_reload_failures_total", "counter",
	      "Reloads refused (the old configuration kept).", m->reload_failures);
	one_u(o, "dnsradar_http_requests_total", "counter", "HTTP requests answered.",
	      m->http_requests);
	one_u(o, "dnsradar_http_errors_total", "counter",
	      "HTTP requests answered with a 4xx or 5xx status.", m->http_errors);
}
