/* Messages for the error codes of errors.h. */
#include "lib/errors.h"

const char *dr_strerror(int err)
{
	switch (err) {
#define DR_ERR_CASE(name, code, text) case code: return text;
	DR_ERRORS(DR_ERR_CASE)
#undef DR_ERR_CASE
	}
	return "unknown error";
}
