/* --local, --resolver and --authoritative prefixes, matched by linear scan (a few dozen at
 * most in practice; DR_ROLES_MAX each). */
#include "detect/roles.h"

#include <stdio.h>
#include <string.h>

#include "lib/cidr.h"

static int add(struct dr_prefix *list, unsigned *n, const char *opt, const char *cidr,
	       char *errbuf, size_t errlen)
{
	if (*n == DR_ROLES_MAX) {
		snprintf(errbuf, errlen, "%s: at most %d prefixes", opt, DR_ROLES_MAX);
		return -1;
	}
	struct dr_prefix *p = &list[*n];
	if (dr_cidr_parse(cidr, &p->family, p->addr, &p->len) < 0) {
		snprintf(errbuf, errlen, "%s '%s': not an address or CIDR prefix "
			 "(e.g. 192.0.2.0/24, 2001:db8::/32)", opt, cidr);
		return -1;
	}
	(*n)++;
	return 0;
}

int dr_roles_add_local(struct dr_roles *r, const char *cidr, char *errbuf, size_t errlen)
{
	return add(r->local, &r->nlocal, "--local", cidr, errbuf, errlen);
}

int dr_roles_add_resolver(struct dr_roles *r, const char *cidr, char *errbuf, size_t errlen)
{
	return add(r->resolvers, &r->nresolvers, "--resolver", cidr, errbuf, errlen);
}

int dr_roles_add_authoritative(struct dr_roles *r, const char *cidr, char *errbuf, size_t errlen)
{
	return add(r->authoritative, &r->nauthoritative, "--authoritative", cidr, errbuf, errlen);
}

int dr_prefixes_match(const struct dr_prefix *list, unsigned n, int family, const uint8_t *a)
{
	for (unsigned i = 0; i < n; i++) {
		const struct dr_prefix *p = &list[i];
		if (p->family != family)
			continue;
		unsigned full = p->len / 8, rest = p->len % 8;
		if (memcmp(a, p->addr, full) != 0)
			continue;
		if (rest && ((a[full] ^ p->addr[full]) & (uint8_t)(0xff << (8 - rest))))
			continue;
		return 1;
	}
	return 0;
}

int dr_roles_is_local(const struct dr_roles *r, int family, const uint8_t *addr)
{
	return dr_prefixes_match(r->local, r->nlocal, family, addr);
}

int dr_roles_is_resolver(const struct dr_roles *r, int family, const uint8_t *addr)
{
	return dr_prefixes_match(r->resolvers, r->nresolvers, family, addr);
}

int dr_roles_is_authoritative(const struct dr_roles *r, int family, const uint8_t *addr)
{
	return dr_prefixes_match(r->authoritative, r->nauthoritative, family, addr);
}
