/* The response's settings: the short keys (act, allow, hold) and those
 * under "respond.", with their defaults. */
#include "action/respond.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "action/backend.h"

void dr_respond_config_defaults(struct dr_respond_config *c)
{
	memset(c, 0, sizeof(*c));
	c->hold = 300;
	c->ttl = 3600;
	c->max_actions = 256;
	dr_policy_defaults(&c->policy);
	snprintf(c->firewall, sizeof(c->firewall), "nftables");
	snprintf(c->hook, sizeof(c->hook), "input");
	snprintf(c->table, sizeof(c->table), "dnsradar");
	snprintf(c->set_prefix, sizeof(c->set_prefix), "dnsradar");
	snprintf(c->exabgp_socket, sizeof(c->exabgp_socket), "/run/dnsradar/exabgp.sock");
	snprintf(c->gobgp_api, sizeof(c->gobgp_api), "127.0.0.1:50051");
	snprintf(c->gobgp_cli, sizeof(c->gobgp_cli), "gobgp");
	snprintf(c->next_hop, sizeof(c->next_hop), "self");
	snprintf(c->community, sizeof(c->community), "65535:666");
	snprintf(c->rules_dir, sizeof(c->rules_dir), "/var/lib/dnsradar/rules");
	snprintf(c->state, sizeof(c->state), "/var/lib/dnsradar/actions.json");
}

static int text(char *dst, size_t size, const char *v, char *why, size_t len)
{
	if (strlen(v) >= size) {
		snprintf(why, len, "longer than %zu characters", size - 1);
		return -1;
	}
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

static int yes_no(const char *v, int *out, char *why, size_t len)
{
	if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "on") || !strcmp(v, "1"))
		return (*out = 1, 0);
	if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "off") || !strcmp(v, "0"))
		return (*out = 0, 0);
	snprintf(why, len, "give yes or no");
	return -1;
}

static int secs(const char *v, double lo, double hi, double *out, char *why, size_t len)
{
	char *end;
	double d = strtod(v, &end);
	double unit = 1;
	if (end != v && *end && !end[1])
		switch (*end) {
		case 's': unit = 1; end++; break;
		case 'm': unit = 60; end++; break;
		case 'h': unit = 3600; end++; break;
		case 'd': unit = 86400; end++; break;
		}
	if (end == v || *end || !(d * unit >= lo) || !(d * unit <= hi)) {
		snprintf(why, len, "give seconds from %g to %g (or with m, h, d: 5m, 1h)", lo, hi);
		return -1;
	}
	*out = d * unit;
	return 0;
}

int dr_respond_next_hop(const struct dr_respond_config *c, int family, const char *self,
			char *buf, size_t len)
{
	char word[INET6_ADDRSTRLEN + 1];
	uint8_t bin[16];
	int seen[2] = {0, 0};
	snprintf(buf, len, "%s", self);
	for (const char *p = c->next_hop; *p;) {
		size_t n = strcspn(p, ",");
		if (!n || n >= sizeof(word))
			return -1;
		memcpy(word, p, n);
		word[n] = 0;
		p += n + (p[n] == ',');
		if (!strcmp(word, "self"))
			continue;
		int af = strchr(word, ':') ? AF_INET6 : AF_INET, fam = af == AF_INET ? 4 : 6;
		if (inet_pton(af, word, bin) != 1 || seen[fam == 6]++)
			return -1;
		if (fam == family && !inet_ntop(af, bin, buf, (socklen_t)len))
			return -1;
	}
	return 0;
}

/* Who may be named: the backends of a class. */
static int backend_of(const char *v, int cls, char *dst, size_t size, char *why, size_t len)
{
	const struct dr_backend *b = dr_backend_find(v);
	if (!strcmp(v, "none"))
		return (dst[0] = 0, 0);
	if (b) {
		unsigned kinds = b->kinds, fits = 0;
		for (int k = 0; k < DR_ACT_KINDS; k++)
			if ((kinds & 1u << k) && (int)dr_action_class_of(k) == cls)
				fits = 1;
		if (fits)
			return text(dst, size, v, why, len);
	}
	snprintf(why, len, cls == DR_CLASS_BGP ? "give exabgp, gobgp or none"
					      : "give nftables, ipset or none");
	return -1;
}

