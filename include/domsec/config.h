/*
 * config.h - the main configuration file of domsecd and domsecctl.
 *
 * Format (OpenDKIM style): one "Key value" per line, '#' starts a comment,
 * keys are case-insensitive, unknown keys are errors.  Durations accept a
 * unit suffix (ms, s, m, h, d; seconds when bare), sizes accept k, M, G.
 * Every error names the file, the line and the problem, and a file with any
 * error is never half-applied: ds_config_load() leaves *out untouched.
 * The sample conf/domsec.conf documents every key and its default.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef DOMSEC_CONFIG_H
#define DOMSEC_CONFIG_H

#include <stddef.h>
#include "domsec/strlist.h"
#include "domsec/partners.h"

/* Longest OutboundTransport name accepted (Postfix transport names are
 * short; the outbound module keeps it in a fixed buffer). */
#define DS_CONFIG_TRANSPORT_MAX 127

struct ds_config {
	char *source_path;           /* file it was read from, or NULL */

	/* Trust anchors and intermediates (chain verification). */
	char *ca_file;               /* CAFile; NULL = system default bundle */
	char *ca_path;               /* CAPath (hashed directory); NULL = none */
	struct ds_strlist chain_files; /* ChainFile: untrusted intermediates,
	                                  cross-certificates (repeatable) */

	/* Partners. */
	char *partner_table;         /* PartnerTable: path; NULL = no partners */
	struct ds_partner_table partners; /* loaded from partner_table */
	char *pinned_cert_dir;       /* PinnedCertDir: PEM files, indexed by
	                                fingerprint; NULL = none */

	/* Revocation (CRL engine). */
	char *crl_cache_dir;         /* CRLCacheDir, default /var/cache/domsec/crl */
	struct ds_strlist crl_files; /* CRLFile (repeatable) */
	long crl_connect_timeout_ms; /* CRLConnectTimeout, default 5s */
	long crl_timeout_ms;         /* CRLTimeout: how long a message waits
	                                for CRL downloads, default 15s */
	long crl_download_timeout_ms; /* CRLDownloadTimeout: one background or
	                                administrator download, default 10m */
	long crl_low_speed_limit;    /* CRLLowSpeedLimit bytes/s, default 0
	                                (off) */
	long crl_low_speed_time_s;   /* CRLLowSpeedTime, default 60s */
	char *crl_no_proxy;          /* CRLNoProxy: hosts reached without the
	                                proxy, comma-separated; NULL = none */
	int crl_proxy_ldap;          /* CRLProxyLDAP yes/no, default no */
	long crl_max_size;           /* CRLMaxSize bytes, default 256M */
	char *crl_proxy;             /* CRLProxy URL; NULL = none ("" = none) */
	long crl_max_redirects;      /* CRLMaxRedirects, default 3 */
	long crl_grace_s;            /* CRLGrace past nextUpdate, default 0 */
	long crl_refresh_before_s;   /* CRLRefreshBefore nextUpdate, default 1h */
	long crl_retry_backoff_s;    /* CRLRetryBackoff after a failed fetch,
	                                default 30s (doubles per failure) */

	/* Daemon. */
	char *milter_socket;         /* MilterSocket, e.g. inet:8895@127.0.0.1,
	                                unix:/run/domsec/milter.sock; NULL = off */
	char *policy_socket;         /* PolicySocket; NULL = off */
	char *socketmap_socket;      /* SocketmapSocket; NULL = off */
	char *metrics_socket;        /* MetricsSocket (inet): Prometheus
	                                /metrics over HTTP; NULL = off */
	char *pid_file;              /* PidFile; NULL = none */
	char *state_dir;             /* StateDir (counters), default /var/lib/domsec */
	int syslog;                  /* Syslog yes/no, default yes */
	int syslog_facility;         /* SyslogFacility, default mail */
	int log_level;               /* LogLevel: err warning notice info debug,
	                                default info */
	char *user;                  /* UserID to drop to; NULL = stay */

	/* Headers. */
	char *authserv_id;           /* AuthservID, default: this host's name */
	char *header_name;           /* HeaderName, default X-Domain-Secured */
	int add_auth_results;        /* AuthenticationResults yes/no, default yes */
	int exchange_headers;        /* ExchangeHeaders yes/no, default no */
	struct ds_strlist trusted_relays; /* TrustedRelays CIDR (repeatable,
	                                comma or space separated) */

	/* Certificate discovery (inbound acquisition). */
	long max_forged_headers;     /* MaxForgedHeaders: refuse a message with
	                                more forged trust headers, default 1000 */
	char *postfix_header_checks; /* PostfixHeaderChecks FILE, NULL (no,
	                                default): the table Postfix's
	                                header_checks list (written by domsecctl
	                                postfix-config) removes trust headers,
	                                so the milter leaves mail it will not
	                                tag at MAIL */
	char *socket_owner;          /* SocketOwner of unix sockets; NULL = UserID */
	char *socket_group;          /* SocketGroup; NULL = "postfix" if it exists */
	int socket_mode;             /* SocketMode, default 0660 */
	struct ds_strlist peer_users; /* PeerUsers: who may connect to a unix
	                                socket; empty = root, postfix and the
	                                SocketOwner/UserID */
	struct ds_strlist peer_addresses; /* PeerAddresses: who may connect to
	                                an inet socket; empty = loopback */
	int discovery;               /* Discovery yes/no, default yes */
	int probe_port;              /* ProbePort, default 25 */
	long probe_timeout_ms;       /* ProbeTimeout, default 10s */
	long discovery_ttl_s;        /* DiscoveryCacheTTL (positive), default 1d */
	long discovery_negative_ttl_s; /* DiscoveryNegativeTTL, default 10m */
	char *helo_name;             /* HeloName for probes, default hostname */

	/* Outbound. */
	long outbound_ttl_s;         /* OutboundCacheTTL, default 1h */
	char *outbound_transport;    /* OutboundTransport: the master.cf
	                                transport for partner mail, default
	                                domsec-partner */
};

/* Fills *cfg with every default (no file read). */
void ds_config_defaults(struct ds_config *cfg);

/*
 * Reads path (and the partner table it names) into *out.  Returns 0, or -1
 * with err holding "FILE:LINE: problem".  On error *out is left untouched.
 */
int ds_config_load(const char *path, struct ds_config *out, char *err,
    size_t errlen);

void ds_config_free(struct ds_config *cfg);

/* The i-th accepted key name ("CAFile", ...), or NULL past the last one
 * (used to keep conf/domsec.conf and domsec.conf(5) in sync). */
const char *ds_config_key_name(size_t i);

/* url with the password of its user information (scheme://user:PASS@host)
 * replaced by "****", for every output (check-config, logs, errors).
 * Returns out. */
const char *ds_mask_url_secret(const char *url, char *out, size_t outlen);

/* Helpers shared with the partner table and the command line. */
int ds_parse_duration_ms(const char *s, long *out_ms);
int ds_parse_size(const char *s, long *out);
int ds_parse_bool(const char *s, int *out);

/*
 * A file name as written in from_file: absolute names are returned as they
 * are, relative ones are taken relative to the directory of from_file.
 * Returns a malloc'd string, or NULL when out of memory.
 */
char *ds_config_resolve_path(const char *from_file, const char *path);

/* 0 when file is a readable regular file holding at least one PEM
 * certificate; else -1 with the reason ("No such file or directory", "holds
 * no PEM certificate") in why. */
int ds_config_check_cert_file(const char *file, char *why, size_t whylen);

#endif
