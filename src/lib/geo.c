/* MaxMind DB look-ups. */
#include "lib/geo.h"

#include <arpa/inet.h>
#include <maxminddb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "country" or "asn" for a database_type from the metadata (MaxMind's
 * GeoLite2-Country, GeoIP2-City, GeoLite2-ASN, GeoIP2-ISP, DB-IP's
 * DBIP-Country-Lite, DBIP-ASN-Lite...), NULL for anything else
 * (Anonymous-IP, Connection-Type, Domain). */
static const char *geo_kind(const char *type)
{
	if (strstr(type, "ASN") || strstr(type, "ISP"))
		return "asn";
	if (strstr(type, "Country") || strstr(type, "City") || strstr(type, "Enterprise"))
		return "country";
	return NULL;
}

int dr_geo_open(struct dr_geo *g, const char *kind, const char *path, char *errbuf, size_t errlen)
{
	MMDB_s *db = calloc(1, sizeof(*db));
	if (!db) {
		snprintf(errbuf, errlen, "%s: out of memory", path);
		return -1;
	}
	int rc = MMDB_open(path, MMDB_MODE_MMAP, db);
	if (rc != MMDB_SUCCESS) {
		snprintf(errbuf, errlen, "%s: %s", path,
			 rc == MMDB_IO_ERROR ? "cannot read it" : MMDB_strerror(rc));
		free(db);
		return -1;
	}
	/* The fields looked up differ: a database of the other kind would
	 * answer nothing, and the report would say "unknown" for everyone. */
	const char *type = db->metadata.database_type ? db->metadata.database_type : "";
	const char *found = geo_kind(type);
	int want_asn = strcmp(kind, "asn") == 0;
	if (!found || strcmp(found, kind) != 0) {
		snprintf(errbuf, errlen, "%s: a '%s' database%s; this wants %s", path, type,
			 !found ? ", neither country nor ASN" : want_asn ? " of countries"
			 : " of autonomous systems",
			 want_asn ? "an ASN database (GeoLite2-ASN, GeoIP2-ISP)"
			 : "a country database (GeoLite2-Country, GeoIP2-Country, GeoIP2-City)");
		MMDB_close(db);
		free(db);
		return -1;
	}
	void **slot = want_asn ? &g->asn : &g->country;
	if (*slot) {
		MMDB_close(*slot);
		free(*slot);
	}
	*slot = db;
	return 0;
}

void dr_geo_close(struct dr_geo *g)
{
	void *dbs[2] = {g->country, g->asn};
	for (int i = 0; i < 2; i++) {
		if (dbs[i]) {
			MMDB_close(dbs[i]);
			free(dbs[i]);
		}
	}
	g->country = g->asn = NULL;
}

static int lookup(void *db, int family, const uint8_t *addr, MMDB_lookup_result_s *res)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	if (family == 4) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		in->sin_family = AF_INET;
		memcpy(&in->sin_addr, addr, 4);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		in6->sin6_family = AF_INET6;
		memcpy(&in6->sin6_addr, addr, 16);
	}
	int err = 0;
	*res = MMDB_lookup_sockaddr(db, (struct sockaddr *)&ss, &err);
	return err == MMDB_SUCCESS && res->found_entry;
}

void dr_geo_country(const struct dr_geo *g, int family, const uint8_t *addr, char cc[3])
{
	MMDB_lookup_result_s res;
	MMDB_entry_data_s data;
	strcpy(cc, "--");
	if (!g->country || !lookup(g->country, family, addr, &res))
		return;
	if ((MMDB_get_value(&res.entry, &data, "country", "iso_code", NULL) == MMDB_SUCCESS ||
	     MMDB_get_value(&res.entry, &data, "registered_country", "iso_code", NULL) == MMDB_SUCCESS) &&
	    data.has_data && data.type == MMDB_DATA_TYPE_UTF8_STRING && data.data_size == 2) {
		cc[0] = data.utf8_string[0];
		cc[1] = data.utf8_string[1];
	}
}

uint32_t dr_geo_asn(const struct dr_geo *g, int family, const uint8_t *addr, char *org, size_t orglen)
{
	MMDB_lookup_result_s res;
	MMDB_entry_data_s data;
	uint32_t asn = 0;
	if (org && orglen)
		org[0] = 0;
	if (!g->asn || !lookup(g->asn, family, addr, &res))
		return 0;
	if (MMDB_get_value(&res.entry, &data, "autonomous_system_number", NULL) == MMDB_SUCCESS &&
	    data.has_data && data.type == MMDB_DATA_TYPE_UINT32)
		asn = data.uint32;
	if (org && orglen &&
	    MMDB_get_value(&res.entry, &data, "autonomous_system_organization", NULL) == MMDB_SUCCESS &&
	    data.has_data && data.type == MMDB_DATA_TYPE_UTF8_STRING) {
		size_t n = data.data_size < orglen - 1 ? data.data_size : orglen - 1;
		memcpy(org, data.utf8_string, n);
		org[n] = 0;
	}
	return asn;
}
