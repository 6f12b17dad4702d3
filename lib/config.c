/*
 * config.c - reads the main configuration file (format in
 * include/domsec/config.h, every key documented in conf/domsec.conf and
 * domsec.conf(5)).
 *
 * The file is read into a private struct and validated completely (values,
 * files that must exist, the partner table it names) before anything is
 * copied to the caller: a file with any error is never half-applied.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include "domsec/config.h"
#include "domsec/listen.h"
#include "domsec/log.h"
#include "domsec/names.h"
#include "domsec/outbound.h"

#define MS_PER_S 1000L
#define MS_PER_MIN (60L * MS_PER_S)
#define MS_PER_HOUR (60L * MS_PER_MIN)
#define MS_PER_DAY (24L * MS_PER_HOUR)

/* ---- value parsers shared with the partner table and the tools ---- */

/* Parses leading decimal digits of s into *out; returns the rest, or NULL
 * when there are no digits or the number overflows. */
static const char *parse_number(const char *s, long *out)
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

	if (s == NULL || (rest = parse_number(s, &n)) == NULL)
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

	if (s == NULL || (rest = parse_number(s, &n)) == NULL)
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

/* ---- defaults ---- */

static char *host_name(void)
{
	char buf[256];
	if (gethostname(buf, sizeof buf) != 0 || buf[0] == '\0')
		return strdup("localhost");
	buf[sizeof buf - 1] = '\0';
	return strdup(buf);
}

void ds_config_defaults(struct ds_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->crl_cache_dir = strdup("/var/cache/domsec/crl");
	cfg->crl_connect_timeout_ms = 5 * MS_PER_S;
	cfg->crl_timeout_ms = 15 * MS_PER_S;
	cfg->crl_max_size = 256L * 1024 * 1024;
	cfg->crl_max_redirects = 3;
	cfg->crl_grace_s = 0;
	cfg->crl_refresh_before_s = 3600;
	cfg->crl_retry_backoff_s = 30;
	cfg->state_dir = strdup("/var/lib/domsec");
	cfg->syslog = 1;
	cfg->syslog_facility = LOG_MAIL;
	cfg->log_level = LOG_INFO;
	cfg->authserv_id = host_name();
	cfg->header_name = strdup("X-Domain-Secured");
	cfg->add_auth_results = 1;
	cfg->exchange_headers = 0;
	cfg->discovery = 1;
	cfg->probe_port = 25;
	cfg->probe_timeout_ms = 10 * MS_PER_S;
	cfg->discovery_ttl_s = 86400;
	cfg->discovery_negative_ttl_s = 600;
	cfg->helo_name = host_name();
	cfg->outbound_ttl_s = 3600;
	cfg->outbound_transport = strdup(DS_OUTBOUND_TRANSPORT_DEFAULT);
}

void ds_config_free(struct ds_config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->source_path);
	free(cfg->ca_file);
	free(cfg->ca_path);
	ds_strlist_free(&cfg->chain_files);
	free(cfg->partner_table);
	ds_partners_free(&cfg->partners);
	free(cfg->pinned_cert_dir);
	free(cfg->crl_cache_dir);
	ds_strlist_free(&cfg->crl_files);
	free(cfg->crl_proxy);
	free(cfg->milter_socket);
	free(cfg->policy_socket);
	free(cfg->socketmap_socket);
	free(cfg->pid_file);
	free(cfg->state_dir);
	free(cfg->user);
	free(cfg->authserv_id);
	free(cfg->header_name);
	ds_strlist_free(&cfg->trusted_relays);
	free(cfg->helo_name);
	free(cfg->outbound_transport);
	memset(cfg, 0, sizeof *cfg);
}

/* ---- the key table ---- */

