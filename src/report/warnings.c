/* The warnings list (report/warnings.h). */
#include "report/warnings.h"

#include <stddef.h>
#include <string.h>

static const char *const names[DR_WARN_COUNT] = {
#define DR_WARN_NAME(code, name) [code] = name,
	DR_WARNING_CODES(DR_WARN_NAME)
#undef DR_WARN_NAME
};

const char *dr_warning_name(enum dr_warning_code code)
{
	return (unsigned)code < DR_WARN_COUNT ? names[code] : "unknown";
}

struct dr_warning *dr_warnings_add(struct dr_warnings *ws, enum dr_warning_code code,
				   uint64_t count)
{
	if (ws->n == DR_WARNINGS_MAX)
		return NULL;
	struct dr_warning *w = &ws->w[ws->n++];
	memset(w, 0, sizeof(*w));
	w->code = code;
	w->count = count;
	return w;
}
