/*
 * cmd_config.c - "domsecctl check-config [--config FILE]": reads the main
 * configuration and its partner table exactly as domsecd does, then prints
 * "configuration OK" and a summary (exit 0), or the first error with its
 * file and line (exit 78).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include "commands.h"
#include "domsec/config.h"
#include "domsec/partners.h"
#include "domsec/postfix_audit.h"
#include "domsec/verdict.h"

#define DEFAULT_CONFIG "/etc/domsec/domsec.conf"

static const char *duration(long ms, char *buf, size_t len)
{
	static const struct { long ms; const char *unit; } units[] = {
		{ 86400000L, "d" }, { 3600000L, "h" }, { 60000L, "m" },
		{ 1000L, "s" },
	};
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (ms != 0 && ms % units[i].ms == 0) {
			snprintf(buf, len, "%ld%s", ms / units[i].ms, units[i].unit);
			return buf;
		}
	snprintf(buf, len, ms == 0 ? "0s" : "%ldms", ms);
	return buf;
}

static const char *size(long bytes, char *buf, size_t len)
{
	if (bytes != 0 && bytes % (1024L * 1024 * 1024) == 0)
		snprintf(buf, len, "%ldG", bytes / (1024L * 1024 * 1024));
	else if (bytes != 0 && bytes % (1024L * 1024) == 0)
		snprintf(buf, len, "%ldM", bytes / (1024L * 1024));
	else if (bytes != 0 && bytes % 1024 == 0)
		snprintf(buf, len, "%ldk", bytes / 1024);
	else
		snprintf(buf, len, "%ld", bytes);
	return buf;
}

static const char *level_name(int level)
{
	switch (level) {
	case LOG_ERR: return "err";
	case LOG_WARNING: return "warning";
	case LOG_NOTICE: return "notice";
	case LOG_INFO: return "info";
	case LOG_DEBUG: return "debug";
	}
	return "?";
}

static const char *facility_name(int facility)
{
	static const struct { int value; const char *name; } names[] = {
		{ LOG_MAIL, "mail" }, { LOG_DAEMON, "daemon" }, { LOG_USER, "user" },
		{ LOG_LOCAL0, "local0" }, { LOG_LOCAL1, "local1" },
		{ LOG_LOCAL2, "local2" }, { LOG_LOCAL3, "local3" },
		{ LOG_LOCAL4, "local4" }, { LOG_LOCAL5, "local5" },
		{ LOG_LOCAL6, "local6" }, { LOG_LOCAL7, "local7" },
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (names[i].value == facility)
			return names[i].name;
	return "?";
}

static const char *on_off(const char *s)
{
	return s != NULL ? s : "off";
}

static void print_list(const char *title, const struct ds_strlist *l)
{
	printf("  %-22s", title);
	if (l->n == 0)
		printf(" none");
	for (size_t i = 0; i < l->n; i++)
		printf(" %s", l->v[i]);
	printf("\n");
}

static void print_partners(const struct ds_config *c)
{
	const struct ds_partner_table *t = &c->partners;
	if (c->partner_table == NULL) {
		printf("partners: none (no PartnerTable)\n");
		return;
	}
	printf("partners: %zu from %s\n", t->n, c->partner_table);
	for (size_t i = 0; i < t->n; i++) {
		const struct ds_partner *p = &t->v[i];
		char name[260];
		snprintf(name, sizeof name, "%s%s", p->subdomains ? "." : "",
		    p->domain);
		printf("  %-30s direction=%s mode=%s revocation=%s", name,
		    ds_direction_name(p->direction), ds_mode_name(p->mode),
		    ds_revocation_name(p->revocation));
		for (size_t j = 0; j < p->ca_files.n; j++)
			printf(" ca=%s", p->ca_files.v[j]);
		for (size_t j = 0; j < p->pin_files.n; j++)
			printf(" pin=%s", p->pin_files.v[j]);
		printf("\n");
	}
}

/* Settings that load but probably do not do what the administrator wants. */
static void print_notes(const struct ds_config *c)
{
	int receive = 0, send = 0;
	for (size_t i = 0; i < c->partners.n; i++) {
		receive += (c->partners.v[i].direction & DS_DIR_RECEIVE) != 0;
		send += (c->partners.v[i].direction & DS_DIR_SEND) != 0;
	}
	if (receive > 0 && c->milter_socket == NULL && c->policy_socket == NULL)
		printf("note: %d partner(s) in the receive direction, but neither "
		    "MilterSocket nor PolicySocket is set: domsecd will not see "
		    "inbound mail\n", receive);
	if (send > 0 && c->socketmap_socket == NULL)
		printf("note: %d partner(s) in the send direction, but "
		    "SocketmapSocket is not set: Postfix cannot ask domsecd for "
		    "outbound TLS policy\n", send);
	if (c->postfix_header_checks != NULL && c->trusted_relays.n > 0)
		printf("note: with PostfixHeaderChecks, Postfix removes the "
		    "trust headers of TrustedRelays too\n");
	if (c->partner_table != NULL && c->partners.n == 0)
		printf("note: the partner table %s lists no partner\n",
		    c->partner_table);
}

