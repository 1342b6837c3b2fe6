/* The path every subcommand shares: an input (input/input.h) -> decoder ->
 * filter -> a consumer, with a progress bar on a terminal. */
#ifndef DR_CORE_PIPELINE_H
#define DR_CORE_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "decode/flow.h"
#include "decode/packet.h"
#include "core/where.h"
#include "input/input.h"

struct dr_regdom;

/* What a live input has counted so far, as the service publishes it once
 * a second (/metrics): its interfaces, its sockets, and the decoder's
 * counts. A copy taken by the reading thread at a tick. */
struct dr_pipeline_counters {
	struct dr_input_iface ifaces[DR_IFACES_MAX];
	unsigned nifaces;
	struct dr_input_socket sockets[DR_LISTEN_MAX];
	unsigned nsockets;
	struct dr_decode_stats decode;
	struct dr_flow_stats flows;	/* the flow decoder's */
	uint64_t ahead;			/* records dropped: from too far ahead */
	uint64_t ticks;			/* ticks so far, this one included */
};

struct dr_pipeline {
	/* set by the caller: files, or a capture image in memory */
	char *const *files;
	unsigned nfiles;
	const uint8_t *mem;		/* not NULL: read mem[0..mem_len) */
	size_t mem_len;
	/* or flow export sockets: "ADDR:PORT" each (input/input.h) */
	char *const *listen;
	unsigned nlisten;
	int rcvbuf;			/* octets; 0: the input's default */
	/* or live capture on network interfaces (input/live.c), with the
	 * sockets above, if any, read by the same input */
	char *const *ifaces;
	unsigned nifaces;
	int snaplen;			/* octets kept of a packet; 0: 65535 */
	int capture_buffer;		/* each interface's ring, octets; 0: 64 MiB */
	/* 1 (the default): SIGINT and SIGTERM stop the reading, and the run
	 * returns what was read with `interrupted` set; a second signal
	 * has its default effect */
	int catch_signals;
	const char *bpf;		/* NULL: no filter */
	uint8_t dns_ports[8192];	/* bitmap; port 53 set by init */
	/* UDP destination ports whose datagrams are flow exports (NetFlow,
	 * IPFIX, sFlow): 2055, 4739, 6343, 9995 and 9996 set by init;
	 * flows = 0 decodes none */
	uint8_t flow_ports[8192];
	int flows;
	struct dr_flow_config flow_config;	/* the flow decoder's tables */
	struct dr_where where;
	int progress;			/* 1: draw on stderr if it is a terminal */
	/* optional, for live inputs: called about once a second, whether
	 * packets keep coming or the input is quiet, with the input's clock:
	 * the latest record's time plus the time since it came, so that a
	 * replayed archive keeps its own clock and quiet seconds are judged.
	 * It is called on the thread that runs the consumers (with threads
	 * = 2 the reader puts the tick into the ring behind the records read
	 * before it), after every record read before it, so it may tick
	 * what every_fn and fn feed. Not called before the first record;
	 * dr_pipeline_counters() gives the input's counts as of the tick. */
	void (*idle_fn)(void *ctx, int64_t now);
	void *idle_ctx;
	/* live inputs: a record whose time is more than max_ahead seconds
	 * past the wall clock is dropped and counted in `ahead` (a broken or
	 * hostile exporter's clock would otherwise carry the engine's clock
	 * into the future and close every open alert); 0: no check */
	int max_ahead;
	uint64_t ahead;
	/* 1: idle_fn is called before the first record too, with now =
	 * DR_PIPELINE_NO_CLOCK (a service keeps house on a quiet link) */
	int tick_unclocked;
	/* optional: called once the input is open and before anything is
	 * read, on the calling thread and before the pipeline starts a
	 * thread of its own: a service drops root here. Non-zero stops the
	 * run, which returns -1 with the message the hook put in error. */
	int (*opened_fn)(void *ctx, char *error, size_t errlen);
	void *opened_ctx;
	/* optional: sees every message before --where, in order */
	void (*every_fn)(void *ctx, struct dr_record *r);
	void *every_ctx;
	/* 2: the consumers (every_fn, --where, fn) run on a thread of their
	 * own, fed copies of the records through a ring, while the caller's
	 * thread reads, decodes and fills the keys; 1: all on one thread */
	unsigned threads;
	/* set: every record's keys (core/keys.h) are filled before any
	 * consumer sees it, with registered domains from regdom if given */
	int keys;
	struct dr_regdom *regdom;
	struct dr_decode_config decode;
	/* filled by the run */
	struct dr_decode_stats stats;
	struct dr_decode_notes notes;	/* ports and link types not decoded */
	struct dr_flow_stats flow_stats;	/* flow exports decoded */
	struct dr_flow_exporter flow_exporters[DR_FLOW_EXPORTERS_KEPT];
	unsigned nflow_exporters;	/* the busiest, most records first */
	uint64_t filtered;		/* packets the BPF rejected */
	uint64_t filtered_fragments;	/* of those, non-first IP fragments */
	uint64_t filtered_vlan;		/* and VLAN-tagged frames */
	uint64_t matched;		/* messages that passed --where */
	size_t decode_mem;		/* decoder memory budget */
	size_t ring_mem;		/* the threads' ring, when there were two */
	int cut_short;			/* a file ended early; error says why */
	unsigned cut_file;		/* which (index in files), */
	uint64_t cut_packet;		/* at which packet (1-based; 0: it could
					 * not be reopened), */
	uint64_t cut_offset;		/* at which byte of the file, */
	char cut_why[256];		/* and why */
	int interrupted;		/* the signal that stopped the reading, or 0 */
	/* the flow export sockets' counts (datagrams, kernel drops), and
	 * why they may lose datagrams, or "" */
	struct dr_input_socket sockets[DR_LISTEN_MAX];
	unsigned nsockets;
	char listen_note[256];
	/* the capture interfaces' counts (received, kernel and interface
	 * drops), in the order named */
	struct dr_input_iface capture[DR_IFACES_MAX];
	unsigned ncapture;
	char error[1024];
	/* the counters as of the latest tick, written on the consumers'
	 * thread (read them with dr_pipeline_counters) */
	struct dr_pipeline_counters live;
};

/* idle_fn's now before any record has given the input a clock. */
#define DR_PIPELINE_NO_CLOCK INT64_MIN

/* The UDP ports flow exports are looked for at by default. */
#define DR_FLOW_PORTS_DEFAULT {2055, 4739, 6343, 9995, 9996}

/* Defaults: port 53, the flow ports, no filter, progress on, tables at
 * default sizes. */
void dr_pipeline_init(struct dr_pipeline *p);

/* Runs the pipeline, calling fn for each DNS message that passes --where.
 * Returns 0 when all input was read or a signal stopped the reading
 * (p->interrupted says which; everything before it was delivered), 1 when
 * a file was cut short or damaged (p->error says where; everything before
 * it was delivered), or -1 when input could not be opened (p->error says
 * which and why). */
int dr_pipeline_run(struct dr_pipeline *p, dr_message_fn fn, void *ctx);

/* The live input's counters as of the latest tick: call it from idle_fn
 * (the consumers' thread) for a snapshot to publish, or after the run for
 * the final counts. The pointer stays valid for the pipeline's life. */
const struct dr_pipeline_counters *dr_pipeline_counters(const struct dr_pipeline *p);

#endif
