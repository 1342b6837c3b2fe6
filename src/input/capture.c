/* Capture input: pcap/pcapng files (plain, gzip or zstd), standard input,
 * or a capture image in memory, merged into one stream in timestamp order
 * with a heap, with an optional BPF filter compiled by libpcap. Plain files
 * are mapped into memory; compressed files and standard input are
 * streamed. The three kinds share this code and differ in how they open. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "input/input.h"
#include "input/pcapfile.h"
#include "input/zio.h"

#define BPF_LINKS 8	/* distinct link types with a compiled filter */

struct capture_file {
	const char *path;	/* NULL: the caller's memory image */
	struct dr_zfile z;
	void *map;		/* the mapped file or the image, or NULL */
	size_t map_len;
	int borrowed;		/* map is the caller's */
	uint64_t size;		/* raw bytes of a regular file */
	struct dr_pcapfile pf;
	int pending;		/* rec holds the next packet */
	int parked;		/* checked, then closed until the merge needs it */
	int finished;
	/* the time it competes with in the merge: its next packet's, or a
	 * parked file's first; INT64_MIN to be looked at first */
	int64_t key_sec;
	uint32_t key_nsec;
	uint32_t batch;		/* the last batch that took a packet from it */
	struct dr_pcap_record rec;
};

struct bpf_link {
	uint32_t linktype;
	struct bpf_program prog;
};

struct capture {
	struct capture_file *files;
	unsigned nfiles;
	const char *bpf;	/* the filter expression, or NULL */
	struct bpf_link links[BPF_LINKS];
	unsigned nlinks;
	uint64_t total_size;	/* raw bytes of all regular files */
	int has_stdin;
	/* The merge: a binary min-heap of the files not yet finished, ordered
	 * by (key, index) so that equal times keep the order files were
	 * named in. */
	unsigned *heap;
	unsigned nheap;
	int stopped;		/* a signal ended the mapped files */
	struct capture_file *closing;	/* finished during the last batch */
	uint32_t batch;		/* batches handed over so far */
};

static const char *display(const char *path)
{
	if (!path)
		return "(capture in memory)";
	return strcmp(path, "-") == 0 ? "(standard input)" : path;
}

/* pcap_open_dead() takes a DLT; files carry LINKTYPE values, which differ
 * for raw IP. */
static int linktype_to_dlt(uint32_t linktype)
{
	return linktype == 101 ? DLT_RAW : (int)linktype;
}

/* Compiles the filter for a link type, once. Returns the program, or NULL
 * with errbuf set when it does not compile for that link type. */