static void print_summary(const struct ds_config *c)
{
	char a[32], b[32], d[32], masked[512];

	printf("configuration OK: %s\n", c->source_path);
	print_partners(c);

	printf("trust:\n");
	printf("  %-22s %s\n", "CAFile", c->ca_file ? c->ca_file :
	    "(system default bundle)");
	printf("  %-22s %s\n", "CAPath", c->ca_path ? c->ca_path : "none");
	print_list("ChainFile", &c->chain_files);
	printf("  %-22s %s\n", "PinnedCertDir", c->pinned_cert_dir ?
	    c->pinned_cert_dir : "none");

	printf("sockets:\n");
	printf("  %-22s %s\n", "MilterSocket", on_off(c->milter_socket));
	printf("  %-22s %s\n", "PolicySocket", on_off(c->policy_socket));
	printf("  %-22s %s\n", "SocketmapSocket", on_off(c->socketmap_socket));

	printf("CRLs:\n");
	printf("  %-22s %s\n", "CRLCacheDir", c->crl_cache_dir);
	print_list("CRLFile", &c->crl_files);
	printf("  %-22s connect %s, total %s\n", "timeouts",
	    duration(c->crl_connect_timeout_ms, a, sizeof a),
	    duration(c->crl_timeout_ms, b, sizeof b));
	printf("  %-22s %s\n", "CRLDownloadTimeout",
	    duration(c->crl_download_timeout_ms, a, sizeof a));
	if (c->crl_low_speed_limit > 0)
		printf("  %-22s %ld bytes/s over %lds\n", "CRLLowSpeedLimit",
		    c->crl_low_speed_limit, c->crl_low_speed_time_s);
	else
		printf("  %-22s off\n", "CRLLowSpeedLimit");
	printf("  %-22s %s\n", "CRLMaxSize", size(c->crl_max_size, a, sizeof a));
	printf("  %-22s %s\n", "CRLProxy", c->crl_proxy ?
	    ds_mask_url_secret(c->crl_proxy, masked, sizeof masked) : "none");
	printf("  %-22s %s\n", "CRLNoProxy", c->crl_no_proxy ?
	    c->crl_no_proxy : "none");
	printf("  %-22s %s\n", "CRLProxyLDAP", c->crl_proxy_ldap ? "yes" : "no");
	printf("  %-22s %ld\n", "CRLMaxRedirects", c->crl_max_redirects);
	printf("  %-22s grace %s, refresh %s before nextUpdate\n", "reuse",
	    duration(c->crl_grace_s * 1000, a, sizeof a),
	    duration(c->crl_refresh_before_s * 1000, b, sizeof b));

	printf("headers:\n");
	printf("  %-22s %s\n", "HeaderName", c->header_name);
	printf("  %-22s %s\n", "AuthservID", c->authserv_id);
	printf("  %-22s %s\n", "AuthenticationResults",
	    c->add_auth_results ? "yes" : "no");
	printf("  %-22s %s\n", "ExchangeHeaders", c->exchange_headers ? "yes" : "no");
	print_list("TrustedRelays", &c->trusted_relays);
	if (c->postfix_header_checks != NULL) {
		struct ds_pf_audit a;
		int ok = ds_postfix_audit(c, NULL, &a);
		printf("  %-22s %s (%s)\n", "PostfixHeaderChecks",
		    c->postfix_header_checks, ok ? "audit passed: Postfix "
		    "applies it to every message" : a.why);
	} else {
		printf("  %-22s no\n", "PostfixHeaderChecks");
	}

	printf("discovery:\n");
	printf("  %-22s %s\n", "Discovery", c->discovery ? "yes" : "no");
	printf("  %-22s port %d, timeout %s, HELO %s\n", "probes", c->probe_port,
	    duration(c->probe_timeout_ms, a, sizeof a), c->helo_name);
	printf("  %-22s positive %s, negative %s, outbound %s\n", "cache",
	    duration(c->discovery_ttl_s * 1000, a, sizeof a),
	    duration(c->discovery_negative_ttl_s * 1000, b, sizeof b),
	    duration(c->outbound_ttl_s * 1000, d, sizeof d));

	printf("daemon:\n");
	printf("  %-22s %s\n", "StateDir", c->state_dir);
	printf("  %-22s %s\n", "PidFile", c->pid_file ? c->pid_file : "none");
	printf("  %-22s %s\n", "UserID", c->user ? c->user : "(stay as started)");
	printf("  %-22s syslog %s, facility %s, level %s\n", "logging",
	    c->syslog ? "yes" : "no", facility_name(c->syslog_facility),
	    level_name(c->log_level));
	print_notes(c);
}

int cmd_check_config(int argc, char **argv)
{
	const char *path = DEFAULT_CONFIG;

	for (int i = 1; i < argc; i++) {
		if ((strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "-c") == 0)
		    && i + 1 < argc) {
			path = argv[++i];
		} else if (strncmp(argv[i], "--config=", 9) == 0) {
			path = argv[i] + 9;
		} else if (strcmp(argv[i], "--keys") == 0) {
			/* Every accepted key, one a line (keeps the docs in sync). */
			for (size_t k = 0; ds_config_key_name(k) != NULL; k++)
				printf("%s\n", ds_config_key_name(k));
			return DS_EXIT_OK;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			printf("usage: domsecctl check-config [--config FILE] [--keys]\n"
			    "Reads FILE (default %s) and its partner table; prints\n"
			    "\"configuration OK\" and a summary, or the error (exit 78).\n"
			    "--keys lists every configuration key domsec accepts.\n",
			    DEFAULT_CONFIG);
			return DS_EXIT_OK;
		} else {
			fprintf(stderr, "domsecctl check-config: unexpected argument "
			    "\"%s\"\nusage: domsecctl check-config [--config FILE]\n",
			    argv[i]);
			return DS_EXIT_USAGE;
		}
	}

	struct ds_config cfg;
	char err[1024];
	if (ds_config_load(path, &cfg, err, sizeof err) != 0) {
		fprintf(stderr, "domsecctl: configuration error: %s\n", err);
		return DS_EXIT_CONFIG;
	}
	print_summary(&cfg);
	ds_config_free(&cfg);
	return DS_EXIT_OK;
}
