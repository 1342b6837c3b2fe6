/* The record of the actions in force (the state file), and the JSON of
 * one action that the record, the API and `dnsradar actions` share. */
#ifndef DR_ACTION_JOURNAL_H
#define DR_ACTION_JOURNAL_H

#include <jansson.h>
#include <stddef.h>

#include "action/respond.h"

/* One action as a JSON object (a new reference; NULL when out of memory). */
json_t *dr_action_view_json(const struct dr_action_view *v);

/* Back from JSON: 0, or -1 when a field is missing or wrong. */
int dr_action_view_parse(json_t *o, struct dr_action_view *v);

/* Writes the views to path atomically (a temporary file renamed over it):
 * 0, or -1 with "PATH: reason" in err. */
int dr_journal_write(const char *path, const struct dr_action_view *v, unsigned n, char *err,
		     size_t errlen);

/* Reads up to max views: 0 (an absent file holds none), or -1 with
 * "PATH: reason" in err. Entries it cannot read are counted in *bad. */
int dr_journal_read(const char *path, struct dr_action_view *v, unsigned max, unsigned *n,
		    unsigned *bad, char *err, size_t errlen);

#endif
