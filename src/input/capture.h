/* Capture input: one or more pcap/pcapng files (plain, gzip or zstd, or
 * standard input) merged into one stream in timestamp order, with an
 * optional BPF filter compiled by libpcap. */
#ifndef DR_INPUT_CAPTURE_H
#define DR_INPUT_CAPTURE_H

#include <pcap/pcap.h>
#include <stdint.h>

#include "decode/packet.h"
#include "input/pcapfile.h"
#include "input/zio.h"

#define DR_BPF_LINKS 8	/* distinct link types with a compiled filter */

struct dr_capture_file {
	const char *path;
	struct dr_zfile z;
	void *map;		/* the mapped file, or NULL */
	size_t map_len;
	struct dr_pcapfile pf;
	int pending;		/* rec holds the next packet */
	int done;
	int parked;		/* checked, then closed until the merge needs it */
	int64_t first_sec;	/* a parked file's first packet time */
	uint32_t first_nsec;
	struct dr_pcap_record rec;
};

struct dr_bpf_link {
	uint32_t linktype;
	struct bpf_program prog;
};

struct dr_capture {
	struct dr_capture_file *files;
	unsigned nfiles;
	const char *bpf;	/* the filter expression, or NULL */
	struct dr_bpf_link links[DR_BPF_LINKS];
	unsigned nlinks;
	uint64_t total_size;	/* raw bytes of all regular files */
	uint64_t filtered;	/* packets the BPF filter rejected */
	int failed;		/* a file was cut short or damaged */
	char error[1024];	/* the first such problem, "FILE: reason" */
};

/* Checks every file up front so a missing, empty or non-capture file is
 * reported before any output, and that bpf (may be NULL) compiles. With
 * several files, each is then closed again ("parked", its first packet's
 * time kept) and reopened when the merge reaches it, so a rotated set of
 * thousands of files holds only the ones that overlap in time.
 * Returns 0, or -1 with one line "FILE: reason" (or "--bpf ...: reason")
 * in errbuf. */
int dr_capture_open(struct dr_capture *c, char *const *paths, unsigned n,
		    const char *bpf, char *errbuf, size_t errlen);

/* Hands over the next packet in timestamp order (data valid until the next
 * call). Returns 1, or 0 at the end of all input. A file cut short or
 * damaged ends that file; c->failed and c->error then say where and why. */
int dr_capture_next(struct dr_capture *c, struct dr_packet *pkt);

/* Raw bytes consumed so far over all files, against c->total_size. */
uint64_t dr_capture_progress(const struct dr_capture *c);

void dr_capture_close(struct dr_capture *c);

#endif
