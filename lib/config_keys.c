/*
 * config_keys.c - the keys of the configuration file: their defaults, the
 * table of names, kinds and limits, and how each value is checked and
 * stored (files that must exist, numbers in range, sockets, users, ...).
 * Reading the file itself is lib/config.c.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <grp.h>
#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>
#include <errno.h>
#include "config_internal.h"
#include "domsec/log.h"
#include "domsec/names.h"
#include "domsec/outbound.h"

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
	cfg->crl_download_timeout_ms = 10 * MS_PER_MIN;
	cfg->crl_low_speed_limit = 0;
	cfg->crl_low_speed_time_s = 60;
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
	cfg->max_forged_headers = 1000;
	cfg->socket_mode = 0660;
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
	free(cfg->crl_no_proxy);
	free(cfg->milter_socket);
	free(cfg->policy_socket);
	free(cfg->socketmap_socket);
	free(cfg->metrics_socket);
	free(cfg->pid_file);
	free(cfg->state_dir);
	free(cfg->user);
	free(cfg->authserv_id);
	free(cfg->header_name);
	ds_strlist_free(&cfg->trusted_relays);
	free(cfg->socket_owner);
	free(cfg->socket_group);
	ds_strlist_free(&cfg->peer_users);
	ds_strlist_free(&cfg->peer_addresses);
	free(cfg->helo_name);
	free(cfg->outbound_transport);
	free(cfg->postfix_header_checks);
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
	K_OPT_PATH,   /* string: a path (not checked), or "no" = NULL */
	K_RELAYS,     /* list of addresses or CIDR blocks */
	K_TRANSPORT,  /* string: Postfix transport name [A-Za-z0-9_.-]+ */
	K_GROUP,      /* string: an existing group */
	K_MODE,       /* int: octal file mode 0..0777 */
	K_USERS,      /* list of existing user names */
	K_HOSTS,      /* string: host names, domains or addresses, joined
	                 with commas; "none" = NULL */
};

struct ds_config_key {
	const char *name;
	enum kind kind;
	size_t offset;
	int repeatable;   /* value type is struct ds_strlist */
	long min, max;    /* for numbers, in the field's unit */
};

#define F(field) offsetof(struct ds_config, field)

static const struct ds_config_key keys[] = {
	{ "CAFile", K_CERT_FILE, F(ca_file), 0, 0, 0 },
	{ "CAPath", K_DIR, F(ca_path), 0, 0, 0 },
	{ "ChainFile", K_CERT_FILE, F(chain_files), 1, 0, 0 },
	{ "PartnerTable", K_PARTNERS, F(partner_table), 0, 0, 0 },
	{ "PinnedCertDir", K_DIR, F(pinned_cert_dir), 0, 0, 0 },
	{ "CRLCacheDir", K_PATH, F(crl_cache_dir), 0, 0, 0 },
	/* not checked here: an unusable CRL file is reported and skipped
	 * when the engine loads it, never fatal (issue 7) */
	{ "CRLFile", K_PATH, F(crl_files), 1, 0, 0 },
	{ "CRLConnectTimeout", K_DURATION_MS, F(crl_connect_timeout_ms), 0,
	  1, 10 * MS_PER_MIN },
	{ "CRLTimeout", K_DURATION_MS, F(crl_timeout_ms), 0, 1, MS_PER_HOUR },
	{ "CRLDownloadTimeout", K_DURATION_MS, F(crl_download_timeout_ms), 0,
	  1, 24 * MS_PER_HOUR },
	{ "CRLLowSpeedLimit", K_SIZE, F(crl_low_speed_limit), 0, 0,
	  1024L * 1024 * 1024 },
	{ "CRLLowSpeedTime", K_DURATION_S, F(crl_low_speed_time_s), 0, 1, 3600 },
	{ "CRLMaxSize", K_SIZE, F(crl_max_size), 0, 1024, 4L * 1024 * 1024 * 1024 },
	{ "CRLProxy", K_PROXY, F(crl_proxy), 0, 0, 0 },
	{ "CRLNoProxy", K_HOSTS, F(crl_no_proxy), 0, 0, 0 },
	{ "CRLProxyLDAP", K_BOOL, F(crl_proxy_ldap), 0, 0, 0 },
	{ "CRLMaxRedirects", K_COUNT, F(crl_max_redirects), 0, 0, 20 },
	{ "CRLGrace", K_DURATION_S, F(crl_grace_s), 0, 0, 30 * 86400 },
	{ "CRLRefreshBefore", K_DURATION_S, F(crl_refresh_before_s), 0,
	  0, 30 * 86400 },
	{ "CRLRetryBackoff", K_DURATION_S, F(crl_retry_backoff_s), 0,
	  1, 86400 },
	{ "MilterSocket", K_SOCKET, F(milter_socket), 0, 0, 0 },
	{ "PolicySocket", K_SOCKET, F(policy_socket), 0, 0, 0 },
	{ "SocketmapSocket", K_SOCKET, F(socketmap_socket), 0, 0, 0 },
	{ "MetricsSocket", K_SOCKET, F(metrics_socket), 0, 0, 0 },
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
	{ "MaxForgedHeaders", K_COUNT, F(max_forged_headers), 0, 1, 100000 },
	{ "PostfixHeaderChecks", K_OPT_PATH, F(postfix_header_checks), 0,
	  0, 0 },
	{ "SocketOwner", K_USER, F(socket_owner), 0, 0, 0 },
	{ "SocketGroup", K_GROUP, F(socket_group), 0, 0, 0 },
	{ "SocketMode", K_MODE, F(socket_mode), 0, 0, 0 },
	{ "PeerUsers", K_USERS, F(peer_users), 1, 0, 0 },
	{ "PeerAddresses", K_RELAYS, F(peer_addresses), 1, 0, 0 },
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

_Static_assert(NKEYS <= DS_CONFIG_MAX_KEYS, "raise DS_CONFIG_MAX_KEYS");

const struct ds_config_key *ds_config_find_key(const char *name, size_t *index)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcasecmp(name, keys[i].name) == 0) {
			*index = i;
			return &keys[i];
		}
	return NULL;
}