enum kind {
	K_FILE,       /* string: a readable regular file */
	K_CERT_FILE,  /* string or list: a file holding PEM certificates */
	K_DIR,        /* string: an existing directory */
	K_PATH,       /* string: a path, not checked (created at run time) */
	K_PARTNERS,   /* string: the partner table, loaded */
	K_DURATION_MS,/* long, milliseconds */
	K_DURATION_S, /* long, whole seconds */
	K_SIZE,       /* long, bytes */
	K_COUNT,      /* long, plain number */
	K_PORT,       /* int, 1..65535 */
	K_BOOL,       /* int */
	K_SOCKET,     /* string: listening socket spec */
	K_FACILITY,   /* int: syslog facility */
	K_LOGLEVEL,   /* int: syslog level */
	K_USER,       /* string: an existing user */
	K_AUTHSERV,   /* string: authserv-id token */
	K_HEADERNAME, /* string: header field name */
	K_HOSTNAME,   /* string: host name */
	K_PROXY,      /* string: proxy URL, or "none" */
	K_RELAYS,     /* list of addresses or CIDR blocks */
	K_TRANSPORT,  /* string: Postfix transport name [A-Za-z0-9_.-]+ */
};

struct key {
	const char *name;
	enum kind kind;
	size_t offset;
	int repeatable;   /* value type is struct ds_strlist */
	long min, max;    /* for numbers, in the field's unit */
};

#define F(field) offsetof(struct ds_config, field)

static const struct key keys[] = {
	{ "CAFile", K_CERT_FILE, F(ca_file), 0, 0, 0 },
	{ "CAPath", K_DIR, F(ca_path), 0, 0, 0 },
	{ "ChainFile", K_CERT_FILE, F(chain_files), 1, 0, 0 },
	{ "PartnerTable", K_PARTNERS, F(partner_table), 0, 0, 0 },
	{ "PinnedCertDir", K_DIR, F(pinned_cert_dir), 0, 0, 0 },
	{ "CRLCacheDir", K_PATH, F(crl_cache_dir), 0, 0, 0 },
	{ "CRLFile", K_FILE, F(crl_files), 1, 0, 0 },
	{ "CRLConnectTimeout", K_DURATION_MS, F(crl_connect_timeout_ms), 0,
	  1, 10 * MS_PER_MIN },
	{ "CRLTimeout", K_DURATION_MS, F(crl_timeout_ms), 0, 1, MS_PER_HOUR },
	{ "CRLMaxSize", K_SIZE, F(crl_max_size), 0, 1024, 4L * 1024 * 1024 * 1024 },
	{ "CRLProxy", K_PROXY, F(crl_proxy), 0, 0, 0 },
	{ "CRLMaxRedirects", K_COUNT, F(crl_max_redirects), 0, 0, 20 },
	{ "CRLGrace", K_DURATION_S, F(crl_grace_s), 0, 0, 30 * 86400 },
	{ "CRLRefreshBefore", K_DURATION_S, F(crl_refresh_before_s), 0,
	  0, 30 * 86400 },
	{ "CRLRetryBackoff", K_DURATION_S, F(crl_retry_backoff_s), 0,
	  1, 86400 },
	{ "MilterSocket", K_SOCKET, F(milter_socket), 0, 0, 0 },
	{ "PolicySocket", K_SOCKET, F(policy_socket), 0, 0, 0 },
	{ "SocketmapSocket", K_SOCKET, F(socketmap_socket), 0, 0, 0 },
	{ "PidFile", K_PATH, F(pid_file), 0, 0, 0 },
	{ "StateDir", K_PATH, F(state_dir), 0, 0, 0 },
	{ "Syslog", K_BOOL, F(syslog), 0, 0, 0 },
	{ "SyslogFacility", K_FACILITY, F(syslog_facility), 0, 0, 0 },
	{ "LogLevel", K_LOGLEVEL, F(log_level), 0, 0, 0 },
	{ "UserID", K_USER, F(user), 0, 0, 0 },
	{ "AuthservID", K_AUTHSERV, F(authserv_id), 0, 0, 0 },
	{ "HeaderName", K_HEADERNAME, F(header_name), 0, 0, 0 },
	{ "AuthenticationResults", K_BOOL, F(add_auth_results), 0, 0, 0 },
	{ "ExchangeHeaders", K_BOOL, F(exchange_headers), 0, 0, 0 },
	{ "TrustedRelays", K_RELAYS, F(trusted_relays), 1, 0, 0 },
	{ "Discovery", K_BOOL, F(discovery), 0, 0, 0 },
	{ "ProbePort", K_PORT, F(probe_port), 0, 1, 65535 },
	{ "ProbeTimeout", K_DURATION_MS, F(probe_timeout_ms), 0,
	  1, 10 * MS_PER_MIN },
	{ "DiscoveryCacheTTL", K_DURATION_S, F(discovery_ttl_s), 0,
	  0, 365 * 86400 },
	{ "DiscoveryNegativeTTL", K_DURATION_S, F(discovery_negative_ttl_s), 0,
	  0, 365 * 86400 },
	{ "HeloName", K_HOSTNAME, F(helo_name), 0, 0, 0 },
	{ "OutboundCacheTTL", K_DURATION_S, F(outbound_ttl_s), 0,
	  0, 30 * 86400 },
	{ "OutboundTransport", K_TRANSPORT, F(outbound_transport), 0, 0, 0 },
};

