/* The ClickHouse schema (docs/clickhouse.md explains every column): what
 * the SQLite store keeps (schema.h), with a sensor column so that many
 * sensors share the tables, and a batch column, the id of the insert that
 * brought the row, so that an insert sent twice is found and not stored
 * again. Every table is a MergeTree partitioned by day and ordered by its
 * time bucket, then its key; the hourly rollup of the aggregates is a
 * SummingMergeTree fed by a materialized view, partitioned by month.
 *
 * It must run on Debian's clickhouse-server 18.16 as on current releases:
 * no IPv6, LowCardinality or DateTime64 type, no TTL clause (retention
 * drops whole day partitions, clickhouse.c), no query parameters. Every
 * statement is idempotent (IF NOT EXISTS), so that a sensor applies them
 * all at each start, and two sensors at once may race (code 57, "already
 * exists", is success). "{db}" is the database, "{cluster}" the cluster
 * of the Distributed tables. */
#ifndef DR_STORE_CH_SCHEMA_H
#define DR_STORE_CH_SCHEMA_H

/* What the tables mean; a sensor refuses a database that a newer dnsradar
 * migrated past it. */
#define DR_CH_SCHEMA_VERSION 1

/* The local tables, in the order they are made. */
static const char *const dr_ch_schema[] = {
	"CREATE DATABASE IF NOT EXISTS {db}",
	/* one row per sensor and version applied */
	"CREATE TABLE IF NOT EXISTS {db}.migrations (version UInt32, sensor String,"
	" applied DateTime) ENGINE = MergeTree PARTITION BY tuple() ORDER BY (version, sensor)",
	/* every lifecycle event of an alert, with the alert as it then stood;
	 * an alert's state now is its row of highest `version` (a count of
	 * nanoseconds, rising within a sensor) */
	"CREATE TABLE IF NOT EXISTS {db}.alert_events (time DateTime, ts Float64,"
	" sensor String, run UInt64, id UInt64, event String, type String, key String,"
	" state String, start Float64, end Float64, detected Float64, severity String,"
	" packets UInt64, bytes UInt64, peak_pps Float64, peak_bps Float64, updated Float64,"
	" json String, version UInt64, batch UInt64)"
	" ENGINE = MergeTree PARTITION BY toYYYYMMDD(time) ORDER BY (time, sensor, run, id)",
	/* per-minute aggregates, as the SQLite agg table */
	"CREATE TABLE IF NOT EXISTS {db}.agg (minute DateTime, sensor String, dim String,"
	" key String, messages UInt64, packets UInt64, bytes UInt64, batch UInt64)"
	" ENGINE = MergeTree PARTITION BY toYYYYMMDD(minute) ORDER BY (minute, dim, key)",
	"CREATE TABLE IF NOT EXISTS {db}.agg_1h (hour DateTime, sensor String, dim String,"
	" key String, messages UInt64, packets UInt64, bytes UInt64)"
	" ENGINE = SummingMergeTree((messages, packets, bytes)) PARTITION BY toYYYYMM(hour)"
	" ORDER BY (hour, dim, key, sensor)",
	"CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.agg_1h_mv TO {db}.agg_1h AS SELECT"
	" toStartOfHour(minute) AS hour, sensor, dim, key, sum(messages) AS messages,"
	" sum(packets) AS packets, sum(bytes) AS bytes FROM {db}.agg"
	" GROUP BY hour, sensor, dim, key",
	/* records kept for drill-down, as the SQLite records table; time is
	 * ts's second; src_bin and dst_bin the family octet, then the address */
	"CREATE TABLE IF NOT EXISTS {db}.records (time DateTime, ts Float64, sensor String,"
	" kind String, src String, src_bin String, sport UInt16, dst String, dst_bin String,"
	" dport UInt16, proto UInt8, id Nullable(UInt16), qr Nullable(UInt8),"
	" opcode Nullable(UInt8), rcode Nullable(UInt16), aa Nullable(UInt8), tc Nullable(UInt8),"
	" rd Nullable(UInt8), ra Nullable(UInt8), qname Nullable(String), zone Nullable(String),"
	" qtype Nullable(UInt16), qclass Nullable(UInt16), an Nullable(UInt16),"
	" ns Nullable(UInt16), ar Nullable(UInt16), len UInt32, edns_udp Nullable(UInt16),"
	" do Nullable(UInt8), malformed Nullable(String), packets UInt64, bytes UInt64,"
	" country Nullable(String), asn Nullable(UInt32), why String, weight Float64,"
	" batch UInt64)"
	" ENGINE = MergeTree PARTITION BY toYYYYMMDD(time) ORDER BY (time, src_bin)",
};

/* With clickhouse.cluster set, a Distributed table over each, on every
 * sensor's server; queries use them when they exist. */
static const char *const dr_ch_schema_cluster[] = {
	"CREATE TABLE IF NOT EXISTS {db}.alert_events_all AS {db}.alert_events"
	" ENGINE = Distributed({cluster}, {db}, alert_events)",
	"CREATE TABLE IF NOT EXISTS {db}.agg_all AS {db}.agg"
	" ENGINE = Distributed({cluster}, {db}, agg)",
	"CREATE TABLE IF NOT EXISTS {db}.agg_1h_all AS {db}.agg_1h"
	" ENGINE = Distributed({cluster}, {db}, agg_1h)",
	"CREATE TABLE IF NOT EXISTS {db}.records_all AS {db}.records"
	" ENGINE = Distributed({cluster}, {db}, records)",
};

/* The tables a batch goes to, in RowBinary, their columns in this order. */
#define DR_CH_EVENT_COLUMNS "time, ts, sensor, run, id, event, type, key, state, start, end," \
	" detected, severity, packets, bytes, peak_pps, peak_bps, updated, json, version, batch"
#define DR_CH_AGG_COLUMNS "minute, sensor, dim, key, messages, packets, bytes, batch"
#define DR_CH_RECORD_COLUMNS "time, ts, sensor, kind, src, src_bin, sport, dst, dst_bin," \
	" dport, proto, id, qr, opcode, rcode, aa, tc, rd, ra, qname, zone, qtype, qclass, an," \
	" ns, ar, len, edns_udp, do, malformed, packets, bytes, country, asn, why, weight, batch"

#endif
