/* What a report must say before its numbers can be trusted: the capture
 * was cut short or interrupted, frames were not decoded or were dropped,
 * tables overflowed, a filter hid fragments or VLAN frames, no DNS was on
 * the ports read. Built as data from the run's counters; render.c writes
 * the sentences (a "Warnings" block, the JSON "warnings" array). */
#ifndef DR_REPORT_WARNINGS_H
#define DR_REPORT_WARNINGS_H

#include <stdint.h>

#define DR_WARNINGS_MAX 48

/* X(code, JSON name) */
#define DR_WARNING_CODES(X) \
	X(DR_WARN_INTERRUPTED,      "interrupted") \
	X(DR_WARN_CUT_SHORT,        "cut_short") \
	X(DR_WARN_LINK_UNSUPPORTED, "link_unsupported") \
	X(DR_WARN_SNAPLEN,          "snaplen") \
	X(DR_WARN_FRAG_MEMORY,      "frag_memory") \
	X(DR_WARN_FRAG_EVICTED,     "frag_evicted") \
	X(DR_WARN_TCP_MEMORY,       "tcp_memory") \
	X(DR_WARN_TCP_EVICTED,      "tcp_evicted") \
	X(DR_WARN_TABLE_OVERFLOW,   "table_overflow") \
	X(DR_WARN_BPF_FRAGMENTS,    "bpf_fragments") \
	X(DR_WARN_BPF_VLAN,         "bpf_vlan") \
	X(DR_WARN_NO_DNS,           "no_dns") \
	X(DR_WARN_ALERTS_LOST,      "alerts_lost") \
	X(DR_WARN_LATE,             "late_records") \
	X(DR_WARN_EARLY,            "early_records") \
	X(DR_WARN_UNJUDGED,         "windows_unjudged") \
	X(DR_WARN_SOCKET_DROPS,     "socket_drops") \
	X(DR_WARN_CAPTURE_DROPS,    "capture_drops") \
	X(DR_WARN_RECEIVE_BUFFER,   "receive_buffer") \
	X(DR_WARN_FLOW_LATE,        "flow_late") \
	X(DR_WARN_FLOW,             "flow_loss")

enum dr_warning_code {
#define DR_WARN_ENUM(code, name) code,
	DR_WARNING_CODES(DR_WARN_ENUM)
#undef DR_WARN_ENUM
	DR_WARN_COUNT
};

/* One warning. count is how many of what it is about (packets, frames,
 * fragments, keys...); value and subject add what the sentence needs:
 *   cut_short        value: packet number (0: could not be reopened),
 *                    value2: byte offset, subject: file, detail: reason
 *   link_unsupported value: the link type
 *   table_overflow   value: keys kept, value2: distinct (estimated),
 *                    subject: the table's JSON name
 *   bpf_*            subject: the filter expression
 *   no_dns           count: packets on other UDP/TCP ports
 *   alerts_lost      value: firing seconds lost
 *   socket_drops     count: datagrams the kernel dropped, value: the
 *                    socket's receive buffer (octets), subject: its address
 *   capture_drops    count: packets the kernel dropped (ring full),
 *                    value: the ring's size (octets), value2: packets
 *                    the interface dropped, subject: the interface
 *   receive_buffer   detail: the input's note (which socket, what it got)
 *   interrupted      subject: the signal's name */
struct dr_warning {
	enum dr_warning_code code;
	uint64_t count;
	uint64_t value, value2;
	const char *subject;	/* borrowed from the report */
	const char *detail;	/* borrowed from the report */
};

struct dr_warnings {
	unsigned n;
	struct dr_warning w[DR_WARNINGS_MAX];
};

/* The JSON name of a code ("cut_short"). */
const char *dr_warning_name(enum dr_warning_code code);

/* Appends a warning (dropped silently past DR_WARNINGS_MAX: there are
 * fewer kinds than that, one per table or link type at most) and returns
 * it for its fields to be filled, or NULL when full. */
struct dr_warning *dr_warnings_add(struct dr_warnings *ws, enum dr_warning_code code,
				   uint64_t count);

#endif
