/* Opens a file or standard input as a stdio stream that yields the
 * decompressed bytes of gzip or zstd data and the raw bytes otherwise, so
 * libpcap can read compressed captures as they are. */
#ifndef DR_INPUT_ZIO_H
#define DR_INPUT_ZIO_H

#include <stdint.h>
#include <stdio.h>

enum dr_zkind { DR_Z_NONE, DR_Z_GZIP, DR_Z_ZSTD };

struct dr_zfile {
	FILE *fp;		/* what to read from; owned */
	enum dr_zkind kind;
	int is_stdin;
	uint64_t size;		/* raw size for regular files, else 0 */
	void *state;		/* decompressor, when kind != DR_Z_NONE */
	int empty;		/* the input holds no byte at all */
};

/* Opens path ("-" for standard input). Returns 0, or -1 with a reason in
 * errbuf ("No such file or directory", ...). */
int dr_zopen(struct dr_zfile *z, const char *path, char *errbuf, size_t errlen);

/* Raw (compressed) bytes consumed so far, for progress. */
uint64_t dr_zraw_pos(const struct dr_zfile *z);

/* The decompressor's complaint, if the stream was damaged; else NULL. */
const char *dr_zerror(const struct dr_zfile *z);

/* Forgets the stream; the caller fclose()s z->fp first. */
void dr_zclose(struct dr_zfile *z);

#endif
