/* Deriving a record's keys once. */
#include "core/keys.h"

void dr_keys_compute(const struct dr_record *r, struct dr_keys *k, struct dr_regdom *rd)
{
	dr_akey_set(&k->src, r->family, r->src);
	dr_akey_set(&k->dst, r->family, r->dst);
	k->zone = -1;
	k->qname_len = 0;
	k->qname_hash = k->zone_hash = 0;
	if (r->dns.has_question) {
		k->qname_len = r->dns.qname_len;
		memcpy(k->qname, r->dns.qname, k->qname_len);
		dr_name_lower(k->qname, k->qname_len);
		k->qname_hash = dr_hash64(k->qname, k->qname_len);
		k->zone = (int16_t)(rd ? dr_regdom_offset(rd, k->qname_hash, k->qname, k->qname_len) : -1);
		k->zone_hash = k->zone > 0 ? dr_hash64(k->qname + k->zone, (size_t)(k->qname_len - k->zone))
					   : k->qname_hash;
	}
	k->ready = 1;
}