#define NKEYS (sizeof keys / sizeof keys[0])

const char *ds_config_key_name(size_t i)
{
	return i < NKEYS ? keys[i].name : NULL;
}

struct reader {
	const char *path;
	int line;
	char *err;
	size_t errlen;
	struct ds_config cfg;
	int seen_line[NKEYS];     /* line where each key was set, 0 = not */
};

__attribute__((format(printf, 2, 3)))
static int fail(struct reader *rd, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(rd->err, rd->errlen, "%s:%d: %s", rd->path, rd->line, msg);
	return -1;
}

/* Writes a duration in the largest unit that divides it ("90s", "1h"). */
static void format_ms(long ms, char *buf, size_t len)
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
static int check_socket(const char *spec)
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

static int check_cidr(const char *s)
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
	const char *rest = parse_number(slash + 1, &bits);
	return rest != NULL && *rest == '\0' && bits <= max_bits ? 0 : -1;
}

static int check_proxy(const char *url)
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

static int parse_log_level(const char *s, int *out)
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

static int check_token(const char *s, const char *extra)
{
	if (*s == '\0')
		return -1;
	for (const char *p = s; *p; p++)
		if (!(isascii((unsigned char)*p) && isalnum((unsigned char)*p)) &&
		    strchr(extra, *p) == NULL)
			return -1;
	return 0;
}

static int check_header_name(const char *s)
{
	if (*s == '\0' || strlen(s) > 76)
		return -1;
	for (const char *p = s; *p; p++)
		if (*p < 33 || *p > 126 || *p == ':')
			return -1;
	return 0;
}

static int check_file(struct reader *rd, const char *key, const char *path,
    int must_hold_certs)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return fail(rd, "%s: %s: %s", key, path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return fail(rd, "%s: %s: not a regular file", key, path);
	if (access(path, R_OK) != 0)
		return fail(rd, "%s: %s: cannot read: %s", key, path, strerror(errno));
	if (!must_hold_certs)
		return 0;
	char why[256];
	if (ds_config_check_cert_file(path, why, sizeof why) != 0)
		return fail(rd, "%s: %s: %s", key, path, why);
	return 0;
}

