/*
 * config_values.c - the values of the configuration file: durations, sizes,
 * yes/no (shared with the partner table and the tools), file names relative
 * to the file, and the syntax checks of sockets, addresses, proxy URLs, log
 * levels, tokens and header names.  Pure functions: nothing here knows the
 * key table or the file being read.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <syslog.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include "config_internal.h"
#include "domsec/listen.h"
#include "domsec/names.h"

/* ---- value parsers shared with the partner table and the tools ---- */

const char *ds_config_parse_number(const char *s, long *out)
{
	long v = 0;
	const char *p = s;
	if (!isdigit((unsigned char)*p))
		return NULL;
	for (; isdigit((unsigned char)*p); p++) {
		int digit = *p - '0';
		if (v > (LONG_MAX - digit) / 10)
			return NULL;
		v = v * 10 + digit;
	}
	*out = v;
	return p;
}

int ds_parse_duration_ms(const char *s, long *out_ms)
{
	static const struct { const char *suffix; long ms; } units[] = {
		{ "", MS_PER_S }, { "ms", 1 }, { "s", MS_PER_S },
		{ "m", MS_PER_MIN }, { "h", MS_PER_HOUR }, { "d", MS_PER_DAY },
	};
	long n;
	const char *rest;

	if (s == NULL || (rest = ds_config_parse_number(s, &n)) == NULL)
		return -1;
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (strcasecmp(rest, units[i].suffix) != 0)
			continue;
		if (n > LONG_MAX / units[i].ms)
			return -1;
		*out_ms = n * units[i].ms;
		return 0;
	}
	return -1;
}

int ds_parse_size(const char *s, long *out)
{
	long n, mult;
	const char *rest;

	if (s == NULL || (rest = ds_config_parse_number(s, &n)) == NULL)
		return -1;
	if (*rest == '\0')
		mult = 1;
	else if (strcasecmp(rest, "k") == 0)
		mult = 1024L;
	else if (strcasecmp(rest, "m") == 0)
		mult = 1024L * 1024;
	else if (strcasecmp(rest, "g") == 0)
		mult = 1024L * 1024 * 1024;
	else
		return -1;
	if (n > LONG_MAX / mult)
		return -1;
	*out = n * mult;
	return 0;
}

int ds_parse_bool(const char *s, int *out)
{
	static const char *yes[] = { "yes", "true", "1" };
	static const char *no[] = { "no", "false", "0" };
	if (s == NULL)
		return -1;
	for (size_t i = 0; i < 3; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

char *ds_config_resolve_path(const char *from_file, const char *path)
{
	const char *slash = from_file ? strrchr(from_file, '/') : NULL;
	if (path[0] == '/' || slash == NULL)
		return strdup(path);
	size_t dirlen = (size_t)(slash - from_file);
	size_t len = dirlen + 1 + strlen(path) + 1;
	char *full = malloc(len);
	if (full != NULL)
		snprintf(full, len, "%.*s/%s", (int)dirlen, from_file, path);
	return full;
}

int ds_config_check_cert_file(const char *file, char *why, size_t whylen)
{
	struct stat st;
	if (stat(file, &st) != 0) {
		snprintf(why, whylen, "%s", strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "not a regular file");
		return -1;
	}
	FILE *f = fopen(file, "r");
	if (f == NULL) {
		snprintf(why, whylen, "%s", strerror(errno));
		return -1;
	}
	int count = 0;
	X509 *x;
	while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
		count++;
		X509_free(x);
	}
	ERR_clear_error();   /* the loop always ends on "no start line" */
	fclose(f);
	if (count == 0) {
		snprintf(why, whylen, "holds no PEM certificate");
		return -1;
	}
	return 0;
}

void ds_config_format_ms(long ms, char *buf, size_t len)
{
	if (ms != 0 && ms % MS_PER_DAY == 0)
		snprintf(buf, len, "%ldd", ms / MS_PER_DAY);
	else if (ms != 0 && ms % MS_PER_HOUR == 0)
		snprintf(buf, len, "%ldh", ms / MS_PER_HOUR);
	else if (ms != 0 && ms % MS_PER_MIN == 0)
		snprintf(buf, len, "%ldm", ms / MS_PER_MIN);
	else if (ms % MS_PER_S == 0)
		snprintf(buf, len, "%lds", ms / MS_PER_S);
	else
		snprintf(buf, len, "%ldms", ms);
}

/* ---- syntax checks ---- */

static int check_host(const char *host, int family)
{
	unsigned char addr[16];
	char buf[256];
	size_t len = strlen(host);
	if (len >= sizeof buf)
		return -1;
	if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
		memcpy(buf, host + 1, len - 2);
		buf[len - 2] = '\0';
		return inet_pton(AF_INET6, buf, addr) == 1 ? 0 : -1;
	}
	if (family == AF_INET6)
		return inet_pton(AF_INET6, host, addr) == 1 ||
		    ds_hostname_valid(host, 0) ? 0 : -1;
	return inet_pton(AF_INET, host, addr) == 1 ||
	    ds_hostname_valid(host, 0) ? 0 : -1;
}

