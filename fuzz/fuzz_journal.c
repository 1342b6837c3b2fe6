/* Fuzz target: the response's state file (action/journal.c), read back at
 * every start: a damaged or hostile file must be refused or its entries
 * skipped, never crash, and what it accepts must survive a write and a
 * second read unchanged. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "action/journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t je;
	json_t *doc = json_loadb((const char *)data, size, 0, &je), *it;
	if (!doc)
		return 0;
	json_t *arr = json_is_array(doc) ? doc : json_object_get(doc, "actions");
	size_t i;
	json_array_foreach(arr, i, it) {
		struct dr_action_view v, w;
		if (dr_action_view_parse(it, &v) < 0)
			continue;
		/* accepted: its JSON reads back the same */
		json_t *again = dr_action_view_json(&v);
		if (!again || dr_action_view_parse(again, &w) < 0 || w.id != v.id ||
		    w.state != v.state || !dr_action_same(&v.action, &w.action))
			__builtin_trap();
		json_decref(again);
	}
	json_decref(doc);
	return 0;
}
