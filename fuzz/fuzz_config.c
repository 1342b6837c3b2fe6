/* Fuzz target: the service's configuration file (service/config.c), the
 * one text parser an operator's hand feeds, with every key and value; and
 * the human times of the drill-down (lib/when.c), the first lines of the
 * input read as --since, --from and --to. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/when.h"
#include "service/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void ignore(void *ctx, const char *file, unsigned line, const char *why)
{
	(void)file;
	(void)line;
	(*(unsigned *)ctx)++;
	if (!why || !*why)	/* a mistake always says why */
		__builtin_trap();
}

static void times(const uint8_t *data, size_t size)
{
	char text[3][64] = {{0}};
	unsigned k = 0, n = 0;
	for (size_t i = 0; i < size && k < 3; i++) {
		if (data[i] == '\n') {
			k++;
			n = 0;
		} else if (n + 1 < sizeof(text[0])) {
			text[k][n++] = (char)data[i];
		}
	}
	char err[256];
	int64_t secs;
	double t, from, to;
	char iso[DR_WHEN_TEXT_MAX];
	dr_when_duration(text[0], "--since", &secs, err, sizeof(err));
	dr_when_time(text[1], "--from", 0, 1.7e9, &t, err, sizeof(err));
	dr_when_time(text[1], "--from", 1, 1.7e9, &t, err, sizeof(err));
	if (dr_when_time(text[2], "--to", 1, 1.7e9, &t, err, sizeof(err)) == 0)
		dr_when_format(t, 1, 1, iso);
	if (dr_when_range(text[0][0] ? text[0] : NULL, text[1][0] ? text[1] : NULL,
			  text[2][0] ? text[2] : NULL, 1, 1.7e9, 3600, "--", &from, &to, err,
			  sizeof(err)) == 0 && !(from <= to))
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dr_service_config c;
	char path[] = "/tmp/dnsradar-fuzz-config-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		unlink(path);
		return 0;
	}
	close(fd);
	unsigned seen = 0;
	dr_service_config_defaults(&c);
	int mistakes = dr_service_config_load(&c, path, ignore, &seen);
	unlink(path);
	if (mistakes >= 0 && (unsigned)mistakes != seen)
		__builtin_trap();
	char why[1024];
	dr_service_config_check(&c, why, sizeof(why));
	times(data, size);
	return 0;
}
