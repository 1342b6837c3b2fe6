/* The store's schema (SQLite, WAL): one file holds the alerts and their
 * lifecycle events, per-minute aggregates and a bounded sample of records.
 * Times are seconds since the epoch (UTC), fractional where a record's
 * own; a minute is the epoch second its minute starts at. Addresses are
 * kept twice: as text for people, and as a key for prefix matches (`*_bin`:
 * the family, 4 or 6, then the 4 or 16 octets of the address, so that a
 * CIDR is a range of BLOBs). docs/store.md explains every column. */
#ifndef DR_STORE_SCHEMA_H
#define DR_STORE_SCHEMA_H

#define DR_STORE_SCHEMA_VERSION 1

#define DR_STORE_SCHEMA \
	"CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;\n" \
	/* one row per start of the service on this file */ \
	"CREATE TABLE IF NOT EXISTS runs(id INTEGER PRIMARY KEY, started REAL NOT NULL," \
	" stopped REAL, host TEXT, version TEXT, pid INTEGER, how TEXT);\n" \
	/* one row per alert, as it last stood: state open, closed, or \
	 * interrupted (the service stopped or died while it was open); json \
	 * is the alert object of the output contract */ \
	"CREATE TABLE IF NOT EXISTS alerts(run INTEGER NOT NULL, id INTEGER NOT NULL," \
	" type TEXT NOT NULL, key TEXT NOT NULL, state TEXT NOT NULL," \
	" start REAL NOT NULL, end REAL NOT NULL, detected REAL NOT NULL," \
	" severity TEXT NOT NULL, packets INTEGER NOT NULL, bytes INTEGER NOT NULL," \
	" peak_pps REAL NOT NULL, peak_bps REAL NOT NULL, updated REAL NOT NULL," \
	" json TEXT NOT NULL, PRIMARY KEY(run, id));\n" \
	"CREATE INDEX IF NOT EXISTS alerts_start ON alerts(start);\n" \
	"CREATE INDEX IF NOT EXISTS alerts_end ON alerts(end);\n" \
	/* every lifecycle event: ts is when it was written (wall clock) */ \
	"CREATE TABLE IF NOT EXISTS events(ts REAL NOT NULL, run INTEGER NOT NULL," \
	" alert INTEGER NOT NULL, event TEXT NOT NULL, json TEXT NOT NULL);\n" \
	"CREATE INDEX IF NOT EXISTS events_ts ON events(ts);\n" \
	/* per-minute aggregates: for each dimension (dim: total, src, dst, \
	 * sport, dport, qname, zone, qtype, rcode, country, asn, direction, \
	 * exporter, kind) the heaviest keys of the minute, and the rest \
	 * under key '(other)', so that a dimension's rows sum to the total */ \
	"CREATE TABLE IF NOT EXISTS agg(minute INTEGER NOT NULL, dim TEXT NOT NULL," \
	" key TEXT NOT NULL, messages INTEGER NOT NULL, packets INTEGER NOT NULL," \
	" bytes INTEGER NOT NULL, PRIMARY KEY(minute, dim, key)) WITHOUT ROWID;\n" \
	/* records kept for drill-down: why is 'alert' (every record of a host \
	 * or zone under an open alert, up to a cap a minute) or 'sample' (a \
	 * fixed-size sample of the rest of the minute); weight is how many \
	 * records of the traffic it stands for (1 for 'alert') */ \
	"CREATE TABLE IF NOT EXISTS records(ts REAL NOT NULL, kind TEXT NOT NULL," \
	" src TEXT NOT NULL, src_bin BLOB NOT NULL, sport INTEGER NOT NULL," \
	" dst TEXT NOT NULL, dst_bin BLOB NOT NULL, dport INTEGER NOT NULL," \
	" proto INTEGER NOT NULL, id INTEGER, qr INTEGER, opcode INTEGER, rcode INTEGER," \
	" aa INTEGER, tc INTEGER, rd INTEGER, ra INTEGER, qname TEXT, zone TEXT," \
	" qtype INTEGER, qclass INTEGER, an INTEGER, ns INTEGER, ar INTEGER," \
	" len INTEGER NOT NULL, edns_udp INTEGER, do INTEGER, malformed TEXT," \
	" packets INTEGER NOT NULL, bytes INTEGER NOT NULL, country TEXT, asn INTEGER," \
	" why TEXT NOT NULL, weight REAL NOT NULL);\n" \
	"CREATE INDEX IF NOT EXISTS records_ts ON records(ts);\n" \
	"CREATE INDEX IF NOT EXISTS records_src ON records(src_bin, ts);\n" \
	"CREATE INDEX IF NOT EXISTS records_dst ON records(dst_bin, ts);\n"

#endif