int dr_respond_config_set(struct dr_respond_config *c, const char *key, const char *value,
			  char *why, size_t len)
{
	if (!strncmp(key, "respond.", 8))
		key += 8;
	if (!strcmp(key, "act"))
		return yes_no(value, &c->act, why, len);
	if (!strcmp(key, "hold"))
		return secs(value, 0, 30 * 86400.0, &c->hold, why, len);
	if (!strcmp(key, "ttl"))
		return secs(value, 10, 30 * 86400.0, &c->ttl, why, len);
	if (!strcmp(key, "max_actions")) {
		char *end;
		unsigned long n = strtoul(value, &end, 10);
		if (!*value || *end || *value == '-' || n < 1 || n > DR_ACTIONS_CAP) {
			snprintf(why, len, "give a whole number from 1 to %d", DR_ACTIONS_CAP);
			return -1;
		}
		c->max_actions = (unsigned)n;
		return 0;
	}
	if (!strcmp(key, "lift_on_stop"))
		return yes_no(value, &c->lift_on_stop, why, len);
	if (!strcmp(key, "firewall"))
		return backend_of(value, DR_CLASS_FIREWALL, c->firewall, sizeof(c->firewall), why, len);
	if (!strcmp(key, "bgp"))
		return backend_of(value, DR_CLASS_BGP, c->bgp, sizeof(c->bgp), why, len);
	if (!strcmp(key, "hook")) {
		if (strcmp(value, "input") && strcmp(value, "forward") && strcmp(value, "prerouting")) {
			snprintf(why, len, "give input (the host is the DNS server), forward (a router "
				 "in front of servers) or prerouting");
			return -1;
		}
		return text(c->hook, sizeof(c->hook), value, why, len);
	}
	if (!strcmp(key, "table") || !strcmp(key, "set_prefix")) {
		char *dst = key[0] == 't' ? c->table : c->set_prefix;
		size_t size = key[0] == 't' ? sizeof(c->table) : sizeof(c->set_prefix);
		if (!*value || strspn(value, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(value)) {
			snprintf(why, len, "give lower-case letters, digits and _");
			return -1;
		}
		return text(dst, size, value, why, len);
	}
	if (!strcmp(key, "exabgp_socket"))
		return text(c->exabgp_socket, sizeof(c->exabgp_socket), value, why, len);
	if (!strcmp(key, "gobgp_api")) {
		if (!strchr(value, ':')) {
			snprintf(why, len, "give HOST:PORT of gobgpd's API, e.g. 127.0.0.1:50051");
			return -1;
		}
		return text(c->gobgp_api, sizeof(c->gobgp_api), value, why, len);
	}
	if (!strcmp(key, "gobgp_cli"))
		return text(c->gobgp_cli, sizeof(c->gobgp_cli), value, why, len);
	if (!strcmp(key, "next_hop")) {
		struct dr_respond_config t;
		char nh[INET6_ADDRSTRLEN];
		snprintf(t.next_hop, sizeof(t.next_hop), "%s", value);
		if (strlen(value) >= sizeof(c->next_hop) ||
		    dr_respond_next_hop(&t, 4, "", nh, sizeof(nh)) < 0) {
			snprintf(why, len, "give self, an address, or an IPv4 and an IPv6 address "
				 "with a comma between (10.1.0.1,2001:db8:1::1)");
			return -1;
		}
		return text(c->next_hop, sizeof(c->next_hop), value, why, len);
	}
	if (!strcmp(key, "community")) {
		unsigned a, b;
		char tail;
		if (sscanf(value, "%u:%u%c", &a, &b, &tail) != 2 || a > 65535 || b > 65535) {
			snprintf(why, len, "give ASN:VALUE, e.g. 65535:666 (RFC 7999 BLACKHOLE)");
			return -1;
		}
		return text(c->community, sizeof(c->community), value, why, len);
	}
	if (!strcmp(key, "rules_dir"))
		return text(c->rules_dir, sizeof(c->rules_dir), value, why, len);
	if (!strcmp(key, "state"))
		return text(c->state, sizeof(c->state), value, why, len);
	if (!strcmp(key, "allow") || !strcmp(key, "rate") || !strcmp(key, "length") ||
	    strchr(key, '.') || strspn(key, "abcdefghijklmnopqrstuvwxyz_") == strlen(key)) {
		int r = dr_policy_set(&c->policy, key, value, why, len);
		if (r < 0 && !strncmp(why, "no alert type", 13)) {
			snprintf(why, len, "no response setting '%s'; give act, allow, hold, ttl, "
				 "max_actions, lift_on_stop, firewall, bgp, hook, table, set_prefix, "
				 "exabgp_socket, gobgp_api, gobgp_cli, next_hop, community, rules_dir, "
				 "state, rate, length, or an alert type (flood = drop-source)", key);
			return 1;
		}
		return r;
	}
	return 1;
}
