/* Capture files through libpcap, merged in timestamp order. */
#include "input/capture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *display(const char *path)
{
	return strcmp(path, "-") == 0 ? "(standard input)" : path;
}

/* Turns libpcap's open errors into words an operator can act on. */
static void open_error(const struct dr_capture_file *f, const char *why,
		       char *errbuf, size_t errlen)
{
	const char *what = why;
	if (f->z.empty)
		what = "the file is empty; it holds no capture";
	else if (strstr(why, "unknown file format"))
		what = "not a pcap or pcapng capture (unknown file format)";
	else if (strstr(why, "truncated dump file") || strstr(why, "truncated pcapng"))
		what = "the capture's file header is cut short";
	snprintf(errbuf, errlen, "%s: %s", display(f->path), what);
}

int dr_capture_open(struct dr_capture *c, char *const *paths, unsigned n,
		    const char *bpf, char *errbuf, size_t errlen)
{
	char pcap_err[PCAP_ERRBUF_SIZE];
	char why[256];

	memset(c, 0, sizeof(*c));
	c->files = calloc(n ? n : 1, sizeof(*c->files));
	if (!c->files) {
		snprintf(errbuf, errlen, "out of memory");
		return -1;
	}
	c->nfiles = n;
	for (unsigned i = 0; i < n; i++) {
		struct dr_capture_file *f = &c->files[i];
		f->path = paths[i];
		if (dr_zopen(&f->z, f->path, why, sizeof(why)) < 0) {
			snprintf(errbuf, errlen, "%s: %s", display(f->path), why);
			goto fail;
		}
		c->total_size += f->z.size;
		pcap_err[0] = 0;
		f->pcap = pcap_fopen_offline_with_tstamp_precision(
			f->z.fp, PCAP_TSTAMP_PRECISION_NANO, pcap_err);
		if (!f->pcap) {
			const char *zerr = dr_zerror(&f->z);
			open_error(f, zerr ? zerr : pcap_err, errbuf, errlen);
			fclose(f->z.fp);
			f->z.fp = NULL;
			goto fail;
		}
		f->link = pcap_datalink(f->pcap);
		if (bpf && *bpf) {
			if (pcap_compile(f->pcap, &f->bpf, bpf, 1, PCAP_NETMASK_UNKNOWN) < 0) {
				snprintf(errbuf, errlen, "--bpf '%s': %s", bpf, pcap_geterr(f->pcap));
				goto fail;
			}
			f->has_bpf = 1;
		}
	}
	return 0;
fail:
	dr_capture_close(c);
	return -1;
}

/* Reads the next packet of f that passes the filter into f->hdr/f->data. */
static void fill(struct dr_capture *c, struct dr_capture_file *f)
{
	while (!f->done) {
		int rc = pcap_next_ex(f->pcap, &f->hdr, &f->data);
		if (rc == 1) {
			f->frames++;
			if (f->has_bpf && !pcap_offline_filter(&f->bpf, f->hdr, f->data)) {
				c->filtered++;
				continue;
			}
			f->pending = 1;
			return;
		}
		f->done = 1;
		if (rc == PCAP_ERROR_BREAK)
			return;		/* end of file */
		/* Damaged or cut short: keep what came before, say where. */
		const char *zerr = dr_zerror(&f->z);
		const char *why = zerr ? zerr : pcap_geterr(f->pcap);
		if (!c->failed) {
			if (strstr(why, "truncated"))
				snprintf(c->error, sizeof(c->error),
					 "%s: capture cut short in the middle of packet %llu "
					 "(the %llu packets before it were read): %s",
					 display(f->path), (unsigned long long)f->frames + 1,
					 (unsigned long long)f->frames, why);
			else
				snprintf(c->error, sizeof(c->error),
					 "%s: damaged at packet %llu (the %llu packets before "
					 "it were read): %s",
					 display(f->path), (unsigned long long)f->frames + 1,
					 (unsigned long long)f->frames, why);
		}
		c->failed = 1;
	}
}

static int earlier(const struct pcap_pkthdr *a, const struct pcap_pkthdr *b)
{
	if (a->ts.tv_sec != b->ts.tv_sec)
		return a->ts.tv_sec < b->ts.tv_sec;
	return a->ts.tv_usec < b->ts.tv_usec;
}

int dr_capture_next(struct dr_capture *c, struct dr_packet *pkt)
{
	struct dr_capture_file *best = NULL;
	unsigned best_i = 0;

	for (unsigned i = 0; i < c->nfiles; i++) {
		struct dr_capture_file *f = &c->files[i];
		if (!f->pending)
			fill(c, f);
		if (f->pending && (!best || earlier(f->hdr, best->hdr))) {
			best = f;
			best_i = i;
		}
	}
	if (!best)
		return 0;
	best->pending = 0;
	pkt->data = best->data;
	pkt->caplen = best->hdr->caplen;
	pkt->wirelen = best->hdr->len;
	pkt->link = best->link;
	pkt->ts_sec = best->hdr->ts.tv_sec;
	pkt->ts_nsec = (uint32_t)best->hdr->ts.tv_usec;	/* nanoseconds */
	pkt->file = best_i;
	pkt->frame = best->frames;
	return 1;
}

uint64_t dr_capture_progress(const struct dr_capture *c)
{
	uint64_t pos = 0;
	for (unsigned i = 0; i < c->nfiles; i++)
		if (c->files[i].z.fp)
			pos += c->files[i].done ? c->files[i].z.size : dr_zraw_pos(&c->files[i].z);
	return pos;
}

void dr_capture_close(struct dr_capture *c)
{
	for (unsigned i = 0; i < c->nfiles; i++) {
		struct dr_capture_file *f = &c->files[i];
		if (f->has_bpf)
			pcap_freecode(&f->bpf);
		if (f->pcap)
			pcap_close(f->pcap);	/* closes f->z.fp too */
		dr_zclose(&f->z);
	}
	free(c->files);
	memset(c, 0, sizeof(*c));
}
