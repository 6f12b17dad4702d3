/*
 * cmd_crl.c - `domsecctl crl`: shows and refreshes the CRL cache that
 * domsecd uses (the CRLCacheDir directory and the configured CRLFile files).
 *
 *   domsecctl crl list    [--config FILE] [--cache-dir DIR]
 *   domsecctl crl refresh [--config FILE] [--cache-dir DIR] [--force]
 *                         [--issuer FILE]... [--quiet] [URL]...
 *
 * list prints, per CRL: source (URL or file), where the copy is (disk, file),
 * issuer, thisUpdate, nextUpdate, number of entries and its state.
 * refresh fetches every cached CRL whose nextUpdate is within
 * CRLRefreshBefore (all of them with --force; conditional GET, so an
 * unchanged CRL costs a 304), then each URL given.  A bad answer never
 * replaces a good cached copy.  A fetched CRL's signature is checked with
 * the CA certificate that verified the cached copy, else with a CA
 * certificate named like its issuer from CAFile, ChainFile or --issuer
 * (PEM, repeatable); a CRL whose issuer is none of these is stored and its
 * signature is checked when a certificate first uses it.
 *
 * A download that lasts over a second shows its progress on stderr (bytes,
 * rate, time left) when stderr is a terminal, unless --quiet.  Downloads
 * get CRLDownloadTimeout (not the message-time CRLTimeout).
 *
 * Without --config the built-in defaults apply (CRLCacheDir
 * /var/cache/domsec/crl); --cache-dir overrides the directory.
 * Exit: 0 done; 75 some fetch failed or was rejected; 64 usage; 78
 * configuration error (bad --config, unusable cache directory).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "commands.h"
#include "domsec/config.h"
#include "domsec/crl.h"
#include "domsec/engine.h"
#include "domsec/verdict.h"
#include "domsec/x509info.h"

static const char usage_text[] =
    "usage: domsecctl crl list [--config FILE] [--cache-dir DIR]\n"
    "       domsecctl crl refresh [--config FILE] [--cache-dir DIR] [--force]\n"
    "                             [--issuer FILE]... [--quiet] [URL]...\n";

static void time_text(time_t t, char *out, size_t outlen)
{
	struct tm tm;
	if (t == 0 || gmtime_r(&t, &tm) == NULL) {
		snprintf(out, outlen, "-");
		return;
	}
	strftime(out, outlen, "%Y-%m-%d %H:%M:%SZ", &tm);
}

/* "in 6d 23h", "2h ago" */
static void relative(time_t t, time_t now, char *out, size_t outlen)
{
	long d = (long)(t > now ? t - now : now - t);
	char span[32];
	if (d >= 86400)
		snprintf(span, sizeof span, "%ldd %ldh", d / 86400, d % 86400 / 3600);
	else if (d >= 3600)
		snprintf(span, sizeof span, "%ldh %ldm", d / 3600, d % 3600 / 60);
	else
		snprintf(span, sizeof span, "%ldm %lds", d / 60, d % 60);
	snprintf(out, outlen, t > now ? "in %s" : "%s ago", span);
}

/* ---- download progress ---- */

void ctl_crl_progress(void *arg, const char *url, long long got,
    long long total, double secs, int done)
{
	double mb = (double)got / 1048576.0, rate = secs > 0 ? mb / secs : 0;
	(void)arg;
	if (total > 0) {
		double left = rate > 0 ?
		    ((double)total / 1048576.0 - mb) / rate : 0;
		fprintf(stderr, "\r%.200s: %.1f of %.1f MB, %.2f MB/s, "
		    "%s%.0f s", url, mb, (double)total / 1048576.0, rate,
		    done ? "took " : "ETA ", done ? secs : left);
	} else {
		fprintf(stderr, "\r%.200s: %.1f MB, %.2f MB/s, %.0f s", url, mb,
		    rate, secs);
	}
	fprintf(stderr, done ? "\n" : "   ");
	fflush(stderr);
}

void ctl_crl_progress_on(struct ds_crl_store *s, int quiet)
{
	if (!quiet && isatty(2))
		ds_crl_store_set_progress(s, ctl_crl_progress, NULL);
}

struct list_state {
	int count;
	time_t now;
};