static int check_dir(struct reader *rd, const char *key, const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return fail(rd, "%s: %s: %s", key, path, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return fail(rd, "%s: %s: not a directory", key, path);
	return 0;
}

/* ---- applying one key ---- */

static int store_string(struct reader *rd, const struct key *k,
    const char *value)
{
	char **field = (char **)((char *)&rd->cfg + k->offset);
	char *copy = strdup(value);
	if (copy == NULL)
		return fail(rd, "out of memory");
	free(*field);
	*field = copy;
	return 0;
}

static int store_list(struct reader *rd, const struct key *k, const char *value)
{
	struct ds_strlist *list = (struct ds_strlist *)((char *)&rd->cfg + k->offset);
	if (ds_strlist_add(list, value) != 0)
		return fail(rd, "out of memory");
	return 0;
}

static int store_path(struct reader *rd, const struct key *k, const char *value)
{
	char *full = ds_config_resolve_path(rd->path, value);
	if (full == NULL)
		return fail(rd, "out of memory");
	int rc = 0;
	switch (k->kind) {
	case K_FILE:
	case K_PARTNERS:
		rc = check_file(rd, k->name, full, 0);
		break;
	case K_CERT_FILE:
		rc = check_file(rd, k->name, full, 1);
		break;
	case K_DIR:
		rc = check_dir(rd, k->name, full);
		break;
	default:
		break;
	}
	if (rc == 0)
		rc = k->repeatable ? store_list(rd, k, full) : store_string(rd, k, full);
	free(full);
	return rc;
}

static int store_number(struct reader *rd, const struct key *k,
    const char *value)
{
	long v;
	char lo[32], hi[32], got[32];

	switch (k->kind) {
	case K_DURATION_MS:
	case K_DURATION_S:
		if (ds_parse_duration_ms(value, &v) != 0)
			return fail(rd, "%s: \"%s\" is not a duration (a number with "
			    "ms, s, m, h or d; seconds when bare)", k->name, value);
		long unit = k->kind == K_DURATION_S ? MS_PER_S : 1;
		format_ms(v, got, sizeof got);
		format_ms(k->min * unit, lo, sizeof lo);
		format_ms(k->max * unit, hi, sizeof hi);
		if (v % unit != 0)
			return fail(rd, "%s: %s is not a whole number of seconds",
			    k->name, value);
		v /= unit;
		if (v < k->min || v > k->max)
			return fail(rd, "%s: %s is out of range (%s to %s)", k->name,
			    got, lo, hi);
		break;
	case K_SIZE:
		if (ds_parse_size(value, &v) != 0)
			return fail(rd, "%s: \"%s\" is not a size (a number of bytes, "
			    "optionally with k, M or G)", k->name, value);
		if (v < k->min || v > k->max)
			return fail(rd, "%s: %s is out of range (1k to 4G)", k->name,
			    value);
		break;
	default: {
		const char *rest = parse_number(value, &v);
		if (rest == NULL || *rest != '\0' || v < k->min || v > k->max)
			return fail(rd, "%s: \"%s\" is not a number from %ld to %ld",
			    k->name, value, k->min, k->max);
		if (k->kind == K_PORT) {
			*(int *)((char *)&rd->cfg + k->offset) = (int)v;
			return 0;
		}
		break;
	}
	}
	*(long *)((char *)&rd->cfg + k->offset) = v;
	return 0;
}

static int store_int(struct reader *rd, const struct key *k, int v)
{
	*(int *)((char *)&rd->cfg + k->offset) = v;
	return 0;
}

static int store_relays(struct reader *rd, const struct key *k, char *value)
{
	char *save = NULL;
	int count = 0;
	for (char *tok = strtok_r(value, ", \t", &save); tok != NULL;
	    tok = strtok_r(NULL, ", \t", &save)) {
		if (check_cidr(tok) != 0)
			return fail(rd, "%s: \"%s\" is not an IP address or CIDR block "
			    "(such as 192.0.2.0/24 or 2001:db8::/32)", k->name, tok);
		if (store_list(rd, k, tok) != 0)
			return -1;
		count++;
	}
	if (count == 0)
		return fail(rd, "%s needs at least one address", k->name);
	return 0;
}

static int apply(struct reader *rd, const struct key *k, char *value)
{
	int v;

	switch (k->kind) {
	case K_FILE:
	case K_CERT_FILE:
	case K_DIR:
	case K_PATH:
	case K_PARTNERS:
		return store_path(rd, k, value);
	case K_DURATION_MS:
	case K_DURATION_S:
	case K_SIZE:
	case K_COUNT:
	case K_PORT:
		return store_number(rd, k, value);
	case K_BOOL:
		if (ds_parse_bool(value, &v) != 0)
			return fail(rd, "%s: \"%s\" is not yes or no", k->name, value);
		return store_int(rd, k, v);
	case K_FACILITY:
		if ((v = ds_log_facility_parse(value)) < 0)
			return fail(rd, "%s: unknown syslog facility \"%s\" (mail, "
			    "daemon, user, local0 to local7)", k->name, value);
		return store_int(rd, k, v);
	case K_LOGLEVEL:
		if (parse_log_level(value, &v) != 0)
			return fail(rd, "%s: unknown log level \"%s\" (err, warning, "
			    "notice, info, debug)", k->name, value);
		return store_int(rd, k, v);
	case K_SOCKET:
		if (check_socket(value) != 0)
			return fail(rd, "%s: \"%s\" is not a socket (unix:/path, "
			    "local:/path, inet:PORT@HOST, inet:HOST:PORT or "
			    "inet6:PORT@HOST; PORT 0-65535)", k->name, value);
		return store_string(rd, k, value);
	case K_USER:
		if (check_token(value, "._-") != 0 || getpwnam(value) == NULL)
			return fail(rd, "%s: no such user \"%s\"", k->name, value);
		return store_string(rd, k, value);
	case K_AUTHSERV:
		if (check_token(value, ".-_") != 0)
			return fail(rd, "%s: \"%s\" is not a valid authserv-id (letters, "
			    "digits, '.', '-', '_'; usually this host's name)", k->name,
			    value);
		return store_string(rd, k, value);
	case K_HEADERNAME:
		if (check_header_name(value) != 0)
			return fail(rd, "%s: \"%s\" is not a valid header field name",
			    k->name, value);
		return store_string(rd, k, value);
	case K_HOSTNAME:
		if (!ds_hostname_valid(value, 0))
			return fail(rd, "%s: \"%s\" is not a valid host name", k->name,
			    value);
		return store_string(rd, k, value);
	case K_PROXY:
		if (strcasecmp(value, "none") == 0) {
			char **field = (char **)((char *)&rd->cfg + k->offset);
			free(*field);
			*field = NULL;
			return 0;
		}
		if (check_proxy(value) != 0)
			return fail(rd, "%s: \"%s\" is not a proxy URL (such as "
			    "http://proxy.example:3128) or none", k->name, value);
		return store_string(rd, k, value);
	case K_RELAYS:
		return store_relays(rd, k, value);
	case K_TRANSPORT:
		if (check_token(value, "_.-") != 0 ||
		    strlen(value) > DS_CONFIG_TRANSPORT_MAX)
			return fail(rd, "%s: \"%s\" is not a Postfix transport name "
			    "(letters, digits, '_', '.', '-'; at most %d characters), "
			    "such as domsec-partner", k->name, value,
			    DS_CONFIG_TRANSPORT_MAX);
		return store_string(rd, k, value);
	}
	return fail(rd, "%s: internal error: unhandled key type", k->name);
}

static const struct key *find_key(const char *name, size_t *index)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcasecmp(name, keys[i].name) == 0) {
			*index = i;
			return &keys[i];
		}
	return NULL;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t len = strlen(s);
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		s[--len] = '\0';
	return s;
}

