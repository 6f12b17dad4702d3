/*
 * cmd_probe.c - `domsecctl probe`: what a partner's mail servers present.
 * Connects with STARTTLS to the MX hosts of a domain (or to one given host),
 * shows each server's certificate chain like the whitepaper's protocol log
 * ("*Received certificate" block: subject, issuer, serial, thumbprint,
 * alternate names, plus validity and SHA-256 fingerprint) and the verdict of
 * the full check for the domain (chain, Exchange name matching, CRLs), and
 * the smtp_tls_policy_maps answer domsecd would give.
 *
 *   domsecctl probe [--config FILE] [--ca FILE]... [--port N] [--domain D]
 *                   [--nameserver ADDR[:PORT]] [--timeout DURATION]
 *                   [--cache-dir DIR] [--json]
 *                   DOMAIN | HOST:PORT | [HOST] | [HOST]:PORT | ADDRESS
 *
 * A bare name is a mail domain (its MX hosts, or its own address records
 * when it has no MX).  "[host]", "host:port" with --domain, or an address
 * names one server.  The certificates are checked for --domain, else for the
 * DOMAIN argument, else for the partner entry covering the host, else for the
 * host name itself.  Without --config the built-in defaults apply and CRLs
 * are kept in memory only (--cache-dir DIR keeps them on disk).
 *
 * Exit: 0 every server verified; 1 some server failed definitively
 * (untrusted, name-mismatch, revoked, no TLS, no such domain); 75 some
 * server failed only temporarily (revocation-unavailable, timeout, refused,
 * DNS failure); 64 usage error; 78 configuration error.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "commands.h"
#include "domsec/config.h"
#include "domsec/engine.h"
#include "domsec/json.h"
#include "domsec/outbound.h"
#include "domsec/partners.h"
#include "domsec/verdict.h"
#include "domsec/x509info.h"

static const char usage_text[] =
    "usage: domsecctl probe [--config FILE] [--ca FILE]... [--port N] [--domain D]\n"
    "         [--nameserver ADDR[:PORT]] [--timeout DURATION] [--cache-dir DIR]\n"
    "         [--json] DOMAIN | HOST:PORT | [HOST] | [HOST]:PORT | ADDRESS\n";

struct probe_args {
	const char *config;
	struct ds_strlist ca;
	int port;
	const char *domain;
	const char *nameserver;
	const char *cache_dir;
	long timeout_ms;
	int json;
	const char *target;
};

static int parse_args(int argc, char **argv, struct probe_args *a)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "ca", required_argument, NULL, 'A' },
		{ "port", required_argument, NULL, 'p' },
		{ "domain", required_argument, NULL, 'd' },
		{ "nameserver", required_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 't' },
		{ "cache-dir", required_argument, NULL, 'D' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int c;
	char *end;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:", opts, NULL)) != -1) {
		switch (c) {
		case 'c': a->config = optarg; break;
		case 'A':
			if (ds_strlist_add(&a->ca, optarg) != 0)
				return DS_EXIT_USAGE;
			break;
		case 'p':
			a->port = (int)strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || a->port < 1 ||
			    a->port > 65535) {
				fprintf(stderr, "domsecctl probe: --port %s: not a "
				    "port number\n", optarg);
				return DS_EXIT_USAGE;
			}
			break;
		case 'd': a->domain = optarg; break;
		case 'n': a->nameserver = optarg; break;
		case 'D': a->cache_dir = optarg; break;
		case 't':
			if (ds_parse_duration_ms(optarg, &a->timeout_ms) != 0 ||
			    a->timeout_ms <= 0) {
				fprintf(stderr, "domsecctl probe: --timeout %s: not "
				    "a duration (e.g. 10s, 500ms)\n", optarg);
				return DS_EXIT_USAGE;
			}
			break;
		case 'j': a->json = 1; break;
		case 'h':
			fputs(usage_text, stdout);
			return -1;
		case ':':
			fprintf(stderr, "domsecctl probe: option %s needs a value\n",
			    argv[optind - 1]);
			fputs(usage_text, stderr);
			return DS_EXIT_USAGE;
		default:
			fprintf(stderr, "domsecctl probe: unknown option %s\n",
			    argv[optind - 1]);
			fputs(usage_text, stderr);
			return DS_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "domsecctl probe: %s\n", optind >= argc ?
		    "a DOMAIN or HOST is required" : "exactly one target expected");
		fputs(usage_text, stderr);
		return DS_EXIT_USAGE;
	}
	a->target = argv[optind];
	return 0;
}

static int parse_nameserver(const char *text, struct ds_resolver *r)
{
	char addr[64];
	const char *colon = strchr(text, ':');
	size_t n = colon ? (size_t)(colon - text) : strlen(text);
	struct in_addr tmp;

	memset(r, 0, sizeof *r);
	if (n == 0 || n >= sizeof addr)
		return -1;
	memcpy(addr, text, n);
	addr[n] = '\0';
	if (inet_pton(AF_INET, addr, &tmp) != 1)
		return -1;
	snprintf(r->server, sizeof r->server, "%s", addr);
	r->port = 53;
	if (colon != NULL) {
		char *end;
		long p = strtol(colon + 1, &end, 10);

		if (colon[1] == '\0' || *end != '\0' || p < 1 || p > 65535)
			return -1;
		r->port = (int)p;
	}
	r->timeout_s = 3;
	r->tries = 2;
	return 0;
}

static int is_address(const char *s)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

static void print_time(time_t t, char *buf, size_t len)
{
	if (t == 0)
		snprintf(buf, len, "-");
	else
		ds_time_format(t, buf, len);
}

static void print_cert_block(const struct ds_cert_info *ci, const char *title)
{
	char nb[40], na[40];

	print_time(ci->not_before, nb, sizeof nb);
	print_time(ci->not_after, na, sizeof na);
	printf("  *%s\n", title);
	printf("  *%s, Certificate subject\n", ci->subject);
	printf("  *%s, Certificate issuer name\n", ci->issuer);
	printf("  *%s, Certificate serial number\n", ci->serial);
	printf("  *%s, Certificate thumbprint\n", ci->thumbprint);
	printf("  *%s, Certificate alternate names\n", ci->alt_names);
	printf("  *%s .. %s, Certificate validity\n", nb, na);
	printf("  *%s, Certificate SHA-256 fingerprint\n", ci->fingerprint);
}

static const char *host_verdict(const struct ds_outbound_host *h)
{
	if (!h->probed || h->verify_failed)
		return h->temporary ? "temporary-failure" : "failed";
	return ds_verdict_name(h->vr.verdict);
}

static void print_human(const struct probe_args *a, const char *domain,
    const struct ds_partner *p, const struct ds_outbound_key *k,
    const struct ds_outbound_assessment *as, const char *policy, int status)
{
	char keytext[300];

	ds_outbound_key_format(k, keytext, sizeof keytext);
	printf("Probe of %s (%s), certificates checked for %s\n", keytext,
	    k->literal ? "one server" : "MX hosts", domain);
	if (p != NULL)
		printf("Partner entry: %s%s (direction=%s mode=%s revocation=%s, "
		    "%s line %d)\n", p->subdomains ? "." : "", p->domain,
		    ds_direction_name(p->direction), ds_mode_name(p->mode),
		    ds_revocation_name(p->revocation), p->source ? p->source : "-",
		    p->line);
	else
		printf("Partner entry: none (%s is not a listed partner; checked "
		    "with the default policy)\n", domain);
	if (as->n_hosts == 0)
		printf("\nNo server to probe: %s\n", as->reason);
	for (size_t i = 0; i < as->n_hosts; i++) {
		const struct ds_outbound_host *h = &as->hosts[i];

		printf("\n%s [%s]:%d", h->name, h->addr, h->port);
		if (h->preference >= 0)
			printf(" (MX preference %d)", h->preference);
		printf("\n");
		if (!h->probed) {
			printf("  no certificate: %s (%s)\n", h->error,
			    h->temporary ? "temporary" : "definitive");
			continue;
		}
		printf("  %s, cipher %s\n", h->tls_version, h->cipher);
		for (size_t c = 0; c < h->vr.chain_len && c < DS_CHAIN_INFO_MAX; c++) {
			char title[64];

			if (c == 0)
				snprintf(title, sizeof title, "Received certificate");
			else
				snprintf(title, sizeof title, "%s certificate %zu",
				    h->vr.chain_verified ? "Chain" : "Presented chain", c);
			print_cert_block(&h->vr.chain[c], title);
		}
		if (h->verify_failed) {
			printf("  verdict: not checked: %s\n", h->error);
			continue;
		}
		for (size_t r = 0; r < h->vr.rev.n_reports && r < DS_CRL_REPORT_MAX; r++) {
			const struct ds_crl_report *cr = &h->vr.rev.reports[r];
			char nu[40];

			print_time(cr->next_update, nu, sizeof nu);
			printf("  CRL %s (%s, depth %d, nextUpdate %s): %s\n",
			    cr->source, cr->origin, cr->depth, nu, cr->outcome);
		}
		if (h->secured)
			printf("  verdict: secured for %s (name %s)\n", domain,
			    h->vr.matched_name);
		else
			printf("  verdict: %s: %s\n", ds_verdict_name(h->vr.verdict),
			    h->vr.reason);
	}
	printf("\nResult for %s: %s\n", domain,
	    as->outcome == DS_OUTBOUND_SECURED ? "verified server(s) found" :
	    as->outcome == DS_OUTBOUND_TEMPORARY ? "temporary failure" :
	    "no server presents a valid certificate");
	printf("smtp_tls_policy_maps answer (enforce mode): %s\n", policy);
	(void)a;
	(void)status;
}

static int print_json(const char *domain, const struct ds_partner *p,
    const struct ds_outbound_key *k, const struct ds_outbound_assessment *as,
    const char *policy, int status)
{
	struct ds_json j;
	char keytext[300], t[40];
	int rc;

	ds_outbound_key_format(k, keytext, sizeof keytext);
	ds_json_init(&j);
	ds_json_object_begin(&j);
	ds_json_kv_string(&j, "target", keytext);
	ds_json_kv_bool(&j, "mx_lookup", !k->literal);
	ds_json_kv_string(&j, "domain", domain);
	if (p != NULL) {
		ds_json_key(&j, "partner");
		ds_json_object_begin(&j);
		ds_json_kv_string(&j, "domain", p->domain);
		ds_json_kv_bool(&j, "subdomains", p->subdomains);
		ds_json_kv_string(&j, "direction", ds_direction_name(p->direction));
		ds_json_kv_string(&j, "mode", ds_mode_name(p->mode));
		ds_json_kv_string(&j, "revocation", ds_revocation_name(p->revocation));
		ds_json_object_end(&j);
	} else {
		ds_json_kv_null(&j, "partner");
	}
	ds_json_kv_string(&j, "outcome",
	    as->outcome == DS_OUTBOUND_SECURED ? "secured" :
	    as->outcome == DS_OUTBOUND_TEMPORARY ? "temporary" : "failed");
	ds_json_kv_string(&j, "reason", as->reason);
	ds_json_kv_string(&j, "policy", policy);
	ds_json_kv_int(&j, "exit", status);
	ds_json_key(&j, "servers");
	ds_json_array_begin(&j);
	for (size_t i = 0; i < as->n_hosts; i++) {
		const struct ds_outbound_host *h = &as->hosts[i];

		ds_json_object_begin(&j);
		ds_json_kv_string(&j, "host", h->name);
		ds_json_kv_int(&j, "preference", h->preference);
		ds_json_kv_string(&j, "address", h->addr);
		ds_json_kv_int(&j, "port", h->port);
		ds_json_kv_string(&j, "verdict", host_verdict(h));
		ds_json_kv_bool(&j, "temporary", h->temporary);
		if (!h->probed || h->verify_failed)
			ds_json_kv_string(&j, "error", h->error);
		if (h->probed) {
			ds_json_kv_string(&j, "tls_version", h->tls_version);
			ds_json_kv_string(&j, "cipher", h->cipher);
			ds_json_kv_string(&j, "fingerprint", h->fingerprint);
		}
		if (h->probed && !h->verify_failed) {
			ds_json_kv_string(&j, "reason", h->vr.reason);
			ds_json_kv_string(&j, "matched_name", h->vr.matched_name);
			ds_json_kv_bool(&j, "chain_verified", h->vr.chain_verified);
			ds_json_key(&j, "chain");
			ds_json_array_begin(&j);
			for (size_t c = 0; c < h->vr.chain_len && c < DS_CHAIN_INFO_MAX; c++) {
				const struct ds_cert_info *ci = &h->vr.chain[c];

				ds_json_object_begin(&j);
				ds_json_kv_string(&j, "subject", ci->subject);
				ds_json_kv_string(&j, "issuer", ci->issuer);
				ds_json_kv_string(&j, "serial", ci->serial);
				ds_json_kv_string(&j, "thumbprint", ci->thumbprint);
				ds_json_kv_string(&j, "fingerprint", ci->fingerprint);
				ds_json_kv_string(&j, "alt_names", ci->alt_names);
				print_time(ci->not_before, t, sizeof t);
				ds_json_kv_string(&j, "not_before", t);
				print_time(ci->not_after, t, sizeof t);
				ds_json_kv_string(&j, "not_after", t);
				ds_json_object_end(&j);
			}
			ds_json_array_end(&j);
			ds_json_key(&j, "crls");
			ds_json_array_begin(&j);
			for (size_t r = 0; r < h->vr.rev.n_reports && r < DS_CRL_REPORT_MAX; r++) {
				const struct ds_crl_report *cr = &h->vr.rev.reports[r];

				ds_json_object_begin(&j);
				ds_json_kv_string(&j, "source", cr->source);
				ds_json_kv_string(&j, "origin", cr->origin);
				ds_json_kv_int(&j, "depth", cr->depth);
				print_time(cr->next_update, t, sizeof t);
				ds_json_kv_string(&j, "next_update", t);
				ds_json_kv_string(&j, "outcome", cr->outcome);
				ds_json_object_end(&j);
			}
			ds_json_array_end(&j);
		}
		ds_json_object_end(&j);
	}
	ds_json_array_end(&j);
	ds_json_object_end(&j);
	rc = ds_json_print(&j, stdout);
	ds_json_free(&j);
	return rc;
}

static int exit_status(const struct ds_outbound_assessment *as)
{
	int temporary = 0;

	if (as->n_hosts == 0)
		return as->outcome == DS_OUTBOUND_TEMPORARY ? DS_EXIT_TEMPFAIL :
		    DS_EXIT_FAIL;
	for (size_t i = 0; i < as->n_hosts; i++) {
		if (as->hosts[i].secured)
			continue;
		if (!as->hosts[i].temporary)
			return DS_EXIT_FAIL;
		temporary = 1;
	}
	return temporary ? DS_EXIT_TEMPFAIL : DS_EXIT_OK;
}

int cmd_probe(int argc, char **argv)
{
	struct probe_args a;
	struct ds_config cfg;
	struct ds_engine *engine = NULL;
	struct ds_outbound *ob = NULL;
	struct ds_outbound_key k;
	struct ds_outbound_assessment as;
	struct ds_resolver resolver;
	const struct ds_partner *p;
	char err[512] = "", domain[256], policy[4096];
	int status, have_as = 0;

	memset(&a, 0, sizeof a);
	memset(&cfg, 0, sizeof cfg);
	memset(&as, 0, sizeof as);
	status = parse_args(argc, argv, &a);
	if (status != 0) {
		status = status < 0 ? DS_EXIT_OK : status;
		goto out;
	}
	if (ds_outbound_parse_key(a.target, &k) != 0 || k.parent) {
		fprintf(stderr, "domsecctl probe: %s: not a domain, HOST:PORT, "
		    "[HOST], [HOST]:PORT or address\n", a.target);
		status = DS_EXIT_USAGE;
		goto out;
	}
	/* An address or "host:port" names one server, like "[host]". */
	if (is_address(k.host) || k.port != 0)
		k.literal = 1;
	if (a.port != 0)
		k.port = a.port;

	if (a.config != NULL) {
		if (ds_config_load(a.config, &cfg, err, sizeof err) != 0) {
			fprintf(stderr, "domsecctl probe: %s\n", err);
			status = DS_EXIT_CONFIG;
			goto out;
		}
	} else {
		/* Without a configuration, keep CRLs in memory only. */
		ds_config_defaults(&cfg);
		free(cfg.crl_cache_dir);
		cfg.crl_cache_dir = NULL;
	}
	if (a.cache_dir != NULL) {
		free(cfg.crl_cache_dir);
		cfg.crl_cache_dir = strdup(a.cache_dir);
	}
	if (a.timeout_ms > 0)
		cfg.probe_timeout_ms = a.timeout_ms;

	if (a.domain != NULL)
		snprintf(domain, sizeof domain, "%s", a.domain);
	else
		snprintf(domain, sizeof domain, "%s", k.host);
	p = ds_partners_lookup(&cfg.partners, domain, DS_DIR_SEND);
	if (p == NULL)
		p = ds_partners_lookup(&cfg.partners, domain, DS_DIR_RECEIVE);
	if (a.domain == NULL && k.literal && p != NULL)
		snprintf(domain, sizeof domain, "%s", p->domain);

	engine = ds_engine_new_anchors(&cfg, &a.ca, err, sizeof err);
	if (engine == NULL) {
		fprintf(stderr, "domsecctl probe: %s\n", err);
		status = DS_EXIT_CONFIG;
		goto out;
	}
	ob = ds_outbound_new(&cfg, engine, err, sizeof err);
	if (ob == NULL) {
		fprintf(stderr, "domsecctl probe: %s\n", err);
		status = DS_EXIT_CONFIG;
		goto out;
	}
	if (a.nameserver != NULL) {
		if (parse_nameserver(a.nameserver, &resolver) != 0) {
			fprintf(stderr, "domsecctl probe: --nameserver %s: expected "
			    "an IPv4 address with an optional :PORT\n", a.nameserver);
			status = DS_EXIT_USAGE;
			goto out;
		}
		ds_outbound_set_resolver(ob, &resolver);
	}

	ds_outbound_assess(ob, &k, domain, p, &as);
	have_as = 1;
	ds_outbound_reply_for(&as, policy, sizeof policy);
	status = exit_status(&as);
	if (a.json) {
		if (print_json(domain, p, &k, &as, policy, status) != 0)
			fprintf(stderr, "domsecctl probe: could not write the JSON "
			    "report\n");
	} else {
		print_human(&a, domain, p, &k, &as, policy, status);
	}
out:
	if (have_as)
		ds_outbound_assessment_free(&as);
	ds_outbound_free(ob);
	ds_engine_free(engine);
	ds_config_free(&cfg);
	ds_strlist_free(&a.ca);
	fflush(stdout);
	return status;
}
