/* Live capture input: packets from up to DR_IFACES_MAX network interfaces
 * through libpcap (on Linux a TPACKET_V3 memory-mapped ring per interface),
 * taken round-robin, with the flow export sockets of udp.c read by the
 * same input when they are named too, and the kernel's counts of what it
 * received and dropped per interface. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "input/input.h"
#include "lib/now.h"

#define LIVE_SNAPLEN_DEFAULT 65535
#define LIVE_BUFFER_DEFAULT (64 << 20)
/* How long the kernel holds a block of the ring that is not full before
 * handing it over: the latency of a quiet interface, in milliseconds. */
#define LIVE_TIMEOUT_MS 100
/* The epoll tag of the sockets' descriptor; interfaces are 0..n-1. */
#define LIVE_TAG_SOCKETS 0xffffu

struct live_iface {
	pcap_t *pcap;
	int fd;			/* pcap_get_selectable_fd */
	int nano;		/* timestamps come in nanoseconds */
	int link;		/* pcap_datalink */
	uint64_t frame;		/* packets read from it */
	/* pcap_stats' last 32-bit counts: they wrap, the totals do not */
	unsigned last_drop, last_ifdrop;
};

struct live_input {
	struct live_iface ifs[DR_IFACES_MAX];
	unsigned n;
	unsigned next;		/* the interface served first by the next batch */
	int snaplen;
	int epfd;
	struct dr_input udp;	/* the sockets, when spec->nlisten > 0 */
	int has_udp;
	int udp_first;		/* the sockets go first in the next batch */
	int broken;		/* an interface failed: end the input */
	double stats_at;	/* when pcap_stats was last asked, monotonic */
	/* Packets copied out of the ring: libpcap lends a packet for its
	 * callback only, and gives the block back to the kernel when done
	 * with it. Packed one after another, so only the octets copied are
	 * ever touched; room for DR_INPUT_BATCH packets of the snap length. */
	uint8_t *arena;
	size_t arena_len, arena_used;
	struct dr_packet *out;	/* being filled by the callback */
	unsigned nout;
	unsigned cur;		/* the interface the callback reads */
};

/* Adds the growth of a 32-bit counter that may have wrapped. */
static void take(uint64_t *total, unsigned *last, unsigned now)
{
	*total += (unsigned)(now - *last);
	*last = now;
}

static void refresh_stats(struct dr_input *in, struct live_input *l)
{
	for (unsigned i = 0; i < l->n; i++) {
		struct pcap_stat st;
		struct live_iface *f = &l->ifs[i];
		struct dr_input_iface *c = &in->ifaces[i];
		if (pcap_stats(f->pcap, &st) < 0)
			continue;
		take(&c->kernel_drops, &f->last_drop, st.ps_drop);
		take(&c->if_drops, &f->last_ifdrop, st.ps_ifdrop);
	}
	l->stats_at = dr_mono_now();
}

/* ---- opening ------------------------------------------------------------ */

/* One line for a failed pcap_activate: which interface, and what to do. */
static void activate_error(pcap_t *p, const char *name, int rc, char *errbuf, size_t errlen)
{
	switch (rc) {
	case PCAP_ERROR_NO_SUCH_DEVICE:
		snprintf(errbuf, errlen, "%s: no such interface (ip link lists them)", name);
		break;
	case PCAP_ERROR_PERM_DENIED:
	case PCAP_ERROR_PROMISC_PERM_DENIED:
		snprintf(errbuf, errlen, "%s: capturing needs root or CAP_NET_RAW", name);
		break;
	case PCAP_ERROR_IFACE_NOT_UP:
		snprintf(errbuf, errlen, "%s: the interface is down (ip link set %s up)", name,
			 name);
		break;
	default:
		snprintf(errbuf, errlen, "%s: %s", name, pcap_geterr(p));
		break;
	}
}

/* Opens, configures and activates one interface, and sets the filter.
 * Returns 0, or -1 with one line in errbuf (the handle closed). */
