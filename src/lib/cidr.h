/* Addresses and prefixes (CIDR) from their text forms. */
#ifndef DR_LIB_CIDR_H
#define DR_LIB_CIDR_H

#include <stdint.h>

/* Parses "ADDR" or "ADDR/LEN" (IPv4 or IPv6): *family 4 or 6, addr (16
 * octets, IPv4 in the first 4, the rest zero) and *prefix (the full length
 * when none is given). 0, or -1 when the text is neither. */
int dr_cidr_parse(const char *text, uint8_t *family, uint8_t *addr, uint8_t *prefix);

#endif