/*
 * 0 when spec is a listening socket in the grammar of lib/listen.c:
 * unix:/path, local:/path (or a bare /path), inet:PORT@HOST, inet:HOST:PORT,
 * inet:[HOST]:PORT, inet:PORT (any address), and the same with inet6.
 * On top of what ds_listen_spec_valid() checks, a host must be an address
 * of the right family or a valid host name ("*" means any address).
 */
int ds_config_check_socket(const char *spec)
{
	char scratch[256];
	if (ds_listen_spec_valid(spec, scratch, sizeof scratch) != 0)
		return -1;
	if (spec[0] == '/' || strncasecmp(spec, "unix:", 5) == 0 ||
	    strncasecmp(spec, "local:", 6) == 0)
		return 0;   /* absolute path and length already checked */

	int family = strncasecmp(spec, "inet6:", 6) == 0 ? AF_INET6 : AF_INET;
	const char *v = strchr(spec, ':') + 1;
	char host[256] = "";
	const char *at = strchr(v, '@');
	const char *colon = strrchr(v, ':');
	size_t hlen = 0;
	const char *hstart = NULL;

	if (at != NULL) {
		hstart = at + 1;
		hlen = strlen(hstart);
	} else if (v[0] == '[') {
		hstart = v;   /* "[addr]" up to the last colon */
		hlen = (size_t)(colon - v);
	} else if (colon != NULL) {
		hstart = v;
		hlen = (size_t)(colon - v);
	}
	if (hstart == NULL || hlen == 0)
		return 0;   /* PORT alone: any address */
	if (hlen >= sizeof host)
		return -1;
	memcpy(host, hstart, hlen);
	host[hlen] = '\0';
	if (strcmp(host, "*") == 0)
		return 0;
	return check_host(host, family);
}

int ds_config_check_cidr(const char *s)
{
	char addr[INET6_ADDRSTRLEN + 1];
	unsigned char bin[16];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	int max_bits;

	if (alen == 0 || alen >= sizeof addr)
		return -1;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, bin) == 1)
		max_bits = 32;
	else if (inet_pton(AF_INET6, addr, bin) == 1)
		max_bits = 128;
	else
		return -1;
	if (slash == NULL)
		return 0;
	long bits;
	const char *rest = ds_config_parse_number(slash + 1, &bits);
	return rest != NULL && *rest == '\0' && bits <= max_bits ? 0 : -1;
}

int ds_config_check_proxy(const char *url)
{
	static const char *schemes[] = {
		"http://", "https://", "socks4://", "socks4a://", "socks5://",
		"socks5h://",
	};
	for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
		size_t n = strlen(schemes[i]);
		if (strncasecmp(url, schemes[i], n) != 0)
			continue;
		const char *host = url + n;
		if (*host == '\0' || *host == '/' || *host == ':')
			return -1;
		for (const char *p = host; *p; p++)
			if (!isgraph((unsigned char)*p))
				return -1;
		return 0;
	}
	return -1;
}

const char *ds_mask_url_secret(const char *url, char *out, size_t outlen)
{
	const char *scheme = strstr(url, "://");
	const char *auth = scheme ? scheme + 3 : url;
	const char *end = auth + strcspn(auth, "/?#");
	const char *at = NULL, *colon;

	for (const char *p = auth; p < end; p++)
		if (*p == '@')
			at = p;     /* the last '@' ends the userinfo */
	colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
	if (colon == NULL) {
		snprintf(out, outlen, "%s", url);
		return out;
	}
	snprintf(out, outlen, "%.*s:****%s", (int)(colon - url), url, at);
	return out;
}

int ds_config_parse_log_level(const char *s, int *out)
{
	static const struct { const char *name; int level; } levels[] = {
		{ "err", LOG_ERR }, { "error", LOG_ERR },
		{ "warning", LOG_WARNING }, { "warn", LOG_WARNING },
		{ "notice", LOG_NOTICE }, { "info", LOG_INFO },
		{ "debug", LOG_DEBUG },
	};
	for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++)
		if (strcasecmp(s, levels[i].name) == 0) {
			*out = levels[i].level;
			return 0;
		}
	return -1;
}

int ds_config_check_token(const char *s, const char *extra)
{
	if (*s == '\0')
		return -1;
	for (const char *p = s; *p; p++)
		if (!(isascii((unsigned char)*p) && isalnum((unsigned char)*p)) &&
		    strchr(extra, *p) == NULL)
			return -1;
	return 0;
}

int ds_config_check_header_name(const char *s)
{
	if (*s == '\0' || strlen(s) > 76)
		return -1;
	for (const char *p = s; *p; p++)
		if (*p < 33 || *p > 126 || *p == ':')
			return -1;
	return 0;
}
