/*
 * cmd_verify.c - `domsecctl verify`: the whitepaper's `certutil -verify`
 * step.  Verifies a certificate for a partner domain exactly as domsecd
 * would (chain, Exchange name matching, CRLs) and prints a report for a
 * person or, with --json, one JSON object.
 *
 *   domsecctl verify --domain DOMAIN [--config FILE] [--ca FILE]...
 *                    [--chain FILE]... [--crl FILE]... [--cache-dir DIR]
 *                    [--at TIME] [--json] [--quiet] CERTFILE
 *
 * Without --config the built-in defaults apply (no file is read), so that
 * the result does not depend on the machine; pass --config
 * /etc/domsec/domsec.conf to see what the daemon would decide.  With the
 * defaults and no --cache-dir, CRLs go to the default cache directory if it
 * exists and is writable, else they are kept in memory for this run.
 *
 * Exit: 0 secured; 1 untrusted, name-mismatch, revoked; 75
 * revocation-unavailable; 64 usage error (also an unreadable or malformed
 * CERTFILE, or a bad --at); 78 configuration error (bad --config file,
 * unreadable --ca/--chain file or partner anchor).  An unusable --crl or
 * CRLFile is reported on stderr (and in the JSON report as
 * "crl_file_problems") and skipped, never fatal.  --at applies to every
 * CRL, fetched ones included.  A CRL download that lasts over a second
 * shows its progress on stderr when stderr is a terminal, unless --quiet.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "commands.h"
#include "domsec/config.h"
#include "domsec/engine.h"
#include "domsec/json.h"
#include "domsec/partners.h"
#include "domsec/verdict.h"
#include "domsec/x509info.h"

static const char usage_text[] =
    "usage: domsecctl verify --domain DOMAIN [--config FILE] [--ca FILE]...\n"
    "         [--chain FILE]... [--crl FILE]... [--cache-dir DIR] [--at TIME]\n"
    "         [--json] [--quiet] CERTFILE\n";

struct verify_args {
	const char *domain;
	const char *config;
	struct ds_strlist ca;
	struct ds_strlist chain;
	struct ds_strlist crl;
	const char *cache_dir;
	const char *at_text;
	time_t at;
	int json;
	int quiet;                 /* no download progress */
	const char *certfile;
};