static void print_entry(const struct ds_crl_report *r, void *arg)
{
	struct list_state *st = arg;
	char a[40], b[40], rel[48], masked[600];

	st->count++;
	printf("%s\n", ds_mask_url_secret(r->source, masked, sizeof masked));
	printf("  origin:     %s", r->origin);
	if (r->fetched_at) {
		time_text(r->fetched_at, a, sizeof a);
		printf(" (downloaded %s", a);
		if (r->checked_at > r->fetched_at) {
			time_text(r->checked_at, b, sizeof b);
			printf(", unchanged at %s", b);
		}
		printf(")");
	}
	printf("\n");
	printf("  issuer:     %s\n", r->issuer[0] ? r->issuer : "-");
	time_text(r->this_update, a, sizeof a);
	printf("  thisUpdate: %s\n", a);
	time_text(r->next_update, a, sizeof a);
	if (r->next_update) {
		relative(r->next_update, st->now, rel, sizeof rel);
		printf("  nextUpdate: %s (%s%s)\n", a, rel,
		    r->next_update < st->now ? ", EXPIRED" : "");
	} else {
		printf("  nextUpdate: none\n");
	}
	if (r->entries >= 0)
		printf("  entries:    %ld\n", r->entries);
	else
		printf("  entries:    -\n");
	printf("  status:     %s\n", r->outcome);
}

struct url_list {
	char **v;
	size_t n;
};

static void collect_url(const struct ds_crl_report *r, void *arg)
{
	struct url_list *l = arg;
	char **nv;
	if (strcmp(r->origin, "file") == 0)
		return;
	nv = realloc(l->v, (l->n + 1) * sizeof *nv);
	if (nv == NULL)
		return;
	l->v = nv;
	if ((l->v[l->n] = strdup(r->source)) != NULL)
		l->n++;
}

static int refresh_one(struct ds_crl_store *s, const char *url)
{
	struct ds_crl_report rep;
	char a[40];
	int rc = ds_crl_store_refresh_url(s, url, &rep);

	if (rc == 0) {
		time_text(rep.next_update, a, sizeof a);
		printf("%s: %s, %ld entr%s, nextUpdate %s\n", url,
		    strcmp(rep.origin, "fetched") == 0 ? "downloaded" :
		    "not modified", rep.entries, rep.entries == 1 ? "y" : "ies", a);
		return 0;
	}
	printf("%s: failed: %s%s\n", url, rep.outcome,
	    rep.entries >= 0 ? " (the cached copy keeps serving)" : "");
	return -1;
}

/* CA certificates that may have signed CRLs: CAFile, ChainFile, --issuer. */
static int add_issuers(struct ds_crl_store *s, const struct ds_config *cfg,
    const struct ds_strlist *extra)
{
	struct ds_strlist files = { 0 };
	char err[512];
	int rc = 0;

	if (cfg->ca_file)
		ds_strlist_add(&files, cfg->ca_file);
	ds_strlist_extend(&files, &cfg->chain_files);
	ds_strlist_extend(&files, extra);
	for (size_t i = 0; i < files.n; i++) {
		STACK_OF(X509) *sk = ds_load_pem_certs(files.v[i], err, sizeof err);
		if (sk == NULL) {
			fprintf(stderr, "domsecctl crl: %s\n", err);
			rc = -1;
			continue;
		}
		ds_crl_store_add_issuers(s, sk);
		sk_X509_pop_free(sk, X509_free);
	}
	ds_strlist_free(&files);
	return rc;
}

