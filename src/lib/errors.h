/* Error codes shared by every layer: one X-macro table yields the enum and
 * the message, so a code and its text cannot drift apart. */
#ifndef DR_CORE_ERRORS_H
#define DR_CORE_ERRORS_H

#define DR_ERRORS(X) \
	X(DR_OK,       0, "success") \
	X(DR_ENOMEM,  -1, "out of memory") \
	X(DR_EINVAL,  -2, "invalid argument") \
	X(DR_EIO,     -3, "input/output error") \
	X(DR_EFORMAT, -4, "unknown file format") \
	X(DR_ETRUNC,  -5, "truncated input") \
	X(DR_EEOF,    -6, "end of input") \
	X(DR_ENOSPC,  -7, "capacity exhausted") \
	X(DR_EUNSUP,  -8, "unsupported")

#define DR_ERR_ENUM(name, code, text) name = code,
enum dr_err { DR_ERRORS(DR_ERR_ENUM) };
#undef DR_ERR_ENUM

/* Returns the message for an error code; never NULL. */
const char *dr_strerror(int err);

#endif