static struct bpf_program *filter_for(struct capture *c, uint32_t linktype,
				      char *errbuf, size_t errlen)
{
	for (unsigned i = 0; i < c->nlinks; i++)
		if (c->links[i].linktype == linktype)
			return &c->links[i].prog;
	if (c->nlinks == BPF_LINKS) {
		snprintf(errbuf, errlen, "--bpf: more than %d link types in one input", BPF_LINKS);
		return NULL;
	}
	pcap_t *dead = pcap_open_dead(linktype_to_dlt(linktype), 262144);
	if (!dead) {
		snprintf(errbuf, errlen, "--bpf: out of memory");
		return NULL;
	}
	struct bpf_link *l = &c->links[c->nlinks];
	if (pcap_compile(dead, &l->prog, c->bpf, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		snprintf(errbuf, errlen, "--bpf '%s': %s", c->bpf, pcap_geterr(dead));
		pcap_close(dead);
		return NULL;
	}
	pcap_close(dead);
	l->linktype = linktype;
	c->nlinks++;
	return &l->prog;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* A cheap look at a frame the filter rejected: does it carry VLAN tags,
 * or is it a non-first IP fragment (no UDP header, so 'udp port 53' never
 * matches it)? Only the common link types; the decoder reads them all. */
static void note_rejected(struct dr_input *in, const struct dr_pcap_record *rec)
{
	const uint8_t *p = rec->data;
	size_t n = rec->caplen, off;
	unsigned type = 0;
	switch (rec->linktype) {
	case 1:		/* Ethernet */
		off = 12;
		break;
	case 113:	/* Linux SLL */
		off = 14;
		break;
	case 276:	/* Linux SLL2 */
		off = 0;
		break;
	case 12: case 14: case 101: case 228: case 229:	/* raw IP */
		off = SIZE_MAX;
		break;
	default:
		return;
	}
	if (off != SIZE_MAX) {
		if (off + 2 > n)
			return;
		type = get16(p + off);
		size_t hdr = rec->linktype == 276 ? 20 : off + 2;
		if (type == 0x8100 || type == 0x88a8 || type == 0x9100) {
			in->filtered_vlan++;
			for (int tags = 0; tags < 8 && hdr + 4 <= n &&
			     (type == 0x8100 || type == 0x88a8 || type == 0x9100); tags++) {
				type = get16(p + hdr + 2);
				hdr += 4;
			}
		}
		if (type != 0x0800 && type != 0x86dd)
			return;
		p += hdr;
		n = hdr <= n ? n - hdr : 0;
	}
	if (n >= 20 && p[0] >> 4 == 4 && (get16(p + 6) & 0x1fff))
		in->filtered_fragments++;
	else if (n >= 44 && p[0] >> 4 == 6 && p[6] == 44 && (get16(p + 42) & 0xfff8))
		in->filtered_fragments++;
}

static int passes_filter(struct dr_input *in, struct capture *c,
			 const struct dr_pcap_record *rec)
{
	char err[512];
	struct bpf_program *prog = filter_for(c, rec->linktype, err, sizeof(err));
	struct pcap_pkthdr h = {.caplen = rec->caplen, .len = rec->len};
	if (prog && pcap_offline_filter(prog, &h, rec->data))
		return 1;
	note_rejected(in, rec);
	return 0;
}

static int open_file(struct capture_file *f, char *errbuf, size_t errlen)
{
	char why[256];
	if (f->borrowed) {
		if (dr_pcapfile_open(&f->pf, f->map, f->map_len, NULL) < 0) {
			snprintf(errbuf, errlen, "%s: %s", display(f->path), f->pf.error);
			return -1;
		}
		return 0;
	}
	if (dr_zopen(&f->z, f->path, why, sizeof(why)) < 0) {
		snprintf(errbuf, errlen, "%s: %s", display(f->path), why);
		return -1;
	}
	f->size = f->z.size;
	if (f->z.kind == DR_Z_NONE && !f->z.is_stdin && f->z.size > 0) {
		/* Pre-fault files that are not huge: one pass over the page
		 * tables beats a page fault every few packets. */
		int populate = f->z.size <= ((uint64_t)1 << 30) ? MAP_POPULATE : 0;
		f->map = mmap(NULL, f->z.size, PROT_READ, MAP_PRIVATE | populate,
			      fileno(f->z.fp), 0);
		if (f->map == MAP_FAILED) {
			f->map = NULL;
		} else {
			f->map_len = f->z.size;
			madvise(f->map, f->map_len, MADV_SEQUENTIAL);
		}
	}
	int rc = f->map ? dr_pcapfile_open(&f->pf, f->map, f->map_len, NULL)
			: dr_pcapfile_open(&f->pf, NULL, 0, f->z.fp);
	if (rc < 0) {
		const char *zerr = dr_zerror(&f->z);
		snprintf(errbuf, errlen, "%s: %s", display(f->path), zerr ? zerr : f->pf.error);
		return -1;
	}
	return 0;
}

static void close_file(struct capture_file *f)
{
	dr_pcapfile_close(&f->pf);
	if (f->borrowed)
		return;
	if (f->map)
		munmap(f->map, f->map_len);
	f->map = NULL;
	if (f->z.fp)
		fclose(f->z.fp);	/* frees a decompressor too */
	dr_zclose(&f->z);
}

/* Reads a file's first packet time and closes it until needed. A file
 * whose first read gives nothing (empty, damaged) is parked as earliest,
 * so the merge reopens it at once and reports it in order. */
static void park(struct capture_file *f)
{
	struct dr_pcap_record rec;
	if (dr_pcapfile_next(&f->pf, &rec) == 1) {
		f->key_sec = rec.ts_sec;
		f->key_nsec = rec.ts_nsec;
	}
	close_file(f);
	f->parked = 1;
}

/* ---- the heap ---------------------------------------------------------- */

static int earlier(const struct capture *c, unsigned a, unsigned b)
{
	const struct capture_file *fa = &c->files[a], *fb = &c->files[b];
	if (fa->key_sec != fb->key_sec)
		return fa->key_sec < fb->key_sec;
	if (fa->key_nsec != fb->key_nsec)
		return fa->key_nsec < fb->key_nsec;
	return a < b;
}

/* Moves entry i down to its place after its key grew. For the top of a
 * rotated set, where the file being read stays earliest, this is two
 * comparisons. */
static void sift_down_from(struct capture *c, unsigned i)
{
	unsigned n = c->nheap, top = c->heap[i];
	for (;;) {
		unsigned l = 2 * i + 1, best = l;
		if (l >= n)
			break;
		if (l + 1 < n && earlier(c, c->heap[l + 1], c->heap[l]))
			best = l + 1;
		if (!earlier(c, c->heap[best], top))
			break;
		c->heap[i] = c->heap[best];
		i = best;
	}
	c->heap[i] = top;
}

static inline void sift_down(struct capture *c)
{
	if (c->nheap > 1)
		sift_down_from(c, 0);
}

/* Orders the whole heap once the files' first times are known. */
static void heapify(struct capture *c)
{
	for (unsigned i = c->nheap / 2; i-- > 0;)
		sift_down_from(c, i);
}

static void pop(struct capture *c)
{
	c->heap[0] = c->heap[--c->nheap];
	if (c->nheap)
		sift_down(c);
}

/* ---- reading ----------------------------------------------------------- */

/* Reads the next packet of f that passes the filter into f->rec. Returns
 * 1, 0 when f is finished (at its end, or damaged: in->error then says
 * where), or DR_PCAP_AGAIN when f's stream would have to move a window
 * that holds a packet of this batch. */
static int fill(struct dr_input *in, struct capture *c, struct capture_file *f)
{
	if (f->parked) {
		char why[1024];
		f->parked = 0;
		if (open_file(f, why, sizeof(why)) < 0) {
			/* it was readable when checked: say what changed */
			if (!in->failed)
				snprintf(in->error, sizeof(in->error), "%s", why);
			in->failed = 1;
			return 0;
		}
	}
	f->pf.hold = f->batch == c->batch;
	for (;;) {
		int rc = dr_pcapfile_next(&f->pf, &f->rec);
		if (rc == 1) {
			if (c->bpf && !passes_filter(in, c, &f->rec)) {
				in->filtered++;
				continue;
			}
			f->pending = 1;
			f->key_sec = f->rec.ts_sec;
			f->key_nsec = f->rec.ts_nsec;
			return 1;
		}
		if (rc == DR_PCAP_AGAIN)
			return rc;
		if (rc == 0 && !dr_zerror(&f->z))
			return 0;	/* end of file */
		if (dr_input_interrupt)
			return 0;	/* a read ended by a signal: not damage */
		/* Damaged or cut short: keep what came before, say where. */
		if (!in->failed) {
			const char *zerr = dr_zerror(&f->z);
			snprintf(in->error, sizeof(in->error),
				 "%s: %s; the %llu packets before it were read",
				 display(f->path), zerr ? zerr : f->pf.error,
				 (unsigned long long)f->pf.packets);
			snprintf(in->failed_why, sizeof(in->failed_why), "%s",
				 zerr ? zerr : f->pf.error);
			in->failed_file = (unsigned)(f - c->files);
			in->failed_packet = f->pf.packets + 1;
			in->failed_offset = f->pf.record_off;
		}
		in->failed = 1;
		return 0;
	}
}

/* The top file is finished: out of the merge, and closed (it gives its
 * memory back) once no packet of the batch points into it. Returns 1 when
 * the batch must end for that. */
static int finish_top(struct capture *c, struct capture_file *f, unsigned handed)
{
	f->finished = 1;
	pop(c);
	if (c->nfiles == 1)
		return 0;	/* closed with the input */
	if (handed && f->batch == c->batch) {
		c->closing = f;
		return 1;
	}
	close_file(f);
	return 0;
}

/* After SIGINT or SIGTERM: files that are mapped or not yet open end now,
 * once; a stream ends when it has handed over what it had read (zio.c
 * reads no more). */
static void stop_reading(struct capture *c)
{
	unsigned kept = 0;
	for (unsigned i = 0; i < c->nheap; i++) {
		struct capture_file *f = &c->files[c->heap[i]];
		if (!f->parked && !f->map && f->pf.fp)
			c->heap[kept++] = c->heap[i];
		else
			f->finished = 1;
	}
	c->nheap = kept;
	heapify(c);
	c->stopped = 1;
}

static int capture_read(struct dr_input *in, struct dr_packet *pkts, unsigned max)
{
	struct capture *c = in->priv;
	unsigned n = 0;

	c->batch++;
	if (c->closing) {
		close_file(c->closing);
		c->closing = NULL;
	}
	if (dr_input_interrupt && !c->stopped)
		stop_reading(c);
	while (n < max && c->nheap) {
		unsigned idx = c->heap[0];
		struct capture_file *f = &c->files[idx];
		if (f->pending) {
			struct dr_packet *pkt = &pkts[n++];
			pkt->data = f->rec.data;
			pkt->caplen = f->rec.caplen;
			pkt->wirelen = f->rec.len;
			pkt->link = (int)f->rec.linktype;
			pkt->ts_sec = f->rec.ts_sec;
			pkt->ts_nsec = f->rec.ts_nsec;
			pkt->file = idx;
			pkt->frame = f->pf.packets;
			f->pending = 0;
			f->batch = c->batch;
		}
		/* Read the next packet of the top file (the one just handed
		 * over, a parked one to open, or one whose stream had to wait
		 * for the next batch), then let it find its place again. */
		int rc = fill(in, c, f);
		if (rc == DR_PCAP_AGAIN)
			break;	/* only once a packet of this batch is in f */
		if (rc == 1)
			sift_down(c);
		else if (finish_top(c, f, n))
			break;
	}
	return n ? (int)n : DR_INPUT_END;
}

/* ---- opening and closing ----------------------------------------------- */

static void capture_close(struct dr_input *in)
{
	struct capture *c = in->priv;
	if (!c)
		return;
	for (unsigned i = 0; i < c->nlinks; i++)
		pcap_freecode(&c->links[i].prog);
	for (unsigned i = 0; i < c->nfiles; i++)
		close_file(&c->files[i]);
	free(c->files);
	free(c->heap);
	free(c);
	in->priv = NULL;
}

/* Sets up a merge of n files; the caller names them (path, or map). */
static struct capture *capture_new(struct dr_input *in, unsigned n, const char *bpf,
				   char *errbuf, size_t errlen)
{
	struct capture *c = calloc(1, sizeof(*c));
	if (c) {
		c->files = calloc(n ? n : 1, sizeof(*c->files));
		c->heap = calloc(n ? n : 1, sizeof(*c->heap));
	}
	if (!c || !c->files || !c->heap) {
		if (c) {
			free(c->files);
			free(c->heap);
		}
		free(c);
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	c->nfiles = n;
	c->bpf = bpf && *bpf ? bpf : NULL;
	for (unsigned i = 0; i < n; i++) {
		c->files[i].key_sec = INT64_MIN;
		c->heap[i] = i;
	}
	c->nheap = n;
	in->priv = c;
	return c;
}

/* Opens file i, checks that the filter compiles for the first file's link
 * type (a filter that does not is a usage error: say so now). */
static int check_file(struct capture *c, unsigned i, char *errbuf, size_t errlen)
{
	struct capture_file *f = &c->files[i];
	if (open_file(f, errbuf, errlen) < 0)
		return -1;
	c->total_size += f->size;
	if (i == 0 && c->bpf && !filter_for(c, f->pf.ng ? 1 : f->pf.linktype, errbuf, errlen))
		return -1;
	return 0;
}

/* Checks every file up front so a missing, empty or non-capture file is
 * reported before any output. With several files, each is then closed
 * again ("parked", its first packet's time kept) and reopened when the
 * merge reaches it, so a rotated set of thousands of files holds open
 * only the ones that overlap in time. */
static int files_open(struct dr_input *in, const struct dr_input_spec *spec,
		      char *errbuf, size_t errlen)
{
	struct capture *c = capture_new(in, spec->npaths, spec->bpf, errbuf, errlen);
	if (!c)
		return -1;
	for (unsigned i = 0; i < c->nfiles; i++) {
		struct capture_file *f = &c->files[i];
		f->path = spec->paths[i];
		if (check_file(c, i, errbuf, errlen) < 0)
			goto fail;
		if (f->z.is_stdin)
			c->has_stdin = 1;	/* it cannot be reread: stays open */
		else if (c->nfiles > 1)
			park(f);
	}
	heapify(c);
	return 0;
fail:
	capture_close(in);
	return -1;
}

static int memory_open(struct dr_input *in, const struct dr_input_spec *spec,
		       char *errbuf, size_t errlen)
{
	static const uint8_t nothing[1];
	struct capture *c = capture_new(in, 1, spec->bpf, errbuf, errlen);
	if (!c)
		return -1;
	c->files[0].borrowed = 1;
	c->files[0].map = (void *)(spec->mem_len ? spec->mem : nothing);
	c->files[0].map_len = spec->mem_len;
	if (check_file(c, 0, errbuf, errlen) < 0) {
		capture_close(in);
		return -1;
	}
	return 0;
}

static int files_match(const struct dr_input_spec *spec)
{
	return spec->npaths > 0;
}

static int stdin_match(const struct dr_input_spec *spec)
{
	return spec->npaths == 1 && strcmp(spec->paths[0], "-") == 0;
}

static int memory_match(const struct dr_input_spec *spec)
{
	return spec->mem != NULL;
}

static int capture_fd(const struct dr_input *in)
{
	const struct capture *c = in->priv;
	return c->has_stdin ? STDIN_FILENO : -1;
}

static void capture_progress(const struct dr_input *in, uint64_t *done, uint64_t *total)
{
	const struct capture *c = in->priv;
	uint64_t pos = 0;
	for (unsigned i = 0; i < c->nfiles; i++) {
		const struct capture_file *f = &c->files[i];
		if (f->finished)
			pos += f->size;
		else if (f->parked)
			continue;
		else if (f->map)
			pos += dr_pcapfile_offset(&f->pf);
		else
			pos += dr_zraw_pos(&f->z);
	}
	*done = pos;
	*total = c->total_size;
}

const struct dr_input_ops dr_input_files = {
	.name = "files", .match = files_match, .open = files_open,
	.read_batch = capture_read, .fd = capture_fd, .progress = capture_progress,
	.close = capture_close,
};

const struct dr_input_ops dr_input_stdin = {
	.name = "stdin", .match = stdin_match, .open = files_open,
	.read_batch = capture_read, .fd = capture_fd, .progress = capture_progress,
	.close = capture_close,
};

const struct dr_input_ops dr_input_memory = {
	.name = "memory", .match = memory_match, .open = memory_open,
	.read_batch = capture_read, .fd = capture_fd, .progress = capture_progress,
	.close = capture_close,
};
