/* Capture files merged in timestamp order. Plain files are mapped into
 * memory; compressed files and standard input are streamed. BPF filters
 * are compiled by libpcap once per link type and run on each packet. */
#include "input/capture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static const char *display(const char *path)
{
	return strcmp(path, "-") == 0 ? "(standard input)" : path;
}

/* pcap_open_dead() takes a DLT; files carry LINKTYPE values, which differ
 * for raw IP. */
static int linktype_to_dlt(uint32_t linktype)
{
	return linktype == 101 ? DLT_RAW : (int)linktype;
}

/* Compiles the filter for a link type, once. Returns the program or NULL
 * (with c->error set) when it does not compile for that link type. */
static struct bpf_program *filter_for(struct dr_capture *c, uint32_t linktype,
				      char *errbuf, size_t errlen)
{
	for (unsigned i = 0; i < c->nlinks; i++)
		if (c->links[i].linktype == linktype)
			return &c->links[i].prog;
	if (c->nlinks == DR_BPF_LINKS) {
		snprintf(errbuf, errlen, "--bpf: more than %d link types in one input", DR_BPF_LINKS);
		return NULL;
	}
	pcap_t *dead = pcap_open_dead(linktype_to_dlt(linktype), 262144);
	if (!dead) {
		snprintf(errbuf, errlen, "--bpf: out of memory");
		return NULL;
	}
	struct dr_bpf_link *l = &c->links[c->nlinks];
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

static int open_file(struct dr_capture *c, struct dr_capture_file *f,
		     char *errbuf, size_t errlen)
{
	char why[256];
	if (dr_zopen(&f->z, f->path, why, sizeof(why)) < 0) {
		snprintf(errbuf, errlen, "%s: %s", display(f->path), why);
		return -1;
	}
	c->total_size += f->z.size;
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

static void close_file(struct dr_capture_file *f)
{
	dr_pcapfile_close(&f->pf);
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
static void park(struct dr_capture_file *f)
{
	struct dr_pcap_record rec;
	if (dr_pcapfile_next(&f->pf, &rec) == 1) {
		f->first_sec = rec.ts_sec;
		f->first_nsec = rec.ts_nsec;
	} else {
		f->first_sec = INT64_MIN;
		f->first_nsec = 0;
	}
	uint64_t size = f->z.size;
	close_file(f);
	f->z.size = size;
	f->parked = 1;
}

int dr_capture_open(struct dr_capture *c, char *const *paths, unsigned n,
		    const char *bpf, char *errbuf, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	c->files = calloc(n ? n : 1, sizeof(*c->files));
	if (!c->files) {
		snprintf(errbuf, errlen, "out of memory");
		return -1;
	}
	c->nfiles = n;
	c->bpf = bpf && *bpf ? bpf : NULL;
	for (unsigned i = 0; i < n; i++) {
		struct dr_capture_file *f = &c->files[i];
		f->path = paths[i];
		if (open_file(c, f, errbuf, errlen) < 0)
			goto fail;
		/* A filter that does not compile is a usage error: say so now. */
		if (i == 0 && c->bpf &&
		    !filter_for(c, f->pf.ng ? 1 : f->pf.linktype, errbuf, errlen))
			goto fail;
		if (n > 1 && !f->z.is_stdin)	/* standard input cannot be reread */
			park(f);
	}
	return 0;
fail:
	dr_capture_close(c);
	return -1;
}

/* Reads the next packet of f that passes the filter into f->rec. */
static void fill(struct dr_capture *c, struct dr_capture_file *f)
{
	if (f->parked) {
		char why[1024];
		uint64_t size = f->z.size;
		f->parked = 0;
		c->total_size -= size;	/* open_file counts it again */
		if (open_file(c, f, why, sizeof(why)) < 0) {
			/* it was readable when checked: say what changed */
			if (!c->failed)
				snprintf(c->error, sizeof(c->error), "%s", why);
			c->failed = 1;
			f->done = 1;
			return;
		}
	}
	while (!f->done) {
		int rc = dr_pcapfile_next(&f->pf, &f->rec);
		if (rc == 1) {
			if (c->bpf) {
				char err[512];
				struct bpf_program *prog = filter_for(c, f->rec.linktype, err, sizeof(err));
				struct pcap_pkthdr h = {.caplen = f->rec.caplen, .len = f->rec.len};
				if (!prog || !pcap_offline_filter(prog, &h, f->rec.data)) {
					c->filtered++;
					continue;
				}
			}
			f->pending = 1;
			return;
		}
		f->done = 1;
		if (rc == 0 && !dr_zerror(&f->z)) {
			if (c->nfiles > 1 && !f->z.is_stdin) {
				uint64_t size = f->z.size;
				close_file(f);	/* a finished file gives its memory back */
				f->z.size = size;
			}
			return;		/* end of file */
		}
		/* Damaged or cut short: keep what came before, say where. */
		if (!c->failed) {
			const char *zerr = dr_zerror(&f->z);
			snprintf(c->error, sizeof(c->error),
				 "%s: %s; the %llu packets before it were read",
				 display(f->path), zerr ? zerr : f->pf.error,
				 (unsigned long long)f->pf.packets);
		}
		c->failed = 1;
	}
}

int dr_capture_next(struct dr_capture *c, struct dr_packet *pkt)
{
	struct dr_capture_file *best = NULL;
	unsigned best_i = 0;

	if (c->nfiles == 1) {	/* the common case: no merge */
		best = &c->files[0];
		if (!best->pending)
			fill(c, best);
		if (!best->pending)
			return 0;
	} else {
		/* A parked file competes with its first packet's time and is
		 * opened only when it wins. */
		int64_t bsec = 0;
		uint32_t bnsec = 0;
		for (unsigned i = 0; i < c->nfiles; i++) {
			struct dr_capture_file *f = &c->files[i];
			if (f->done)
				continue;
			if (!f->parked && !f->pending) {
				fill(c, f);
				if (!f->pending)
					continue;
			}
			int64_t sec = f->parked ? f->first_sec : f->rec.ts_sec;
			uint32_t nsec = f->parked ? f->first_nsec : f->rec.ts_nsec;
			if (!best || sec < bsec || (sec == bsec && nsec < bnsec)) {
				best = f;
				best_i = i;
				bsec = sec;
				bnsec = nsec;
			}
		}
		if (!best)
			return 0;
		if (best->parked) {
			fill(c, best);
			if (!best->pending)
				return dr_capture_next(c, pkt);	/* it had nothing after all */
		}
	}
	best->pending = 0;
	pkt->data = best->rec.data;
	pkt->caplen = best->rec.caplen;
	pkt->wirelen = best->rec.len;
	pkt->link = (int)best->rec.linktype;
	pkt->ts_sec = best->rec.ts_sec;
	pkt->ts_nsec = best->rec.ts_nsec;
	pkt->file = best_i;
	pkt->frame = best->pf.packets;
	return 1;
}

uint64_t dr_capture_progress(const struct dr_capture *c)
{
	uint64_t pos = 0;
	for (unsigned i = 0; i < c->nfiles; i++) {
		const struct dr_capture_file *f = &c->files[i];
		if (f->done)
			pos += f->z.size;
		else if (f->parked)
			continue;
		else if (f->map)
			pos += dr_pcapfile_offset(&f->pf);
		else
			pos += dr_zraw_pos(&f->z);
	}
	return pos;
}

void dr_capture_close(struct dr_capture *c)
{
	for (unsigned i = 0; i < c->nlinks; i++)
		pcap_freecode(&c->links[i].prog);
	for (unsigned i = 0; i < c->nfiles; i++)
		close_file(&c->files[i]);
	free(c->files);
	memset(c, 0, sizeof(*c));
}
