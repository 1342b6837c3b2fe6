/* The table of input kinds, and opening an input by asking each in turn
 * whether it reads what the caller named. A new kind (live capture, a
 * flow socket) is one file and one line here. */
#include "input/input.h"

#include <stdio.h>
#include <string.h>

volatile sig_atomic_t dr_input_interrupt;

const struct dr_input_ops *const dr_input_kinds[] = {
	/* first: interfaces named are captured on, with any sockets named */
	&dr_input_live,
	&dr_input_memory,
	/* before the files: sockets named are read even if paths are given
	 * too, and a socket named "-" is never taken for standard input */
	&dr_input_udp,
	&dr_input_stdin,
	&dr_input_files,
	NULL,
};

int dr_input_open(struct dr_input *in, const struct dr_input_spec *spec,
		  char *errbuf, size_t errlen)
{
	memset(in, 0, sizeof(*in));
	for (unsigned i = 0; dr_input_kinds[i]; i++) {
		const struct dr_input_ops *ops = dr_input_kinds[i];
		if (!ops->match(spec))
			continue;
		in->ops = ops;
		if (ops->open(in, spec, errbuf, errlen) < 0) {
			in->ops = NULL;
			return -1;
		}
		return 0;
	}
	snprintf(errbuf, errlen, "no input given");
	return -1;
}

void dr_input_close(struct dr_input *in)
{
	if (in->ops)
		in->ops->close(in);
	memset(in, 0, sizeof(*in));
}