/* Returns 0, or DS_EXIT_USAGE after printing why. */
static int parse_args(int argc, char **argv, struct verify_args *a)
{
	static const struct option opts[] = {
		{ "domain", required_argument, NULL, 'd' },
		{ "config", required_argument, NULL, 'c' },
		{ "ca", required_argument, NULL, 'A' },
		{ "chain", required_argument, NULL, 'C' },
		{ "crl", required_argument, NULL, 'R' },
		{ "cache-dir", required_argument, NULL, 'D' },
		{ "at", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:", opts, NULL)) != -1) {
		int rc = 0;
		switch (c) {
		case 'd': a->domain = optarg; break;
		case 'c': a->config = optarg; break;
		case 'A': rc = ds_strlist_add(&a->ca, optarg); break;
		case 'C': rc = ds_strlist_add(&a->chain, optarg); break;
		case 'R': rc = ds_strlist_add(&a->crl, optarg); break;
		case 'D': a->cache_dir = optarg; break;
		case 't': a->at_text = optarg; break;
		case 'j': a->json = 1; break;
		case 'q': a->quiet = 1; break;
		case 'h':
			fputs(usage_text, stdout);
			return -1;
		case ':':
			fprintf(stderr, "domsecctl verify: option %s needs a "
			    "value\n", argv[optind - 1]);
			fputs(usage_text, stderr);
			return DS_EXIT_USAGE;
		default:
			fprintf(stderr, "domsecctl verify: unknown option %s\n",
			    argv[optind - 1]);
			fputs(usage_text, stderr);
			return DS_EXIT_USAGE;
		}
		if (rc != 0) {
			fprintf(stderr, "domsecctl verify: out of memory\n");
			return DS_EXIT_USAGE;
		}
	}
	if (a->domain == NULL || a->domain[0] == '\0') {
		fprintf(stderr, "domsecctl verify: --domain DOMAIN is required\n");
		fputs(usage_text, stderr);
		return DS_EXIT_USAGE;
	}
	if (optind != argc - 1) {
		fprintf(stderr, "domsecctl verify: %s\n", optind >= argc ?
		    "CERTFILE is required" : "exactly one CERTFILE expected");
		fputs(usage_text, stderr);
		return DS_EXIT_USAGE;
	}
	a->certfile = argv[optind];
	if (a->at_text != NULL && ds_time_parse(a->at_text, &a->at) != 0) {
		fprintf(stderr, "domsecctl verify: --at %s: not a time (use "
		    "YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or @EPOCH, UTC)\n",
		    a->at_text);
		return DS_EXIT_USAGE;
	}
	return 0;
}

/* Applies the command line over the configuration.  Returns 0 or -1. */
static int apply_overrides(const struct verify_args *a, struct ds_config *cfg)
{
	if (ds_strlist_extend(&cfg->chain_files, &a->chain) != 0 ||
	    ds_strlist_extend(&cfg->crl_files, &a->crl) != 0)
		return -1;
	if (a->cache_dir != NULL) {
		free(cfg->crl_cache_dir);
		if ((cfg->crl_cache_dir = strdup(a->cache_dir)) == NULL)
			return -1;
	} else if (a->config == NULL && cfg->crl_cache_dir != NULL &&
	    access(cfg->crl_cache_dir, W_OK) != 0) {
		/* Built-in defaults on a machine without domsecd's cache
		 * directory: keep CRLs in memory for this run. */
		free(cfg->crl_cache_dir);
		cfg->crl_cache_dir = NULL;
	}
	return 0;
}

static const char *rev_status_name(enum ds_rev_status s)
{
	switch (s) {
	case DS_REV_GOOD: return "good";
	case DS_REV_REVOKED: return "revoked";
	default: return "unavailable";
	}
}

/* The engine reaches revocation only for a verified chain whose name
 * matched, and skips it for partners with revocation=none. */
static int revocation_checked(const struct ds_verify_result *r)
{
	return r->chain_verified && r->matched_name[0] != '\0' &&
	    !r->revocation_skipped;
}

static void time_text(time_t t, char *out, size_t outlen)
{
	if (t == 0)
		snprintf(out, outlen, "-");
	else
		ds_time_format(t, out, outlen);
}

/* ---- the report for a person ---- */

static void print_human(const struct verify_args *a,
    const struct ds_partner *partner, const struct ds_verify_result *r)
{
	char t1[40], t2[40];
	printf("Domain:   %s\n", a->domain);
	if (partner != NULL)
		printf("Partner:  %s%s (revocation=%s, %zu extra trust anchor "
		    "file%s)\n", partner->subdomains ? "." : "", partner->domain,
		    ds_revocation_name(partner->revocation),
		    partner->ca_files.n, partner->ca_files.n == 1 ? "" : "s");
	else
		printf("Partner:  not in the partner table (revocation "
		    "required, no extra anchors)\n");
	if (a->at_text != NULL) {
		ds_time_format(a->at, t1, sizeof t1);
		printf("As of:    %s\n", t1);
	}
	printf("\nCertificate chain (%s):\n", r->chain_verified ?
	    "verified, leaf first, trust anchor last" :
	    "as presented, NOT verified");
	for (size_t i = 0; i < r->chain_len; i++) {
		const struct ds_cert_info *c = &r->chain[i];
		ds_time_format(c->not_before, t1, sizeof t1);
		ds_time_format(c->not_after, t2, sizeof t2);
		printf("  [%zu] Subject:     %s\n", i, c->subject);
		printf("      Issuer:      %s\n", c->issuer);
		printf("      Serial:      %s\n", c->serial);
		printf("      Thumbprint:  %s (SHA-1)\n", c->thumbprint);
		printf("      Fingerprint: %s (SHA-256)\n", c->fingerprint);
		printf("      Alt names:   %s\n", c->alt_names[0] ?
		    c->alt_names : "(none)");
		printf("      Valid:       %s to %s\n", t1, t2);
	}

	printf("\nName match: ");
	if (r->matched_name[0] != '\0')
		printf("%s matches %s\n", r->matched_name, a->domain);
	else if (r->chain_verified)
		printf("no name of the certificate matches %s\n", a->domain);
	else
		printf("not checked (chain not verified)\n");

	printf("\nRevocation: ");
	if (r->revocation_skipped)
		printf("not checked (partner revocation=none)\n");
	else if (!revocation_checked(r))
		printf("not checked (%s; no CRL fetched)\n", r->chain_verified ?
		    "no name matched" : "chain not verified");
	else
		printf("%s\n", rev_status_name(r->rev.status));
	for (size_t i = 0; i < r->rev.n_reports; i++) {
		const struct ds_crl_report *c = &r->rev.reports[i];
		time_text(c->this_update, t1, sizeof t1);
		time_text(c->next_update, t2, sizeof t2);
		printf("  CRL for certificate [%d]: %s\n", c->depth, c->source);
		printf("      Origin:      %s\n", c->origin);
		if (c->issuer[0])
			printf("      Issuer:      %s\n", c->issuer);
		printf("      thisUpdate:  %s\n", t1);
		printf("      nextUpdate:  %s\n", t2);
		printf("      Outcome:     %s\n", c->outcome);
	}

	printf("\nVerdict: %s\n", ds_verdict_name(r->verdict));
	printf("Reason:  %s\n", r->reason);
}

/* ---- the JSON object ---- */

static void json_time(struct ds_json *j, const char *key, time_t t)
{
	char buf[40];
	struct tm tm;
	if (t == 0 || gmtime_r(&t, &tm) == NULL) {
		ds_json_kv_null(j, key);
		return;
	}
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
	ds_json_kv_string(j, key, buf);
}

static void json_alt_names(struct ds_json *j, const char *names)
{
	ds_json_key(j, "alt_names");
	ds_json_array_begin(j);
	const char *p = names;
	while (*p) {
		size_t n = strcspn(p, ";");
		ds_json_string_n(j, p, n);
		p += n;
		if (*p == ';')
			p++;
	}
	ds_json_array_end(j);
}

static int print_json(const struct verify_args *a,
    const struct ds_partner *partner, const struct ds_verify_result *r,
    int exit_status, const struct ds_strlist *crl_problems)
{
	struct ds_json j;
	ds_json_init(&j);
	ds_json_object_begin(&j);
	ds_json_kv_string(&j, "verdict", ds_verdict_name(r->verdict));
	ds_json_kv_string(&j, "domain", a->domain);
	ds_json_kv_string(&j, "reason", r->reason);
	if (r->matched_name[0])
		ds_json_kv_string(&j, "matched_name", r->matched_name);
	else
		ds_json_kv_null(&j, "matched_name");
	ds_json_kv_int(&j, "exit_status", exit_status);
	ds_json_kv_bool(&j, "chain_verified", r->chain_verified);
	ds_json_key(&j, "crl_file_problems");
	ds_json_array_begin(&j);
	for (size_t i = 0; i < crl_problems->n; i++)
		ds_json_string(&j, crl_problems->v[i]);
	ds_json_array_end(&j);
	if (a->at_text != NULL)
		json_time(&j, "at", a->at);
	if (partner != NULL) {
		ds_json_key(&j, "partner");
		ds_json_object_begin(&j);
		ds_json_kv_string(&j, "domain", partner->domain);
		ds_json_kv_bool(&j, "subdomains", partner->subdomains);
		ds_json_kv_string(&j, "revocation",
		    ds_revocation_name(partner->revocation));
		ds_json_object_end(&j);
	} else {
		ds_json_kv_null(&j, "partner");
	}

	ds_json_key(&j, "chain");
	ds_json_array_begin(&j);
	for (size_t i = 0; i < r->chain_len; i++) {
		const struct ds_cert_info *c = &r->chain[i];
		ds_json_object_begin(&j);
		ds_json_kv_int(&j, "depth", (long long)i);
		ds_json_kv_string(&j, "subject", c->subject);
		ds_json_kv_string(&j, "issuer", c->issuer);
		ds_json_kv_string(&j, "serial", c->serial);
		ds_json_kv_string(&j, "thumbprint", c->thumbprint);
		ds_json_kv_string(&j, "fingerprint", c->fingerprint);
		json_alt_names(&j, c->alt_names);
		json_time(&j, "not_before", c->not_before);
		json_time(&j, "not_after", c->not_after);
		ds_json_object_end(&j);
	}
	ds_json_array_end(&j);

	ds_json_key(&j, "revocation");
	ds_json_object_begin(&j);
	int checked = revocation_checked(r);
	ds_json_kv_bool(&j, "checked", checked);
	ds_json_kv_bool(&j, "skipped_by_policy", r->revocation_skipped);
	if (checked) {
		ds_json_kv_string(&j, "status", rev_status_name(r->rev.status));
		ds_json_kv_string(&j, "reason", r->rev.reason);
	} else {
		ds_json_kv_null(&j, "status");
		ds_json_kv_null(&j, "reason");
	}
	ds_json_object_end(&j);

	ds_json_key(&j, "crls");
	ds_json_array_begin(&j);
	for (size_t i = 0; i < r->rev.n_reports; i++) {
		const struct ds_crl_report *c = &r->rev.reports[i];
		ds_json_object_begin(&j);
		ds_json_kv_string(&j, "source", c->source);
		ds_json_kv_string(&j, "origin", c->origin);
		ds_json_kv_string(&j, "issuer", c->issuer);
		ds_json_kv_int(&j, "depth", c->depth);
		json_time(&j, "this_update", c->this_update);
		json_time(&j, "next_update", c->next_update);
		ds_json_kv_string(&j, "outcome", c->outcome);
		ds_json_object_end(&j);
	}
	ds_json_array_end(&j);
	ds_json_object_end(&j);

	int rc = ds_json_print(&j, stdout);
	ds_json_free(&j);
	return rc;
}

int cmd_verify(int argc, char **argv)
{
	struct verify_args a;
	struct ds_config cfg;
	struct ds_engine *engine = NULL;
	STACK_OF(X509) *presented = NULL;
	char err[512] = "";
	int status;

	memset(&a, 0, sizeof a);
	memset(&cfg, 0, sizeof cfg);
	status = parse_args(argc, argv, &a);
	if (status != 0) {
		status = status < 0 ? DS_EXIT_OK : status;   /* --help */
		goto out;
	}

	if (a.config != NULL) {
		if (ds_config_load(a.config, &cfg, err, sizeof err) != 0) {
			fprintf(stderr, "domsecctl verify: %s\n", err);
			status = DS_EXIT_CONFIG;
			goto out;
		}
	} else {
		ds_config_defaults(&cfg);
	}
	if (apply_overrides(&a, &cfg) != 0) {
		fprintf(stderr, "domsecctl verify: out of memory\n");
		status = DS_EXIT_CONFIG;
		goto out;
	}

	presented = ds_load_pem_certs(a.certfile, err, sizeof err);
	if (presented == NULL) {
		fprintf(stderr, "domsecctl verify: %s\n", err);
		status = DS_EXIT_USAGE;
		goto out;
	}

	engine = ds_engine_new_anchors(&cfg, &a.ca, err, sizeof err);
	if (engine == NULL) {
		fprintf(stderr, "domsecctl verify: %s\n", err);
		status = DS_EXIT_CONFIG;
		goto out;
	}
	for (size_t i = 0; i < engine->crl_file_problems.n; i++)
		fprintf(stderr, "domsecctl verify: warning: CRL file skipped: "
		    "%s\n", engine->crl_file_problems.v[i]);
	/* --at: also what a download is judged against (a CRL current then
	 * but expired now is still accepted for this run) */
	ds_crl_store_set_time(engine->crls, a.at);
	ctl_crl_progress_on(engine->crls, a.quiet);

	const struct ds_partner *partner = ds_partners_lookup(&cfg.partners,
	    a.domain, DS_DIR_RECEIVE);
	if (partner == NULL)
		partner = ds_partners_lookup(&cfg.partners, a.domain, DS_DIR_SEND);

	struct ds_verify_request req = {
		.presented = presented,
		.domain = a.domain,
		.partner = partner,
		.at = a.at,
	};
	struct ds_verify_result *res = calloc(1, sizeof *res);
	if (res == NULL) {
		fprintf(stderr, "domsecctl verify: out of memory\n");
		status = DS_EXIT_CONFIG;
		goto out;
	}
	if (ds_engine_verify(engine, &req, res, err, sizeof err) != 0) {
		/* an unreadable partner anchor file, or worse */
		fprintf(stderr, "domsecctl verify: %s\n", err);
		free(res);
		status = DS_EXIT_CONFIG;
		goto out;
	}
	status = ds_verdict_exit_status(res->verdict);
	if (a.json) {
		if (print_json(&a, partner, res, status,
		    &engine->crl_file_problems) != 0) {
			fprintf(stderr, "domsecctl verify: could not write the "
			    "JSON report\n");
		}
	} else {
		print_human(&a, partner, res);
	}
	free(res);
out:
	if (presented != NULL)
		sk_X509_pop_free(presented, X509_free);
	ds_engine_free(engine);
	ds_config_free(&cfg);
	ds_strlist_free(&a.ca);
	ds_strlist_free(&a.chain);
	ds_strlist_free(&a.crl);
	fflush(stdout);
	return status;
}
