/* A reader for pcap and pcapng files: memory-mapped for plain files, a
 * large buffer over a stdio stream (compressed input, standard input)
 * otherwise. It is the hot path of every subcommand, so it hands packets
 * over in place, without a copy; tests compare it with libpcap. */
#ifndef DR_INPUT_PCAPFILE_H
#define DR_INPUT_PCAPFILE_H

#include <stdint.h>
#include <stdio.h>

#define DR_PCAP_MAX_PACKET (16u << 20)	/* larger records are damage */
#define DR_PCAPNG_MAX_IFACES 65536

struct dr_pcap_iface {
	uint32_t linktype;
	uint32_t snaplen;
	uint64_t units;		/* timestamp units per second */
	int64_t offset;		/* if_tsoffset, seconds */
};

struct dr_pcapfile {
	/* the bytes */
	const uint8_t *map;	/* whole file when mapped, else NULL */
	size_t map_len;
	FILE *fp;		/* stream when not mapped */
	uint8_t *buf;
	size_t buf_cap;
	const uint8_t *data;	/* current window: data[0..len) */
	size_t len;
	size_t pos;		/* read position in the window */
	uint64_t window_off;	/* file offset of data[0] */
	int eof;
	int hold;		/* set by the caller: records handed over stay
				 * valid, so the window must not move */
	int blocked;		/* the last read needed it moved */
	/* the format */
	int ng;			/* pcapng */
	int swap;		/* fields are in the other byte order */
	int nano;		/* pcap: nanosecond timestamps */
	int extra16;		/* pcap: the 8 extra record bytes of the
				 * "modified" (Kuznetzov) format */
	uint32_t linktype, snaplen;	/* pcap */
	struct dr_pcap_iface *ifaces;	/* pcapng, per section */
	uint32_t nifaces, ifaces_cap;
	/* where we are */
	uint64_t packets;	/* packet records read */
	uint64_t record_off;	/* file offset of the record being read */
	char error[256];	/* why the last call failed */
};

struct dr_pcap_record {
	const uint8_t *data;	/* valid until the next call */
	uint32_t caplen, len;
	int64_t ts_sec;
	uint32_t ts_nsec;
	uint32_t linktype;
};

/* Starts reading: maps `map` (len bytes, owned by the caller) when not
 * NULL, else reads fp (owned by the caller). Reads the file header.
 * Returns 0, or -1 with the reason in f->error ("not a pcap or pcapng
 * capture", "the file header is cut short"); a failed open holds no
 * memory, and needs no dr_pcapfile_close. */
int dr_pcapfile_open(struct dr_pcapfile *f, const uint8_t *map, size_t len, FILE *fp);

#define DR_PCAP_AGAIN 2

/* Reads the next packet record. Returns 1, 0 at the end, or -1 when the
 * file is cut short or damaged (f->error says how; f->record_off where).
 * rec->data is valid until the next call, or, while f->hold is set, until
 * the next call made with f->hold clear: a streamed file whose next
 * record is not yet in the window then returns DR_PCAP_AGAIN, having
 * consumed nothing, instead of moving the window (a mapped file never
 * does). Batches of records rest on this. */
int dr_pcapfile_next(struct dr_pcapfile *f, struct dr_pcap_record *rec);

/* Bytes consumed so far. */
static inline uint64_t dr_pcapfile_offset(const struct dr_pcapfile *f)
{
	return f->window_off + f->pos;
}

void dr_pcapfile_close(struct dr_pcapfile *f);

#endif
