/* dnsradar actions: what a running service's response has in force (or
 * would, in dry-run), read from its HTTP API; `actions lift ID` lifts one
 * by hand. The service's address and token come from its config file. */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/drill.h"
#include "lib/when.h"
#include "service/config.h"

#define ANSWER_MAX (64u << 20)

enum { OPT_API = 0x300, OPT_TOKEN_FILE, OPT_CONFIG, OPT_JSON, OPT_UTC };

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: dnsradar actions [OPTIONS]\n"
		"       dnsradar actions lift ID [OPTIONS]\n"
		"\n"
		"List the actions a running dnsradar run has in force or on their way\n"
		"(bans, rate limits, RTBH and Flowspec routes, resolver rate-limit\n"
		"files; in dry-run, the ones it would take), with the exact command of\n"
		"each; `lift ID` lifts one by hand now (the alert that planned it gets\n"
		"no other action while it stays open). Asks the service's HTTP API.\n"
		"\n"
		"  -c, --config FILE     the service's config: its http and http_token\n"
		"                        (default /etc/dnsradar/dnsradar.conf when there)\n"
		"  --api URL             the API instead, e.g. http://127.0.0.1:8053\n"
		"  --token-file FILE     the bearer token, first line of FILE\n"
		"  --json                the API's JSON as it is\n"
		"  --utc                 times in UTC (default: local time)\n"
		"  -h, --help            this help\n"
		"\n"
		"Example:\n"
		"  dnsradar actions -c /etc/dnsradar/dnsradar.conf\n"
		"  dnsradar actions lift 12 --api http://127.0.0.1:8053\n");
}

struct buf {
	char *p;
	size_t n;
	int over;
};

static size_t collect(char *data, size_t size, size_t n, void *ctx)
{
	struct buf *b = ctx;
	size_t len = size * n;
	if (b->n + len > ANSWER_MAX) {
		b->over = 1;
		return 0;
	}
	char *p = realloc(b->p, b->n + len + 1);
	if (!p)
		return 0;
	memcpy(p + b->n, data, len);
	b->p = p;
	b->n += len;
	b->p[b->n] = 0;
	return len;
}

/* One request; the body in *out (the caller frees it). The HTTP status,
 * or -1 after saying why. */
static long request(const char *url, const char *token, int post, char **out)
{
	struct buf b = {0};
	char auth[600], err[CURL_ERROR_SIZE] = "";
	long status = -1;
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	if (!c) {
		dr_cli_error("out of memory");
		return -1;
	}
	if (token && *token) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
		h = curl_slist_append(h, auth);
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 15L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (post) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
	}
	CURLcode rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		dr_cli_error("%s: %s%s", url, err[0] ? err : curl_easy_strerror(rc),
			     rc == CURLE_COULDNT_CONNECT ? " (is dnsradar run up, with http set?)" : "");
		free(b.p);
	} else {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		*out = b.p;
	}
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return status;
}

static void config_mistake(void *ctx, const char *file, unsigned line, const char *why)
{
	(void)ctx;
	if (line)
		fprintf(stderr, "%s:%u: %s\n", file, line, why);
	else
		fprintf(stderr, "%s: %s\n", file, why);
}

/* The API's base URL and token from the service's config. 0 or -1. */
static int from_config(const char *path, char *url, size_t ulen, char *token, size_t tlen)
{
	struct dr_service_config *c = malloc(sizeof(*c));
	int rc = -1;
	if (!c) {
		dr_cli_error("out of memory");
		return -1;
	}
	dr_service_config_defaults(c);
	if (dr_service_config_load(c, path, config_mistake, NULL) != 0) {
		dr_cli_error("%s: fix the mistakes above (dnsradar check-config %s)", path, path);
		goto out;
	}
	if (!c->http[0]) {
		dr_cli_error("%s: no http setting: the service serves no API to ask "
			     "(add http = 127.0.0.1:8053)", path);
		goto out;
	}
	const char *host = c->http;
	if (!strncmp(host, "0.0.0.0:", 8))
		host = c->http + 7, snprintf(url, ulen, "http://127.0.0.1%s", host);
	else if (!strncmp(host, "[::]:", 5))
		snprintf(url, ulen, "http://[::1]%s", c->http + 4);
	else
		snprintf(url, ulen, "http://%s", host);
	snprintf(token, tlen, "%s", c->http_token);
	rc = 0;
out:
	free(c);
	return rc;
}

static const char *str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static void when(json_t *o, const char *k, int utc, char *buf)
{
	json_t *v = json_object_get(o, k);
	if (!json_is_number(v)) {
		snprintf(buf, DR_WHEN_TEXT_MAX, "-");
		return;
	}
	dr_when_format(json_number_value(v), utc, 0, buf);
}