static int open_iface(struct dr_input *in, struct live_input *l, const char *name,
		      const struct dr_input_spec *spec, int buffer, char *errbuf, size_t errlen)
{
	char perr[PCAP_ERRBUF_SIZE];
	struct live_iface *f = &l->ifs[l->n];
	struct dr_input_iface *c = &in->ifaces[l->n];

	if (!*name || strlen(name) >= sizeof(c->name)) {
		snprintf(errbuf, errlen, "-i '%s': not an interface name", name);
		return -1;
	}
	pcap_t *p = pcap_create(name, perr);
	if (!p) {
		snprintf(errbuf, errlen, "%s: %s", name, perr);
		return -1;
	}
	pcap_set_snaplen(p, l->snaplen);
	pcap_set_promisc(p, 1);
	pcap_set_timeout(p, LIVE_TIMEOUT_MS);
	/* Linux libpcap sizes its TPACKET_V3 ring from the buffer size. */
	pcap_set_buffer_size(p, buffer);
	f->nano = pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO) == 0;
	int rc = pcap_activate(p);
	if (rc < 0) {
		activate_error(p, name, rc, errbuf, errlen);
		pcap_close(p);
		return -1;
	}
	if (f->nano && pcap_get_tstamp_precision(p) != PCAP_TSTAMP_PRECISION_NANO)
		f->nano = 0;
	if (pcap_setnonblock(p, 1, perr) < 0) {
		snprintf(errbuf, errlen, "%s: %s", name, perr);
		pcap_close(p);
		return -1;
	}
	if (spec->bpf && *spec->bpf) {
		/* Compiled for this interface's link type, and run by the
		 * kernel: rejected packets never reach the ring. */
		struct bpf_program prog;
		if (pcap_compile(p, &prog, spec->bpf, 1, PCAP_NETMASK_UNKNOWN) < 0) {
			snprintf(errbuf, errlen, "--bpf '%s': %s", spec->bpf, pcap_geterr(p));
			pcap_close(p);
			return -1;
		}
		int bad = pcap_setfilter(p, &prog);
		pcap_freecode(&prog);
		if (bad < 0) {
			snprintf(errbuf, errlen, "--bpf '%s': %s: %s", spec->bpf, name,
				 pcap_geterr(p));
			pcap_close(p);
			return -1;
		}
	}
	f->fd = pcap_get_selectable_fd(p);
	if (f->fd < 0) {
		snprintf(errbuf, errlen, "%s: the capture has no descriptor to wait on", name);
		pcap_close(p);
		return -1;
	}
	f->pcap = p;
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->linktype = f->link = pcap_datalink(p);
	c->buffer = buffer;
	l->n++;
	in->nifaces = l->n;
	return 0;
}

static void live_close(struct dr_input *in)
{
	struct live_input *l = in->priv;
	if (!l)
		return;
	if (l->n)
		refresh_stats(in, l);	/* the counts up to the end */
	for (unsigned i = 0; i < l->n; i++)
		pcap_close(l->ifs[i].pcap);
	if (l->has_udp) {
		/* keep the sockets' counts: dr_input_close clears udp */
		struct dr_input_socket sockets[DR_LISTEN_MAX];
		unsigned nsockets = l->udp.nsockets;
		char note[sizeof(in->note)];
		memcpy(sockets, l->udp.sockets, sizeof(sockets));
		memcpy(note, l->udp.note, sizeof(note));
		dr_input_close(&l->udp);
		memcpy(in->sockets, sockets, sizeof(sockets));
		in->nsockets = nsockets;
		if (!in->note[0])
			memcpy(in->note, note, sizeof(note));
	}
	if (l->epfd >= 0)
		close(l->epfd);
	free(l->arena);
	free(l);
	in->priv = NULL;
}