static int parse_line(struct reader *rd, char *line)
{
	char *hash = strchr(line, '#');
	if (hash != NULL)
		*hash = '\0';
	char *s = trim(line);
	if (*s == '\0')
		return 0;
	char *name = s;
	while (*s && !isspace((unsigned char)*s))
		s++;
	if (*s)
		*s++ = '\0';
	char *value = trim(s);

	size_t index;
	const struct key *k = find_key(name, &index);
	if (k == NULL && strchr(name, '=') != NULL)
		return fail(rd, "\"%s\": write \"Key value\" (a space, not '=')",
		    name);
	if (k == NULL)
		return fail(rd, "unknown key \"%s\"", name);
	if (*value == '\0')
		return fail(rd, "%s needs a value", k->name);
	if (rd->seen_line[index] && !k->repeatable)
		return fail(rd, "%s is already set at line %d", k->name,
		    rd->seen_line[index]);
	rd->seen_line[index] = rd->line;
	return apply(rd, k, value);
}

static int line_of(const struct reader *rd, const char *name)
{
	size_t index;
	return find_key(name, &index) ? rd->seen_line[index] : 0;
}

/* Checks that involve several keys, and loads the partner table. */
static int finish(struct reader *rd)
{
	struct ds_config *c = &rd->cfg;
	if (c->crl_connect_timeout_ms > c->crl_timeout_ms) {
		char a[32], b[32];
		format_ms(c->crl_connect_timeout_ms, a, sizeof a);
		format_ms(c->crl_timeout_ms, b, sizeof b);
		int l1 = line_of(rd, "CRLConnectTimeout"), l2 = line_of(rd, "CRLTimeout");
		rd->line = l1 > l2 ? l1 : l2;
		return fail(rd, "CRLConnectTimeout (%s) is longer than CRLTimeout (%s)",
		    a, b);
	}
	const char *sockets[] = { "MilterSocket", "PolicySocket", "SocketmapSocket" };
	const char *values[] = { c->milter_socket, c->policy_socket,
	    c->socketmap_socket };
	for (int i = 0; i < 3; i++)
		for (int j = i + 1; j < 3; j++)
			if (values[i] != NULL && values[j] != NULL &&
			    strcasecmp(values[i], values[j]) == 0) {
				rd->line = line_of(rd, sockets[j]);
				return fail(rd, "%s: %s is already used by %s (line %d)",
				    sockets[j], values[j], sockets[i],
				    line_of(rd, sockets[i]));
			}
	if (c->partner_table != NULL &&
	    ds_partners_load(c->partner_table, &c->partners, rd->err,
	    rd->errlen) != 0)
		return -1;
	return 0;
}

