/* Mnemonics for DNS types, RCODEs and opcodes (IANA registry), both ways. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "decode/dns.h"

struct mnemonic {
	unsigned value;
	const char *name;
};

static const struct mnemonic qtypes[] = {
	{1, "A"}, {2, "NS"}, {3, "MD"}, {4, "MF"}, {5, "CNAME"}, {6, "SOA"},
	{7, "MB"}, {8, "MG"}, {9, "MR"}, {10, "NULL"}, {11, "WKS"},
	{12, "PTR"}, {13, "HINFO"}, {14, "MINFO"}, {15, "MX"}, {16, "TXT"},
	{17, "RP"}, {18, "AFSDB"}, {19, "X25"}, {20, "ISDN"}, {21, "RT"},
	{22, "NSAP"}, {23, "NSAP-PTR"}, {24, "SIG"}, {25, "KEY"}, {26, "PX"},
	{27, "GPOS"}, {28, "AAAA"}, {29, "LOC"}, {30, "NXT"}, {31, "EID"},
	{32, "NIMLOC"}, {33, "SRV"}, {34, "ATMA"}, {35, "NAPTR"}, {36, "KX"},
	{37, "CERT"}, {38, "A6"}, {39, "DNAME"}, {40, "SINK"}, {41, "OPT"},
	{42, "APL"}, {43, "DS"}, {44, "SSHFP"}, {45, "IPSECKEY"},
	{46, "RRSIG"}, {47, "NSEC"}, {48, "DNSKEY"}, {49, "DHCID"},
	{50, "NSEC3"}, {51, "NSEC3PARAM"}, {52, "TLSA"}, {53, "SMIMEA"},
	{55, "HIP"}, {56, "NINFO"}, {57, "RKEY"}, {58, "TALINK"},
	{59, "CDS"}, {60, "CDNSKEY"}, {61, "OPENPGPKEY"}, {62, "CSYNC"},
	{63, "ZONEMD"}, {64, "SVCB"}, {65, "HTTPS"}, {99, "SPF"},
	{100, "UINFO"}, {101, "UID"}, {102, "GID"}, {103, "UNSPEC"},
	{104, "NID"}, {105, "L32"}, {106, "L64"}, {107, "LP"}, {108, "EUI48"},
	{109, "EUI64"}, {249, "TKEY"}, {250, "TSIG"}, {251, "IXFR"},
	{252, "AXFR"}, {253, "MAILB"}, {254, "MAILA"}, {255, "ANY"},
	{256, "URI"}, {257, "CAA"}, {258, "AVC"}, {259, "DOA"},
	{260, "AMTRELAY"}, {32768, "TA"}, {32769, "DLV"},
};

static const struct mnemonic rcodes[] = {
	{0, "NOERROR"}, {1, "FORMERR"}, {2, "SERVFAIL"}, {3, "NXDOMAIN"},
	{4, "NOTIMP"}, {5, "REFUSED"}, {6, "YXDOMAIN"}, {7, "YXRRSET"},
	{8, "NXRRSET"}, {9, "NOTAUTH"}, {10, "NOTZONE"}, {11, "DSOTYPENI"},
	{16, "BADVERS"}, {17, "BADKEY"}, {18, "BADTIME"}, {19, "BADMODE"},
	{20, "BADNAME"}, {21, "BADALG"}, {22, "BADTRUNC"}, {23, "BADCOOKIE"},
};

static const struct mnemonic opcodes[] = {
	{0, "QUERY"}, {1, "IQUERY"}, {2, "STATUS"}, {4, "NOTIFY"},
	{5, "UPDATE"}, {6, "DSO"},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *find_name(const struct mnemonic *t, size_t n, unsigned v)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].value == v)
			return t[i].name;
	return NULL;
}

static int find_value(const struct mnemonic *t, size_t n, const char *s,
		      const char *prefix, unsigned max)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(t[i].name, s) == 0)
			return (int)t[i].value;
	size_t plen = strlen(prefix);
	if (plen && strncasecmp(s, prefix, plen) == 0)
		s += plen;
	if (*s < '0' || *s > '9')
		return -1;
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (*end || v > max)
		return -1;
	return (int)v;
}

const char *dr_qtype_name(unsigned qtype)
{
	return find_name(qtypes, COUNT(qtypes), qtype);
}

const char *dr_rcode_name(unsigned rcode)
{
	return find_name(rcodes, COUNT(rcodes), rcode);
}

const char *dr_opcode_name(unsigned opcode)
{
	return find_name(opcodes, COUNT(opcodes), opcode);
}

int dr_qtype_parse(const char *s)
{
	return find_value(qtypes, COUNT(qtypes), s, "TYPE", 65535);
}

int dr_rcode_parse(const char *s)
{
	return find_value(rcodes, COUNT(rcodes), s, "RCODE", 4095);
}
