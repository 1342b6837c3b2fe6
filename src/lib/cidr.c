/* Addresses and prefixes from text. */
#include "lib/cidr.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

int dr_cidr_parse(const char *text, uint8_t *family, uint8_t *addr, uint8_t *prefix)
{
	char buf[80];
	if (strlen(text) >= sizeof(buf))
		return -1;
	strcpy(buf, text);
	char *slash = strchr(buf, '/');
	long len = -1;
	if (slash) {
		*slash = 0;
		char *end;
		len = strtol(slash + 1, &end, 10);
		if (*end || end == slash + 1)
			return -1;
	}
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, buf, addr) == 1) {
		*family = 4;
		if (len < 0)
			len = 32;
		if (len > 32)
			return -1;
	} else if (inet_pton(AF_INET6, buf, addr) == 1) {
		*family = 6;
		if (len < 0)
			len = 128;
		if (len > 128)
			return -1;
	} else {
		return -1;
	}
	*prefix = (uint8_t)len;
	return 0;
}
