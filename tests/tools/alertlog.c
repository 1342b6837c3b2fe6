/* Writes a JSON-lines alert log through the service's outputs: an alert of
 * each detector type (tests/unit/alert_samples.h) driven through the
 * alert list, open, update and close. Prints, per alert, whether fail2ban
 * should ban its key, its type, key and the open event's "detected".
 *
 * usage: alertlog LOG [T0]   (T0: engine time of the first alert, epoch s) */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../unit/alert_samples.h"
#include "service/outputs.h"

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: alertlog LOG [T0]\n");
		return 2;
	}
	double t0 = argc == 3 ? strtod(argv[2], NULL) : (double)time(NULL) - 60;
	struct dr_output_config c;
	dr_output_config_defaults(&c);
	c.alert_log = argv[1];
	char err[256];
	struct dr_outputs *o;
	if (dr_outputs_open(&o, &c, -1, -1, err, sizeof(err)) != 0) {
		fprintf(stderr, "alertlog: %s\n", err);
		return 2;
	}
	struct dr_alerts al;
	if (dr_alerts_init(&al) != 0 || dr_alerts_subscribe(&al, dr_outputs_event, o) != 0) {
		fprintf(stderr, "alertlog: out of memory\n");
		return 1;
	}
	struct alert_sample s[SAMPLES_MAX];
	unsigned n = alert_samples_run(&al, s, t0);
	struct dr_output_stats st;
	int bad = dr_outputs_stats(o, &st, 1) != 1 || st.failed || st.sent != al.opened * 2 + al.closed;
	dr_alerts_fini(&al);
	dr_outputs_close(o, 0);
	if (bad) {
		fprintf(stderr, "alertlog: %s: not every event was written\n", argv[1]);
		return 1;
	}
	for (unsigned i = 0; i < n; i++)
		printf("%s %s %s %.6f\n", s[i].ban ? "ban" : "keep", s[i].type, s[i].key, t0 + i);
	return 0;
}
