/* The table of mitigation backends: adding one is a file and a line here. */
#include "action/backend.h"

#include <string.h>

const struct dr_backend *const dr_backends[] = {
	&dr_backend_nftables,
	&dr_backend_ipset,
	&dr_backend_exabgp,
	&dr_backend_gobgp,
	&dr_backend_files,
	NULL,
};

const struct dr_backend *dr_backend_find(const char *name)
{
	for (unsigned i = 0; dr_backends[i]; i++)
		if (!strcmp(dr_backends[i]->name, name))
			return dr_backends[i];
	return NULL;
}