static int watch(struct live_input *l, int fd, uint32_t tag, char *errbuf, size_t errlen)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = tag};
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		snprintf(errbuf, errlen, "live capture: epoll: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int live_open(struct dr_input *in, const struct dr_input_spec *spec,
		     char *errbuf, size_t errlen)
{
	if (spec->nifaces > DR_IFACES_MAX) {
		snprintf(errbuf, errlen, "-i: %u interfaces given, at most %d", spec->nifaces,
			 DR_IFACES_MAX);
		return -1;
	}
	if (spec->snaplen < 0 || (spec->snaplen > 0 && spec->snaplen < 64) ||
	    spec->snaplen > 262144) {
		snprintf(errbuf, errlen, "--snaplen %d: give octets from 64 to 262144",
			 spec->snaplen);
		return -1;
	}
	if (spec->capture_buffer < 0) {
		snprintf(errbuf, errlen, "--buffer %d: not a size in octets (0 asks for 64 MiB)",
			 spec->capture_buffer);
		return -1;
	}
	for (unsigned i = 0; i < spec->nifaces; i++)
		for (unsigned j = 0; j < i; j++)
			if (strcmp(spec->ifaces[i], spec->ifaces[j]) == 0) {
				snprintf(errbuf, errlen, "-i %s: named twice", spec->ifaces[i]);
				return -1;
			}
	struct live_input *l = calloc(1, sizeof(*l));
	if (!l) {
		snprintf(errbuf, errlen, "live capture: out of memory");
		return -1;
	}
	l->epfd = -1;
	l->snaplen = spec->snaplen ? spec->snaplen : LIVE_SNAPLEN_DEFAULT;
	l->arena_len = (size_t)DR_INPUT_BATCH * (size_t)l->snaplen;
	in->priv = l;
	if (!(l->arena = malloc(l->arena_len))) {
		snprintf(errbuf, errlen, "live capture: out of memory");
		goto fail;
	}
	int buffer = spec->capture_buffer ? spec->capture_buffer : LIVE_BUFFER_DEFAULT;
	for (unsigned i = 0; i < spec->nifaces; i++)
		if (open_iface(in, l, spec->ifaces[i], spec, buffer, errbuf, errlen) < 0)
			goto fail;
	if (spec->nlisten) {
		/* the sockets as udp.c opens them, on their own */
		struct dr_input_spec sockets = {
			.listen = spec->listen, .nlisten = spec->nlisten, .rcvbuf = spec->rcvbuf,
		};
		if (dr_input_open(&l->udp, &sockets, errbuf, errlen) < 0)
			goto fail;
		l->has_udp = 1;
		memcpy(in->sockets, l->udp.sockets, sizeof(in->sockets));
		in->nsockets = l->udp.nsockets;
		memcpy(in->note, l->udp.note, sizeof(in->note));
	}
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		snprintf(errbuf, errlen, "live capture: epoll: %s", strerror(errno));
		goto fail;
	}
	for (unsigned i = 0; i < l->n; i++)
		if (watch(l, l->ifs[i].fd, i, errbuf, errlen) < 0)
			goto fail;
	if (l->has_udp && watch(l, l->udp.ops->fd(&l->udp), LIVE_TAG_SOCKETS, errbuf, errlen) < 0)
		goto fail;
	refresh_stats(in, l);
	return 0;
fail:
	live_close(in);
	in->nifaces = 0;
	in->nsockets = 0;
	in->note[0] = 0;
	memset(in->ifaces, 0, sizeof(in->ifaces));
	memset(in->sockets, 0, sizeof(in->sockets));
	return -1;
}

/* ---- reading ------------------------------------------------------------ */

static void take_packet(u_char *arg, const struct pcap_pkthdr *h, const u_char *data)
{
	struct live_input *l = (struct live_input *)arg;
	struct live_iface *f = &l->ifs[l->cur];
	uint32_t caplen = h->caplen <= (uint32_t)l->snaplen ? h->caplen : (uint32_t)l->snaplen;
	struct dr_packet *pkt = &l->out[l->nout++];
	uint8_t *copy = l->arena + l->arena_used;
	memcpy(copy, data, caplen);
	l->arena_used += caplen;
	pkt->data = copy;
	pkt->caplen = caplen;
	pkt->wirelen = h->len;
	pkt->link = f->link;
	pkt->ts_sec = h->ts.tv_sec;
	pkt->ts_nsec = (uint32_t)(f->nano ? h->ts.tv_usec : h->ts.tv_usec * 1000);
	pkt->file = l->cur;
	pkt->frame = ++f->frame;
}