static int print_actions(const char *body, int utc)
{
	json_error_t je;
	json_t *doc = json_loads(body, 0, &je), *it;
	if (!doc || !json_is_array(json_object_get(doc, "actions"))) {
		dr_cli_error("the API's answer is not a list of actions: %s", doc ? "" : je.text);
		json_decref(doc);
		return DR_EXIT_FAIL;
	}
	json_t *arr = json_object_get(doc, "actions");
	int acting = json_is_true(json_object_get(doc, "acting"));
	printf("%zu action%s%s\n", json_array_size(arr), json_array_size(arr) == 1 ? "" : "s",
	       acting ? "" : " (dry-run: none is run; act = yes or --act turns them on)");
	if (json_array_size(arr)) {
		static const char *const head[] = {"ID", "STATE", "BACKEND", "ACTION", "ALERT",
						   "SINCE", "LIFT AT", "ERROR"};
		static const int right[] = {1, 0, 0, 0, 0, 0, 0, 0};
		struct dr_table t;
		dr_table_init(&t, 8, head, right);
		size_t i;
		json_array_foreach(arr, i, it) {
			char id[24], alert[300], since[DR_WHEN_TEXT_MAX], lift[DR_WHEN_TEXT_MAX];
			snprintf(id, sizeof(id), "%lld", (long long)json_integer_value(json_object_get(it, "id")));
			snprintf(alert, sizeof(alert), "%lld %s %s",
				 (long long)json_integer_value(json_object_get(it, "alert")),
				 str(it, "type"), str(it, "key"));
			when(it, "since", utc, since);
			when(it, "lift_at", utc, lift);
			if (!json_is_number(json_object_get(it, "lift_at")))
				snprintf(lift, sizeof(lift), "while open");
			const char *cells[] = {id, str(it, "state"), str(it, "backend"), str(it, "what"),
					       alert, since, lift, str(it, "error")};
			dr_table_row(&t, cells);
		}
		dr_table_print(&t, stdout);
		printf("\ncommands:\n");
		json_array_foreach(arr, i, it)
			printf("  %lld  %s\n", (long long)json_integer_value(json_object_get(it, "id")),
			       str(it, "command"));
		dr_table_free(&t);
	}
	json_decref(doc);
	return fflush(stdout) == 0 ? DR_EXIT_OK : DR_EXIT_FAIL;
}

static int run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"api", required_argument, NULL, OPT_API},
		{"token-file", required_argument, NULL, OPT_TOKEN_FILE},
		{"json", no_argument, NULL, OPT_JSON},
		{"utc", no_argument, NULL, OPT_UTC},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *config = NULL, *api = NULL, *token_file = NULL;
	int opt, json = 0, utc = 0, ret = DR_EXIT_USAGE;
	char base[600] = "", token[600] = "", url[700];
	char *body = NULL;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "hc:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'h': usage(stdout); return DR_EXIT_OK;
		case 'c': config = optarg; break;
		case OPT_API: api = optarg; break;
		case OPT_TOKEN_FILE: token_file = optarg; break;
		case OPT_JSON: json = 1; break;
		case OPT_UTC: utc = 1; break;
		default: dr_cli_usage_hint("actions"); return DR_EXIT_USAGE;
		}
	}
	uint64_t lift = 0;
	if (optind < argc) {
		char *end;
		if (strcmp(argv[optind], "lift") || optind + 2 != argc) {
			dr_cli_error("actions: '%s': give no argument, or lift ID", argv[optind]);
			dr_cli_usage_hint("actions");
			return DR_EXIT_USAGE;
		}
		errno = 0;
		lift = strtoull(argv[optind + 1], &end, 10);
		if (!*argv[optind + 1] || *end || errno || !lift) {
			dr_cli_error("actions lift '%s': give an action's ID (dnsradar actions lists "
				     "them)", argv[optind + 1]);
			return DR_EXIT_USAGE;
		}
	}
	if (api && config) {
		dr_cli_error("actions: give --api or --config, not both");
		return DR_EXIT_USAGE;
	}
	if (api) {
		if (strncmp(api, "http://", 7) && strncmp(api, "https://", 8)) {
			dr_cli_error("--api '%s': give an http:// or https:// URL", api);
			return DR_EXIT_USAGE;
		}
		snprintf(base, sizeof(base), "%s", api);
	} else {
		if (!config) {
			config = "/etc/dnsradar/dnsradar.conf";
			FILE *f = fopen(config, "r");
			if (!f) {
				dr_cli_error("actions: give --api URL or --config FILE (no %s)", config);
				return DR_EXIT_USAGE;
			}
			fclose(f);
		}
		if (from_config(config, base, sizeof(base), token, sizeof(token)) < 0)
			return DR_EXIT_USAGE;
	}
	if (token_file) {
		FILE *f = fopen(token_file, "r");
		if (!f || !fgets(token, sizeof(token), f)) {
			dr_cli_error("--token-file %s: cannot read it", token_file);
			if (f)
				fclose(f);
			return DR_EXIT_USAGE;
		}
		fclose(f);
		token[strcspn(token, "\r\n")] = 0;
	}
	size_t bl = strlen(base);
	while (bl && base[bl - 1] == '/')
		base[--bl] = 0;
	if (lift)
		snprintf(url, sizeof(url), "%s/api/actions/%llu/lift", base, (unsigned long long)lift);
	else
		snprintf(url, sizeof(url), "%s/api/actions", base);
	long status = request(url, token, lift != 0, &body);
	if (status < 0)
		return DR_EXIT_FAIL;
	if (status != 200) {
		json_t *doc = body ? json_loads(body, 0, NULL) : NULL;
		const char *why = doc ? json_string_value(json_object_get(doc, "error")) : NULL;
		dr_cli_error("%s: HTTP %ld: %s", url, status, why ? why : "no reason given");
		json_decref(doc);
		ret = status == 404 && lift ? DR_EXIT_USAGE : DR_EXIT_FAIL;
	} else if (lift) {
		printf("action %llu: lifting (dnsradar actions shows when it is gone)\n",
		       (unsigned long long)lift);
		ret = DR_EXIT_OK;
	} else if (json) {
		fputs(body ? body : "", stdout);
		ret = fflush(stdout) == 0 ? DR_EXIT_OK : DR_EXIT_FAIL;
	} else {
		ret = print_actions(body ? body : "", utc);
	}
	free(body);
	return ret;
}

const struct dr_command dr_cmd_actions = {
	.name = "actions",
	.summary = "the response's actions in force (bans, routes), and lifting one",
	.run = run,
};