int ds_config_load(const char *path, struct ds_config *out, char *err,
    size_t errlen)
{
	struct reader rd = { .path = path, .err = err, .errlen = errlen };
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;

	ds_config_defaults(&rd.cfg);
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		snprintf(err, errlen, "%s: cannot open configuration: %s", path,
		    strerror(errno));
		ds_config_free(&rd.cfg);
		return -1;
	}
	while ((n = getline(&line, &cap, f)) != -1) {
		rd.line++;
		if ((size_t)n != strlen(line)) {
			rc = fail(&rd, "line contains a NUL byte");
			break;
		}
		if ((rc = parse_line(&rd, line)) != 0)
			break;
	}
	if (rc == 0 && ferror(f)) {
		snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
		rc = -1;
	}
	free(line);
	fclose(f);
	if (rc == 0)
		rc = finish(&rd);
	if (rc == 0 && (rd.cfg.source_path = strdup(path)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		rc = -1;
	}
	if (rc == 0 && (rd.cfg.crl_cache_dir == NULL || rd.cfg.state_dir == NULL ||
	    rd.cfg.authserv_id == NULL || rd.cfg.header_name == NULL ||
	    rd.cfg.helo_name == NULL || rd.cfg.outbound_transport == NULL)) {
		snprintf(err, errlen, "%s: out of memory", path);
		rc = -1;
	}
	if (rc != 0) {
		ds_config_free(&rd.cfg);
		return -1;
	}
	*out = rd.cfg;
	return 0;
}