const char *ds_config_key_display_name(const struct ds_config_key *k)
{
	return k->name;
}

int ds_config_key_repeatable(const struct ds_config_key *k)
{
	return k->repeatable;
}

static int check_file(struct ds_config_reader *rd, const char *key,
    const char *path, int must_hold_certs)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return ds_config_fail(rd, "%s: %s: %s", key, path,
		    strerror(errno));
	if (!S_ISREG(st.st_mode))
		return ds_config_fail(rd, "%s: %s: not a regular file", key,
		    path);
	if (access(path, R_OK) != 0)
		return ds_config_fail(rd, "%s: %s: cannot read: %s", key, path,
		    strerror(errno));
	if (!must_hold_certs)
		return 0;
	char why[256];
	if (ds_config_check_cert_file(path, why, sizeof why) != 0)
		return ds_config_fail(rd, "%s: %s: %s", key, path, why);
	return 0;
}

static int check_dir(struct ds_config_reader *rd, const char *key,
    const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return ds_config_fail(rd, "%s: %s: %s", key, path,
		    strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return ds_config_fail(rd, "%s: %s: not a directory", key, path);
	return 0;
}

/* ---- applying one key ---- */

static int store_string(struct ds_config_reader *rd,
    const struct ds_config_key *k, const char *value)
{
	char **field = (char **)((char *)&rd->cfg + k->offset);
	char *copy = strdup(value);
	if (copy == NULL)
		return ds_config_fail(rd, "out of memory");
	free(*field);
	*field = copy;
	return 0;
}

static int store_list(struct ds_config_reader *rd,
    const struct ds_config_key *k, const char *value)
{
	struct ds_strlist *list =
	    (struct ds_strlist *)((char *)&rd->cfg + k->offset);
	if (ds_strlist_add(list, value) != 0)
		return ds_config_fail(rd, "out of memory");
	return 0;
}

static int store_path(struct ds_config_reader *rd,
    const struct ds_config_key *k, const char *value)
{
	char *full = ds_config_resolve_path(rd->path, value);
	if (full == NULL)
		return ds_config_fail(rd, "out of memory");
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
		rc = k->repeatable ? store_list(rd, k, full) :
		    store_string(rd, k, full);
	free(full);
	return rc;
}

static int store_number(struct ds_config_reader *rd,
    const struct ds_config_key *k, const char *value)
{
	long v;
	char lo[32], hi[32], got[32];

	switch (k->kind) {
	case K_DURATION_MS:
	case K_DURATION_S:
		if (ds_parse_duration_ms(value, &v) != 0)
			return ds_config_fail(rd, "%s: \"%s\" is not a duration "
			    "(a number with ms, s, m, h or d; seconds when "
			    "bare)", k->name, value);
		long unit = k->kind == K_DURATION_S ? MS_PER_S : 1;
		ds_config_format_ms(v, got, sizeof got);
		ds_config_format_ms(k->min * unit, lo, sizeof lo);
		ds_config_format_ms(k->max * unit, hi, sizeof hi);
		if (v % unit != 0)
			return ds_config_fail(rd, "%s: %s is not a whole number "
			    "of seconds", k->name, value);
		v /= unit;
		if (v < k->min || v > k->max)
			return ds_config_fail(rd, "%s: %s is out of range (%s "
			    "to %s)", k->name, got, lo, hi);
		break;
	case K_SIZE:
		if (ds_parse_size(value, &v) != 0)
			return ds_config_fail(rd, "%s: \"%s\" is not a size (a "
			    "number of bytes, optionally with k, M or G)",
			    k->name, value);
		if ((v < k->min || v > k->max) && k->min == 1024)
			return ds_config_fail(rd, "%s: %s is out of range (1k "
			    "to 4G)", k->name, value);
		if (v < k->min || v > k->max)
			return ds_config_fail(rd, "%s: %s is out of range (%ld "
			    "to %ld bytes)", k->name, value, k->min, k->max);
		break;
	default: {
		const char *rest = ds_config_parse_number(value, &v);
		if (rest == NULL || *rest != '\0' || v < k->min || v > k->max)
			return ds_config_fail(rd, "%s: \"%s\" is not a number "
			    "from %ld to %ld", k->name, value, k->min, k->max);
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

static int store_int(struct ds_config_reader *rd,
    const struct ds_config_key *k, int v)
{
	*(int *)((char *)&rd->cfg + k->offset) = v;
	return 0;
}

static int store_relays(struct ds_config_reader *rd,
    const struct ds_config_key *k, char *value)
{
	char *save = NULL;
	int count = 0;
	for (char *tok = strtok_r(value, ", \t", &save); tok != NULL;
	    tok = strtok_r(NULL, ", \t", &save)) {
		if (ds_config_check_cidr(tok) != 0)
			return ds_config_fail(rd, "%s: \"%s\" is not an IP "
			    "address or CIDR block (such as 192.0.2.0/24 or "
			    "2001:db8::/32)", k->name, tok);
		if (store_list(rd, k, tok) != 0)
			return -1;
		count++;
	}
	if (count == 0)
		return ds_config_fail(rd, "%s needs at least one address",
		    k->name);
	return 0;
}

static int store_hosts(struct ds_config_reader *rd,
    const struct ds_config_key *k, char *value)
{
	char *save = NULL, joined[1024] = "";
	size_t len = 0;
	char **field = (char **)((char *)&rd->cfg + k->offset);

	if (strcasecmp(value, "none") == 0) {
		free(*field);
		*field = NULL;
		return 0;
	}
	for (char *tok = strtok_r(value, ", \t", &save); tok != NULL;
	    tok = strtok_r(NULL, ", \t", &save)) {
		int n;
		if (ds_config_check_token(tok, ".-_:*/[]") != 0)
			return ds_config_fail(rd, "%s: \"%s\" is not a host "
			    "name, domain (.example.com) or address", k->name,
			    tok);
		n = snprintf(joined + len, sizeof joined - len, "%s%s",
		    len ? "," : "", tok);
		if (n < 0 || (size_t)n >= sizeof joined - len)
			return ds_config_fail(rd, "%s: too long", k->name);
		len += (size_t)n;
	}
	if (len == 0)
		return ds_config_fail(rd, "%s needs at least one host", k->name);
	return store_string(rd, k, joined);
}

static int store_users(struct ds_config_reader *rd,
    const struct ds_config_key *k, char *value)
{
	char *save = NULL;
	int count = 0;
	for (char *tok = strtok_r(value, ", \t", &save); tok != NULL;
	    tok = strtok_r(NULL, ", \t", &save)) {
		if (ds_config_check_token(tok, "._-") != 0 || getpwnam(tok) == NULL)
			return ds_config_fail(rd, "%s: no such user \"%s\"",
			    k->name, tok);
		if (store_list(rd, k, tok) != 0)
			return -1;
		count++;
	}
	if (count == 0)
		return ds_config_fail(rd, "%s needs at least one user", k->name);
	return 0;
}

int ds_config_apply(struct ds_config_reader *rd,
    const struct ds_config_key *k, char *value)
{
	int v;

	switch (k->kind) {
	case K_FILE:
	case K_CERT_FILE:
	case K_DIR:
	case K_PATH:
	case K_PARTNERS:
		return store_path(rd, k, value);
	case K_OPT_PATH:
		if (strcasecmp(value, "no") == 0 ||
		    strcasecmp(value, "none") == 0) {
			char **field = (char **)((char *)&rd->cfg + k->offset);
			free(*field);
			*field = NULL;
			return 0;
		}
		return store_path(rd, k, value);
	case K_DURATION_MS:
	case K_DURATION_S:
	case K_SIZE:
	case K_COUNT:
	case K_PORT:
		return store_number(rd, k, value);
	case K_BOOL:
		if (ds_parse_bool(value, &v) != 0)
			return ds_config_fail(rd, "%s: \"%s\" is not yes or no",
			    k->name, value);
		return store_int(rd, k, v);
	case K_FACILITY:
		if ((v = ds_log_facility_parse(value)) < 0)
			return ds_config_fail(rd, "%s: unknown syslog facility "
			    "\"%s\" (mail, daemon, user, local0 to local7)",
			    k->name, value);
		return store_int(rd, k, v);
	case K_LOGLEVEL:
		if (ds_config_parse_log_level(value, &v) != 0)
			return ds_config_fail(rd, "%s: unknown log level \"%s\" "
			    "(err, warning, notice, info, debug)", k->name,
			    value);
		return store_int(rd, k, v);
	case K_SOCKET:
		if (ds_config_check_socket(value) != 0)
			return ds_config_fail(rd, "%s: \"%s\" is not a socket "
			    "(unix:/path, local:/path, inet:PORT@HOST, "
			    "inet:HOST:PORT or inet6:PORT@HOST; PORT 0-65535)",
			    k->name, value);
		return store_string(rd, k, value);
	case K_USER:
		if (ds_config_check_token(value, "._-") != 0 ||
		    getpwnam(value) == NULL)
			return ds_config_fail(rd, "%s: no such user \"%s\"",
			    k->name, value);
		return store_string(rd, k, value);
	case K_AUTHSERV:
		/* At most 255 bytes (a host name), with at least one letter or
		 * digit: forged Authentication-Results are recognised by it. */
		if (ds_config_check_token(value, ".-_") != 0 ||
		    strlen(value) > 255 || strspn(value, ".-_") == strlen(value))
			return ds_config_fail(rd, "%s: \"%s\" is not a valid "
			    "authserv-id (up to 255 letters, digits, '.', '-', "
			    "'_', not only punctuation; usually this host's name)",
			    k->name, value);
		return store_string(rd, k, value);
	case K_HEADERNAME:
		if (ds_config_check_header_name(value) != 0)
			return ds_config_fail(rd, "%s: \"%s\" is not a valid "
			    "header field name", k->name, value);
		return store_string(rd, k, value);
	case K_HOSTNAME:
		if (!ds_hostname_valid(value, 0))
			return ds_config_fail(rd, "%s: \"%s\" is not a valid "
			    "host name", k->name, value);
		return store_string(rd, k, value);
	case K_PROXY:
		if (strcasecmp(value, "none") == 0) {
			char **field = (char **)((char *)&rd->cfg + k->offset);
			free(*field);
			*field = NULL;
			return 0;
		}
		if (ds_config_check_proxy(value) != 0) {
			char masked[512];
			return ds_config_fail(rd, "%s: \"%s\" is not a proxy "
			    "URL (such as http://proxy.example:3128) or none",
			    k->name, ds_mask_url_secret(value, masked,
			    sizeof masked));
		}
		return store_string(rd, k, value);
	case K_RELAYS:
		return store_relays(rd, k, value);
	case K_GROUP:
		if (ds_config_check_token(value, "._-") != 0 ||
		    getgrnam(value) == NULL)
			return ds_config_fail(rd, "%s: no such group \"%s\"",
			    k->name, value);
		return store_string(rd, k, value);
	case K_MODE: {
		char *end;
		long mode = strtol(value, &end, 8);
		if (value[0] == '\0' || *end != '\0' || mode < 0 || mode > 0777)
			return ds_config_fail(rd, "%s: \"%s\" is not an octal "
			    "mode such as 0660", k->name, value);
		return store_int(rd, k, (int)mode);
	}
	case K_USERS:
		return store_users(rd, k, value);
	case K_HOSTS:
		return store_hosts(rd, k, value);
	case K_TRANSPORT:
		if (ds_config_check_token(value, "_.-") != 0 ||
		    strlen(value) > DS_CONFIG_TRANSPORT_MAX)
			return ds_config_fail(rd, "%s: \"%s\" is not a Postfix "
			    "transport name (letters, digits, '_', '.', '-'; at "
			    "most %d characters), such as domsec-partner",
			    k->name, value, DS_CONFIG_TRANSPORT_MAX);
		return store_string(rd, k, value);
	}
	return ds_config_fail(rd, "%s: internal error: unhandled key type",
	    k->name);
}
