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
		c->files[i].path = paths[i];
		if (open_file(c, &c->files[i], errbuf, errlen) < 0)
			goto fail;
	}
	/* A filter that does not compile is a usage error: say so now. */
	if (c->bpf && !filter_for(c, n && !c->files[0].pf.ng ? c->files[0].pf.linktype : 1,
				  errbuf, errlen))
		goto fail;
	return 0;
fail:
	dr_capture_close(c);
	return -1;
}

/* Reads the next packet of f that passes the filter into f->rec. */
static void fill(struct dr_capture *c, struct dr_capture_file *f)
{
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
		if (rc == 0 && !dr_zerror(&f->z))
			return;		/* end of file */
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

static int earlier(const struct dr_pcap_record *a, const struct dr_pcap_record *b)
{
	if (a->ts_sec != b->ts_sec)
		return a->ts_sec < b->ts_sec;
	return a->ts_nsec < b->ts_nsec;
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
		for (unsigned i = 0; i < c->nfiles; i++) {
			struct dr_capture_file *f = &c->files[i];
			if (!f->pending)
				fill(c, f);
			if (f->pending && (!best || earlier(&f->rec, &best->rec))) {
				best = f;
				best_i = i;
			}
		}
		if (!best)
			return 0;
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
	for (unsigned i = 0; i < c->nfiles; i++) {
		struct dr_capture_file *f = &c->files[i];
		dr_pcapfile_close(&f->pf);
		if (f->map)
			munmap(f->map, f->map_len);
		if (f->z.fp && !(f->z.is_stdin && !f->z.state))
			fclose(f->z.fp);
		dr_zclose(&f->z);
	}
	free(c->files);
	memset(c, 0, sizeof(*c));
}