int cmd_crl(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "cache-dir", required_argument, NULL, 'D' },
		{ "force", no_argument, NULL, 'f' },
		{ "issuer", required_argument, NULL, 'i' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *config = NULL, *cache_dir = NULL, *action;
	int force = 0, quiet = 0, c, rc = DS_EXIT_OK;
	struct ds_strlist issuers = { 0 };
	struct ds_config cfg;
	struct ds_crl_opts o;
	struct ds_crl_store *s;
	char err[512];
	struct stat st;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		fputs(usage_text, argc < 2 ? stderr : stdout);
		return argc < 2 ? DS_EXIT_USAGE : DS_EXIT_OK;
	}
	action = argv[1];
	if (strcmp(action, "list") != 0 && strcmp(action, "refresh") != 0) {
		fprintf(stderr, "domsecctl crl: unknown action '%s'\n%s", action,
		    usage_text);
		return DS_EXIT_USAGE;
	}
	optind = 1;
	opterr = 0;
	/* options and URLs follow the action: parse argv + 1 */
	char **av = argv + 1;
	int ac = argc - 1;
	while ((c = getopt_long(ac, av, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'D': cache_dir = optarg; break;
		case 'f': force = 1; break;
		case 'q': quiet = 1; break;
		case 'i': ds_strlist_add(&issuers, optarg); break;
		case 'h': fputs(usage_text, stdout); return DS_EXIT_OK;
		case ':':
			fprintf(stderr, "domsecctl crl: %s needs a value\n%s",
			    av[optind - 1], usage_text);
			return DS_EXIT_USAGE;
		default:
			fprintf(stderr, "domsecctl crl: unknown option '%s'\n%s",
			    av[optind - 1], usage_text);
			return DS_EXIT_USAGE;
		}
	}
	if (strcmp(action, "list") == 0 && (optind < ac || force ||
	    issuers.n > 0)) {
		fprintf(stderr, "domsecctl crl list: takes no URL, --force or "
		    "--issuer\n%s", usage_text);
		ds_strlist_free(&issuers);
		return DS_EXIT_USAGE;
	}

	ds_config_defaults(&cfg);
	if (config != NULL) {
		ds_config_free(&cfg);
		if (ds_config_load(config, &cfg, err, sizeof err) != 0) {
			fprintf(stderr, "domsecctl crl: %s\n", err);
			ds_strlist_free(&issuers);
			return DS_EXIT_CONFIG;
		}
	}
	if (cache_dir == NULL)
		cache_dir = cfg.crl_cache_dir;
	if (strcmp(action, "list") == 0 && cache_dir != NULL &&
	    stat(cache_dir, &st) != 0 && errno == ENOENT && cfg.crl_files.n == 0) {
		printf("no cached CRLs (%s does not exist)\n", cache_dir);
		ds_config_free(&cfg);
		return DS_EXIT_OK;
	}
	memset(&o, 0, sizeof o);
	o.cache_dir = cache_dir;
	o.connect_timeout_ms = cfg.crl_connect_timeout_ms;
	o.timeout_ms = cfg.crl_timeout_ms;
	o.download_timeout_ms = cfg.crl_download_timeout_ms;
	o.low_speed_limit = cfg.crl_low_speed_limit;
	o.low_speed_time_s = cfg.crl_low_speed_time_s;
	o.no_proxy = cfg.crl_no_proxy;
	o.proxy_ldap = cfg.crl_proxy_ldap;
	o.max_size = cfg.crl_max_size;
	o.proxy = cfg.crl_proxy;
	o.max_redirects = cfg.crl_max_redirects;
	o.grace_s = cfg.crl_grace_s;
	o.refresh_before_s = cfg.crl_refresh_before_s;
	s = ds_crl_store_new(&o, err, sizeof err);
	if (s == NULL) {
		fprintf(stderr, "domsecctl crl: %s\n", err);
		ds_config_free(&cfg);
		ds_strlist_free(&issuers);
		return DS_EXIT_CONFIG;
	}
	ctl_crl_progress_on(s, quiet);
	if (ds_crl_tls_anchors_from_config(s, &cfg, err, sizeof err) != 0) {
		fprintf(stderr, "domsecctl crl: %s\n", err);
		rc = DS_EXIT_CONFIG;
	}
	if (add_issuers(s, &cfg, &issuers) != 0)
		rc = DS_EXIT_CONFIG;
	ds_strlist_free(&issuers);
	for (size_t i = 0; i < cfg.crl_files.n; i++) {
		if (ds_crl_store_add_file(s, cfg.crl_files.v[i], err,
		    sizeof err) != 0) {
			fprintf(stderr, "domsecctl crl: %s\n", err);
			rc = DS_EXIT_CONFIG;
		}
	}

	if (strcmp(action, "list") == 0) {
		struct list_state ls = { 0, time(NULL) };
		ds_crl_store_foreach(s, print_entry, &ls);
		if (ls.count == 0)
			printf("no cached CRLs in %s\n", cache_dir ? cache_dir :
			    "(no cache directory)");
	} else if (force) {
		struct url_list l = { NULL, 0 };
		ds_crl_store_foreach(s, collect_url, &l);
		for (size_t i = 0; i < l.n; i++) {
			if (refresh_one(s, l.v[i]) != 0)
				rc = DS_EXIT_TEMPFAIL;
			free(l.v[i]);
		}
		free(l.v);
	} else {
		int n = ds_crl_store_refresh_due(s);
		printf("refreshed %d CRL%s due within %lds of nextUpdate\n", n,
		    n == 1 ? "" : "s", o.refresh_before_s);
	}
	if (strcmp(action, "refresh") == 0)
		for (int i = optind; i < ac; i++)
			if (refresh_one(s, av[i]) != 0)
				rc = DS_EXIT_TEMPFAIL;
	ds_crl_store_free(s);
	ds_config_free(&cfg);
	return rc;
}