/* Takes up to want packets from interface i. Returns how many. */
static unsigned from_iface(struct dr_input *in, struct live_input *l, unsigned i,
			   struct dr_packet *pkts, unsigned want)
{
	l->out = pkts;
	l->nout = 0;
	l->cur = i;
	int rc = pcap_dispatch(l->ifs[i].pcap, (int)want, take_packet, (u_char *)l);
	if (rc < 0 && rc != PCAP_ERROR_BREAK && !in->failed) {
		/* the interface went away, or the ring broke: the capture ends
		 * with what it had, and says why */
		snprintf(in->error, sizeof(in->error), "%s: %s", in->ifaces[i].name,
			 pcap_geterr(l->ifs[i].pcap));
		snprintf(in->failed_why, sizeof(in->failed_why), "%s",
			 pcap_geterr(l->ifs[i].pcap));
		in->failed_file = i;
		in->failed_packet = l->ifs[i].frame + 1;
		in->failed = 1;
	}
	if (rc < 0 && rc != PCAP_ERROR_BREAK)
		l->broken = 1;
	in->ifaces[i].received = l->ifs[i].frame;
	return l->nout;
}

static unsigned from_sockets(struct dr_input *in, struct live_input *l, struct dr_packet *pkts,
			     unsigned want)
{
	int got = dr_input_read(&l->udp, pkts, want);
	memcpy(in->sockets, l->udp.sockets, sizeof(in->sockets));
	return got > 0 ? (unsigned)got : 0;
}

/* Serves the interfaces in turn, each up to its share of the batch, then
 * the ones that had more fill what is left; the first one moves on by one
 * every batch, so a busy interface cannot starve a quiet one. The
 * sockets, if any, take their share first every other batch. */
static int live_read(struct dr_input *in, struct dr_packet *pkts, unsigned max)
{
	struct live_input *l = in->priv;
	unsigned n = 0, busy[DR_IFACES_MAX], nbusy = 0;

	if (dr_input_interrupt)
		return DR_INPUT_END;
	if (max > DR_INPUT_BATCH)
		max = DR_INPUT_BATCH;
	l->arena_used = 0;
	unsigned parts = l->n + (unsigned)l->has_udp;
	unsigned share = max / parts ? max / parts : 1;
	if (l->has_udp && l->udp_first)
		n += from_sockets(in, l, pkts, share);
	for (unsigned k = 0; k < l->n && n < max; k++) {
		unsigned i = (l->next + k) % l->n;
		unsigned want = share < max - n ? share : max - n;
		unsigned got = from_iface(in, l, i, pkts + n, want);
		n += got;
		if (got == want)
			busy[nbusy++] = i;
	}
	if (l->has_udp && !l->udp_first && n < max)
		n += from_sockets(in, l, pkts + n, max - n);
	for (unsigned k = 0; k < nbusy && n < max; k++)
		n += from_iface(in, l, busy[k], pkts + n, max - n);
	if (l->n)
		l->next = (l->next + 1) % l->n;
	l->udp_first = !l->udp_first;
	if (l->n && dr_mono_now() - l->stats_at >= 1.0)
		refresh_stats(in, l);
	if (!n && l->broken)
		return DR_INPUT_END;
	return (int)n;
}

static void live_refresh(struct dr_input *in)
{
	struct live_input *l = in->priv;
	if (l->n)
		refresh_stats(in, l);
	if (l->has_udp) {
		dr_input_refresh(&l->udp);
		memcpy(in->sockets, l->udp.sockets, sizeof(in->sockets));
	}
}

static int live_match(const struct dr_input_spec *spec)
{
	return spec->nifaces > 0;
}

static int live_fd(const struct dr_input *in)
{
	const struct live_input *l = in->priv;
	return l->epfd;
}

static void live_progress(const struct dr_input *in, uint64_t *done, uint64_t *total)
{
	(void)in;
	*done = *total = 0;	/* a live input has no end to measure against */
}

const struct dr_input_ops dr_input_live = {
	.name = "live", .match = live_match, .open = live_open,
	.read_batch = live_read, .fd = live_fd, .progress = live_progress,
	.refresh = live_refresh, .close = live_close,
};
