/* What a report is made of: the run's counts, tables, alerts and
 * whatever must be said about them, for the renderers (render.c) and the
 * warnings (warnings.c). */
#ifndef DR_REPORT_REPORT_H
#define DR_REPORT_REPORT_H

#include "decode/flow.h"
#include "decode/packet.h"
#include "detect/engine.h"
#include "input/input.h"
#include "report/alerts.h"
#include "report/stats.h"
#include "report/tables.h"
#include "report/warnings.h"

struct dr_report {
	const char *command;		/* the first line's: "analyze" (NULL), "collect" */
	const struct dr_stats *stats;
	const struct dr_tables *tables;
	const struct dr_decode_stats *decode;
	uint64_t filtered;		/* packets left out by --bpf */
	char *const *files;
	unsigned nfiles;
	char *const *where;		/* the --where conditions as given */
	unsigned nwhere;
	const struct dr_engine *engine;	/* detectors' memory */
	const struct dr_alert_log *alerts;	/* the run's alerts, sorted */
	int show_stats;			/* --stats */
	size_t decode_mem;		/* the decoder's budget */
	size_t ring_mem;		/* records in flight to the detector thread */
	const char *interrupted;	/* "SIGINT" when a signal stopped the reading */
	/* for the warnings; all optional (0 or NULL: nothing to say) */
	const struct dr_decode_notes *notes;	/* ports and links not decoded */
	const uint8_t *dns_ports;	/* bitmap of the ports read as DNS */
	const char *bpf;		/* the --bpf expression */
	uint64_t filtered_fragments;	/* non-first fragments it left out */
	uint64_t filtered_vlan;		/* VLAN-tagged frames it left out */
	int cut_short;			/* a file ended early: */
	const char *cut_file;		/* which, */
	uint64_t cut_packet;		/* at which packet (0: not reopened), */
	uint64_t cut_offset;		/* at which byte, */
	const char *cut_why;		/* and why */
	/* flow exports decoded (NULL or no datagrams: none), and the
	 * busiest exporters */
	const struct dr_flow_stats *flows;
	const struct dr_flow_exporter *exporters;
	unsigned nexporters;
	/* collect's sockets: what each received and the kernel dropped, and
	 * NULL or "" or why they may lose datagrams (a smaller receive buffer
	 * than asked for) */
	const struct dr_input_socket *sockets;
	unsigned nsockets;
	const char *listen_note;
	/* collect's capture interfaces: what each received and what the
	 * kernel and the interface dropped (a "Capture" section) */
	const struct dr_input_iface *ifaces;
	unsigned nifaces;
};

#define DR_TOP_OTHER_PORTS 5	/* ports named when a capture holds no DNS */

/* The run decoded flow exports. */
static inline int dr_report_has_flows(const struct dr_report *r)
{
	return r->flows && r->flows->datagrams;
}

/* The report has a "Flow exports" section: it decoded exports, or it
 * listened for them (a socket that received nothing is worth saying). */
static inline int dr_report_has_flow_section(const struct dr_report *r)
{
	return dr_report_has_flows(r) || r->nsockets;
}

/* The warnings a report carries, from its counters and flags, in the
 * order they are printed (the most damaging first). */
void dr_report_warnings(struct dr_warnings *out, const struct dr_report *r);

/* The sentence of one warning: what happened, how much, what to do. */
void dr_warning_text(const struct dr_warning *w, const struct dr_report *r, char *buf,
		     size_t len);

#endif
