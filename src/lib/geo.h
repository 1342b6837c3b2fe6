/* Country and autonomous system of an address, from MaxMind DB files
 * (GeoIP2/GeoLite2 Country and ASN, or any database with the same
 * fields), through libmaxminddb. Used when a report is built, never per
 * packet. */
#ifndef DR_LIB_GEO_H
#define DR_LIB_GEO_H

#include <stddef.h>
#include <stdint.h>

struct dr_geo {
	void *country;		/* MMDB_s, or NULL */
	void *asn;		/* MMDB_s, or NULL */
};

/* Opens a database; kind is "country" or "asn", and the database's
 * metadata (database_type) must say it is one. 0, or -1 with
 * "FILE: reason" in errbuf (for a wrong kind, the type found and the
 * kind wanted). */
int dr_geo_open(struct dr_geo *g, const char *kind, const char *path, char *errbuf, size_t errlen);
void dr_geo_close(struct dr_geo *g);

/* ISO 3166 country code into cc[3] ("--" when unknown). */
void dr_geo_country(const struct dr_geo *g, int family, const uint8_t *addr, char cc[3]);

/* Autonomous system number (0 when unknown); its organisation into org
 * (may be NULL). */
uint32_t dr_geo_asn(const struct dr_geo *g, int family, const uint8_t *addr, char *org, size_t orglen);

#endif
