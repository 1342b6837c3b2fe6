/* Numbers, sizes and times as the reports print them. */
#ifndef DR_REPORT_FORMAT_H
#define DR_REPORT_FORMAT_H

#include <stddef.h>
#include <stdint.h>

/* 1234567 as "1,234,567". */
void dr_fmt_count(char *buf, size_t len, uint64_t v);

/* Octets as "512 B", "1.4 kB", "3.2 GB" (powers of 1000). */
void dr_fmt_bytes(char *buf, size_t len, uint64_t v);

/* Octets in powers of 1024, as buffer sizes are given: "512 B",
 * "4 KiB", "1.5 MiB", "64 MiB". */
void dr_fmt_ibytes(char *buf, size_t len, uint64_t v);

/* Epoch seconds as UTC "HH:MM:SS.mmm", with the date before it when
 * with_date. */
void dr_fmt_time(char *buf, size_t len, double t, int with_date);

#endif
