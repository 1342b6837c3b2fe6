/* Network roles: the operator's own address space (--local), the hosts
 * allowed to answer DNS for anyone (--resolver) and its declared
 * authoritative servers (--authoritative). */
#ifndef DR_DETECT_ROLES_H
#define DR_DETECT_ROLES_H

#include <stddef.h>
#include <stdint.h>

#define DR_ROLES_MAX 256

struct dr_prefix {
	uint8_t family, len;
	uint8_t addr[16];
};

struct dr_roles {
	unsigned nlocal, nresolvers, nauthoritative;
	struct dr_prefix local[DR_ROLES_MAX];
	struct dr_prefix resolvers[DR_ROLES_MAX];
	struct dr_prefix authoritative[DR_ROLES_MAX];
};

/* Adds "ADDR[/LEN]"; 0, or -1 with the reason in errbuf. */
int dr_roles_add_local(struct dr_roles *r, const char *cidr, char *errbuf, size_t errlen);
int dr_roles_add_resolver(struct dr_roles *r, const char *cidr, char *errbuf, size_t errlen);
int dr_roles_add_authoritative(struct dr_roles *r, const char *cidr, char *errbuf, size_t errlen);

/* 1 when the address (family 4 or 6) falls in one of the n prefixes. */
int dr_prefixes_match(const struct dr_prefix *list, unsigned n, int family, const uint8_t *a);

int dr_roles_is_local(const struct dr_roles *r, int family, const uint8_t *addr);
int dr_roles_is_resolver(const struct dr_roles *r, int family, const uint8_t *addr);
int dr_roles_is_authoritative(const struct dr_roles *r, int family, const uint8_t *addr);

#endif
