/* Inputs are plug-ins: each kind (capture files or a rotated set, standard
 * input, a capture in memory, flow export sockets) is one constant struct
 * of operations, listed
 * in one table (input.c), as libpcap lists its capture sources. Each hands
 * over packets in batches and names a descriptor to wait on. */
#ifndef DR_INPUT_INPUT_H
#define DR_INPUT_INPUT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "decode/packet.h"

#define DR_INPUT_BATCH 64	/* packets a reader asks for at once */
#define DR_INPUT_END (-1)	/* read_batch: no more input, ever */
#define DR_LISTEN_MAX 16	/* flow export sockets one input listens on */
#define DR_IFACES_MAX 16	/* interfaces one live input captures on */

/* What the caller wants read; the table's first kind that matches reads
 * it. All of it is borrowed for the life of the input. */
struct dr_input_spec {
	char *const *paths;	/* capture files; "-" is standard input */
	unsigned npaths;
	const uint8_t *mem;	/* or a pcap/pcapng image in memory */
	size_t mem_len;
	const char *bpf;	/* a BPF filter expression, or NULL */
	/* or UDP sockets to receive flow exports on (NetFlow, IPFIX, sFlow):
	 * "ADDR:PORT", "[ADDR6]:PORT"; port 0 picks a free port */
	char *const *listen;
	unsigned nlisten;
	int rcvbuf;		/* receive buffer asked for, octets; 0: 32 MiB */
	/* or live capture on network interfaces (live.c), with the sockets
	 * above, if any, read by the same input */
	char *const *ifaces;
	unsigned nifaces;
	int snaplen;		/* octets kept of a packet; 0: 65535 */
	int capture_buffer;	/* the kernel's ring per interface, octets;
				 * 0: 64 MiB */
};

/* One interface of a live input, as the report and the metrics show it:
 * what was read from it, and the kernel's own counts (pcap_stats) since
 * the capture opened, refreshed about once a second. */
struct dr_input_iface {
	char name[32];
	uint64_t received;	/* packets handed to us (read from the ring) */
	uint64_t kernel_drops;	/* dropped because the ring was full */
	uint64_t if_drops;	/* dropped by the interface or its driver */
	int linktype;		/* DLT_ */
	int buffer;		/* the ring's size, octets */
};

/* One socket of a flow export input, as the report shows it. */
struct dr_input_socket {
	char name[64];		/* the bound address, "127.0.0.1:2055", "[::]:6343" */
	uint64_t datagrams;	/* received */
	uint64_t octets;	/* their UDP payloads, as sent */
	/* datagrams the kernel dropped because the receive buffer was full,
	 * since the socket opened (the kernel's own count) */
	uint64_t drops;
	uint64_t truncated;	/* longer than a receive slot: cut */
	int rcvbuf;		/* the receive buffer the kernel gave, octets */
};

struct dr_input;

struct dr_input_ops {
	const char *name;
	/* 1 when this kind reads what spec names, else 0. */
	int (*match)(const struct dr_input_spec *spec);
	/* Checks and opens everything spec names, so a bad input is reported
	 * before any output; sets in->priv. Returns 0, or -1 with one line
	 * "WHAT: reason" in errbuf, holding nothing. */
	int (*open)(struct dr_input *in, const struct dr_input_spec *spec,
		    char *errbuf, size_t errlen);
	/* Hands over up to max packets in order. Their data stay valid until
	 * the next call. Returns how many (1 or more), 0 when none is ready
	 * yet (wait on fd), or DR_INPUT_END. A damaged or cut-short input
	 * ends early, with in->failed and in->error set. */
	int (*read_batch)(struct dr_input *in, struct dr_packet *pkts, unsigned max);
	/* A descriptor that poll(2) reports readable when read_batch has
	 * something to give, or -1 when read_batch never waits. */
	int (*fd)(const struct dr_input *in);
	/* Bytes consumed so far, and in all (0 when unknown), for progress. */
	void (*progress)(const struct dr_input *in, uint64_t *done, uint64_t *total);
	/* Optional: brings ifaces[] and sockets[] up to the kernel's counts
	 * now (a kind refreshes them by itself about once a second). */
	void (*refresh)(struct dr_input *in);
	void (*close)(struct dr_input *in);
};

struct dr_input {
	const struct dr_input_ops *ops;
	void *priv;		/* the kind's own state */
	/* kept up to date by the kind */
	uint64_t filtered;	/* packets the BPF filter rejected */
	/* of those, the ones a filter that names no 'vlan' or fragment
	 * offset usually leaves out by mistake (capture.c, passes_filter) */
	uint64_t filtered_fragments;	/* non-first IPv4/IPv6 fragments */
	uint64_t filtered_vlan;		/* 802.1Q/802.1ad-tagged frames */
	int failed;		/* an input was cut short or damaged */
	char error[1024];	/* the first such problem, "FILE: reason" */
	/* where the first such problem was, for the report */
	unsigned failed_file;		/* index in the spec's paths */
	uint64_t failed_packet;		/* 1-based packet number in that file */
	uint64_t failed_offset;		/* file offset of that packet record */
	char failed_why[256];		/* the reason alone */
	/* flow export sockets (udp.c), in the order named */
	struct dr_input_socket sockets[DR_LISTEN_MAX];
	unsigned nsockets;
	/* live capture interfaces (live.c), in the order named */
	struct dr_input_iface ifaces[DR_IFACES_MAX];
	unsigned nifaces;
	/* empty, or why the sockets may lose datagrams, for the report
	 * ("... raise net.core.rmem_max") */
	char note[256];
};

/* The kinds, in the order they are asked; NULL-terminated. */
extern const struct dr_input_ops *const dr_input_kinds[];
extern const struct dr_input_ops dr_input_memory, dr_input_stdin, dr_input_udp, dr_input_files,
	dr_input_live;

/* Set by a signal handler to its signal's number (and never cleared): the
 * reader stops at the next batch, and a read blocked on a pipe or terminal
 * returns as the end of input. */
extern volatile sig_atomic_t dr_input_interrupt;

/* Opens spec with the first kind in the table that matches it. Returns 0,
 * or -1 with one line in errbuf. */
int dr_input_open(struct dr_input *in, const struct dr_input_spec *spec,
		  char *errbuf, size_t errlen);

static inline int dr_input_read(struct dr_input *in, struct dr_packet *pkts, unsigned max)
{
	return in->ops->read_batch(in, pkts, max);
}

static inline void dr_input_refresh(struct dr_input *in)
{
	if (in->ops->refresh)
		in->ops->refresh(in);
}

void dr_input_close(struct dr_input *in);

#endif
