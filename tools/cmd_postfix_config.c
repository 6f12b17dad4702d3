/*
 * cmd_postfix_config.c - `domsecctl postfix-config`: the postconf commands
 * that wire domsecd into the Postfix configuration as it is now, merging
 * rather than replacing (DESIGN section 11).
 *
 *   domsecctl postfix-config [--config FILE] [-c DIR] [--apply | --dry-run]
 *                            [--client-chain FILE] [--postconf PROGRAM]
 *
 * Reads the live values with `postconf -h` (of the instance in DIR with
 * -c) and domsec.conf, and prints (default, --dry-run) or runs (--apply)
 * only the changes still needed, so running it again changes nothing:
 *   smtpd_milters, non_smtpd_milters   domsec's milter appended, every other
 *                                      milter kept (OpenDKIM, OpenDMARC)
 *   smtpd_recipient_restrictions       check_policy_service after
 *                                      permit_mynetworks,
 *                                      permit_sasl_authenticated and
 *                                      reject_unauth_destination; the rest
 *                                      (RBLs, access maps) kept
 *   milter_*_macros                    the macros domsec reads added
 *   milter_default_action = tempfail, milter_protocol = 6
 *   smtpd_tls_ask_ccert = yes, smtpd_tls_fingerprint_digest = sha256,
 *   smtpd_tls_security_level = may (when none), smtpd_tls_loglevel and
 *   smtp_tls_loglevel at least 1, smtpd_tls_received_header = yes,
 *   smtpd_tls_CAfile = domsec's CAFile (when set and Postfix has none)
 *   transport_maps, smtp_tls_policy_maps  domsecd's socketmap first (only
 *                                      with SocketmapSocket)
 *   master.cf                          the partner transport
 *                                      (OutboundTransport) once
 *   header_checks                      with PostfixHeaderChecks FILE:
 *                                      domsec's table first (FILE written
 *                                      when absent or outdated), and
 *                                      nested_header_checks kept off it
 *                                      (attached messages stay intact)
 * With PostfixHeaderChecks it refuses (exit 1) when main.cf or smtp/inet
 * turns header checks off (receive_override_options =
 * no_header_body_checks): forged trust headers would then survive.
 * A unix socket below Postfix's queue directory is named as the chrooted
 * smtpd or cleanup sees it.
 *
 * Exit: 0; 1 postconf failed; 64 usage; 78 configuration error.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "commands.h"
#include "domsec/postconf_run.h"
#include "domsec/config.h"
#include "domsec/fileio.h"
#include "domsec/postfix_audit.h"
#include "domsec/postfix_header_checks.h"
#include "domsec/postfix_merge.h"
#include "domsec/verdict.h"

#define DEFAULT_CONFIG "/etc/domsec/domsec.conf"
#define MAX_CHANGES 40

static const char usage_text[] =
    "usage: domsecctl postfix-config [--config FILE] [-c POSTFIX_DIR] "
    "[--apply | --dry-run]\n"
    "                                [--client-chain FILE] [--postconf PROGRAM]\n";

/* The macros domsec's milter reads, per stage (contrib/postfix-main.cf). */
static const char *const macros[][2] = {
	{ "milter_connect_macros",
	  "j {daemon_name} {client_addr} {client_port} v" },
	{ "milter_helo_macros",
	  "{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer}" },
	{ "milter_mail_macros",
	  "i {mail_addr} {tls_version} {cipher} {cipher_bits} {cert_subject} "
	  "{cert_issuer}" },
	{ "milter_end_of_data_macros", "i" },
};

struct change {
	const char *flag;  /* -e, -M or -P */
	char *arg;
	const char *why;
};

struct plan {
	struct pc_target pc;
	struct change v[MAX_CHANGES];
	size_t n;
	int failed;        /* a postconf query failed */
	char *table_path;  /* PostfixHeaderChecks: the table to write, */
	char table[4096];  /* with this text; NULL when it is current */
};

static void add(struct plan *p, const char *flag, const char *why,
    const char *fmt1, const char *a, const char *b)
{
	size_t len;
	char *arg;

	if (p->n >= MAX_CHANGES) {
		p->failed = 1;
		return;
	}
	len = strlen(fmt1) + strlen(a) + (b ? strlen(b) : 0) + 1;
	arg = malloc(len);
	if (arg == NULL) {
		p->failed = 1;
		return;
	}
	snprintf(arg, len, fmt1, a, b ? b : "");
	p->v[p->n].flag = flag;
	p->v[p->n].arg = arg;
	p->v[p->n].why = why;
	p->n++;
}

static char *get(struct plan *p, const char *flags, const char *name)
{
	char *v = pc_query(&p->pc, flags, name, 0);
	if (v == NULL) {
		fprintf(stderr, "domsecctl postfix-config: postconf %s %s failed\n",
		    flags, name);
		p->failed = 1;
	}
	return v;
}

/* name = value when the current value is not value already. */
static void set_exact(struct plan *p, const char *name, const char *value,
    const char *why)
{
	char *cur = get(p, "-h", name);
	if (cur != NULL && strcmp(cur, value) != 0)
		add(p, "-e", why, "%s = %s", name, value);
	free(cur);
}

/* name = min when the current number is lower. */
static void set_at_least(struct plan *p, const char *name, long min,
    const char *why)
{
	char *cur = get(p, "-hx", name), num[32];
	if (cur != NULL && strtol(cur, NULL, 10) < min) {
		snprintf(num, sizeof num, "%ld", min);
		add(p, "-e", why, "%s = %s", name, num);
	}
	free(cur);
}

/* Applies merge(current value, item) and records name = merged.  Already
 * there is judged on the expanded value ($name references resolved), the
 * change is made to the value as written. */
static void merge(struct plan *p, const char *name, const char *item,
    char *(*fn)(const char *, const char *, int *), const char *why)
{
	char *cur = get(p, "-h", name), *x = get(p, "-hx", name), *v = NULL;
	int changed = 0;

	if (cur == NULL || x == NULL)
		goto out;
	v = fn(x, item, &changed);
	if (v != NULL && changed) {
		free(v);
		v = fn(cur, item, &changed);
	}
	if (v == NULL) {
		fprintf(stderr, "domsecctl postfix-config: cannot parse %s = %s\n",
		    name, cur);
		p->failed = 1;
	} else if (changed) {
		add(p, "-e", why, "%s = %s", name, v);
	}
out:
	free(v);
	free(cur);
	free(x);
}

/* The raw value of name refers to $ref (so it follows ref's changes). */
static int refers_to(struct plan *p, const char *name, const char *ref)
{
	char *cur = get(p, "-h", name), a[128], b[128], c[128];
	int yes;

	if (cur == NULL)
		return 0;
	snprintf(a, sizeof a, "$%s", ref);
	snprintf(b, sizeof b, "${%s}", ref);
	snprintf(c, sizeof c, "$(%s)", ref);
	yes = strstr(cur, b) != NULL || strstr(cur, c) != NULL;
	if (!yes) {
		const char *h = strstr(cur, a);
		size_t n = strlen(a);
		yes = h != NULL && (h[n] == '\0' || !(h[n] == '_' ||
		    (h[n] >= 'a' && h[n] <= 'z') || (h[n] >= '0' && h[n] <= '9')));
	}
	free(cur);
	return yes;
}

/* The queue directory when service/type runs chrooted, else NULL. */
static char *chroot_of(struct plan *p, const char *service)
{
	char field[128], *c, *q = NULL;

	snprintf(field, sizeof field, "%s/chroot", service);
	c = pc_query(&p->pc, "-hF", field, 1);
	if (c != NULL && (strcmp(c, "y") == 0 || strcmp(c, "yes") == 0))
		q = get(p, "-hx", "queue_directory");
	free(c);
	return q;
}

static int client_spec(struct plan *p, const char *spec, const char *service,
    char *out, size_t outlen)
{
	char *root = chroot_of(p, service);
	int rc = ds_pf_client_spec(spec, root, out, outlen);

	free(root);
	if (rc != 0) {
		fprintf(stderr, "domsecctl postfix-config: %s: not a socket "
		    "Postfix can use\n", spec);
		p->failed = 1;
	}
	return rc;
}

static void plan_milters(struct plan *p, const struct ds_config *cfg)
{
	char spec[512], spec2[512];

	if (cfg->milter_socket == NULL)
		return;
	if (client_spec(p, cfg->milter_socket, "smtp/inet", spec, sizeof spec) == 0)
		merge(p, "smtpd_milters", spec, ds_pf_merge_milter,
		    "domsec's milter after the milters already there");
	if (client_spec(p, cfg->milter_socket, "cleanup/unix", spec2, sizeof spec2) == 0) {
		if (strcmp(spec, spec2) == 0 &&
		    refers_to(p, "non_smtpd_milters", "smtpd_milters"))
			printf("# non_smtpd_milters follows $smtpd_milters: it gets "
			    "domsec's milter from there\n");
		else
			merge(p, "non_smtpd_milters", spec2, ds_pf_merge_milter,
			    "forged trust headers are removed from local "
			    "submissions too");
	}
	set_exact(p, "milter_default_action", "tempfail",
	    "domsecd down: mail stays queued at the sender, never unchecked");
	set_at_least(p, "milter_protocol", 6, "milter protocol 6");
	for (size_t i = 0; i < sizeof macros / sizeof macros[0]; i++)
		merge(p, macros[i][0], macros[i][1], ds_pf_merge_macros,
		    "the macros domsec reads");
}

static char *policy_group(const char *spec)
{
	size_t len = strlen(spec) + 64;
	char *g = malloc(len);
	if (g != NULL)
		snprintf(g, len, "{ %s, timeout=30s, default_action=DEFER_IF_PERMIT }", spec);
	return g;
}

static void plan_policy(struct plan *p, const struct ds_config *cfg)
{
	char spec[512], *cur, *group, *v;
	int changed = 0;

	if (cfg->policy_socket == NULL ||
	    client_spec(p, cfg->policy_socket, "smtp/inet", spec, sizeof spec) != 0)
		return;
	cur = get(p, "-h", "smtpd_recipient_restrictions");
	group = policy_group(spec);
	if (cur == NULL || group == NULL) {
		p->failed = 1;
		free(cur);
		free(group);
		return;
	}
	v = ds_pf_merge_policy(cur, spec, group, &changed);
	if (v == NULL) {
		fprintf(stderr, "domsecctl postfix-config: cannot parse "
		    "smtpd_recipient_restrictions = %s\n", cur);
		p->failed = 1;
	} else if (changed) {
		add(p, "-e", "the policy service after relay control; other "
		    "restrictions kept", "%s = %s", "smtpd_recipient_restrictions", v);
	}
	free(v);
	free(cur);
	free(group);
}

static void plan_tls(struct plan *p, const struct ds_config *cfg)
{
	char *level = get(p, "-h", "smtpd_tls_security_level");
	char *ca;

	if (level != NULL && (level[0] == '\0' || strcmp(level, "none") == 0))
		add(p, "-e", "offer STARTTLS", "%s = %s", "smtpd_tls_security_level", "may");
	free(level);
	set_exact(p, "smtpd_tls_ask_ccert", "yes", "ask clients for a certificate");
	set_exact(p, "smtpd_tls_fingerprint_digest", "sha256",
	    "the fingerprint domsec binds certificates by");
	set_at_least(p, "smtpd_tls_loglevel", 1, "log TLS sessions");
	set_at_least(p, "smtp_tls_loglevel", 1,
	    "log \"Verified TLS connection\" for outbound partner mail");
	set_exact(p, "smtpd_tls_received_header", "yes",
	    "Received says which certificate and cipher");
	if (cfg->ca_file == NULL)
		return;
	ca = get(p, "-h", "smtpd_tls_CAfile");
	if (ca != NULL && ca[0] == '\0')
		add(p, "-e", "Postfix verifies client chains against domsec's CAs",
		    "%s = %s", "smtpd_tls_CAfile", cfg->ca_file);
	else if (ca != NULL && strcmp(ca, cfg->ca_file) != 0)
		printf("# note: smtpd_tls_CAfile is %s, domsec's CAFile is %s: "
		    "add the partners' CAs to it\n", ca, cfg->ca_file);
	free(ca);
}

static void plan_outbound(struct plan *p, const struct ds_config *cfg,
    const char *client_chain)
{
	const char *t = cfg->outbound_transport;
	char spec[512], map[600], entry[256], *cur;

	if (cfg->socketmap_socket != NULL &&
	    client_spec(p, cfg->socketmap_socket, "smtp/unix", spec, sizeof spec) == 0) {
		snprintf(map, sizeof map, "socketmap:%s:transport", spec);
		merge(p, "transport_maps", map, ds_pf_merge_map,
		    "partners go to the partner transport");
		snprintf(map, sizeof map, "socketmap:%s:tlspolicy", spec);
		merge(p, "smtp_tls_policy_maps", map, ds_pf_merge_map,
		    "partners only to verified certificates");
		set_exact(p, "smtp_tls_fingerprint_digest", "sha256",
		    "domsecd's pins are SHA-256");
	}
	snprintf(entry, sizeof entry, "%s/unix", t);
	cur = pc_query(&p->pc, "-M", entry, 1);
	if (cur != NULL && cur[0] == '\0')
		add(p, "-M", "the partner transport: presents our client certificate "
		    "to partners only", "%s = %s unix - - n - - smtp", entry, t);
	free(cur);
	snprintf(entry, sizeof entry, "%s/unix/syslog_name", t);
	cur = pc_query(&p->pc, "-hP", entry, 1);
	if (cur != NULL && cur[0] == '\0')
		add(p, "-P", "its own log name", "%s=postfix/%s", entry, t);
	free(cur);
	if (client_chain == NULL)
		return;
	snprintf(entry, sizeof entry, "%s/unix/smtp_tls_chain_files", t);
	cur = pc_query(&p->pc, "-hP", entry, 1);
	if (cur != NULL && strcmp(cur, client_chain) != 0)
		add(p, "-P", "our key and certificate chain", "%s=%s", entry, client_chain);
	free(cur);
}

/* Appends s to out (of size len) at *o, cutting nothing: the callers
 * size out for everything they append. */
static void append(char *out, size_t len, size_t *o, const char *s)
{
	int w = snprintf(out + *o, len - *o, "%s", s);

	if (w > 0)
		*o += (size_t)w < len - *o ? (size_t)w : len - *o - 1;
}

/* header_checks with regexp:table first (removed from wherever else it
 * is: Postfix uses the first table that matches); NULL on a parse error. */
static char *table_first(const char *value, const char *table, int *changed)
{
	struct ds_strlist l = { 0 };
	size_t len = strlen(table) + 16;
	char *out;

	*changed = !ds_postfix_table_first(value, table);
	if (ds_pf_split(value, &l) != 0)
		return NULL;
	for (size_t i = 0; i < l.n; i++)
		len += strlen(l.v[i]) + 2;
	out = malloc(len);
	if (out != NULL) {
		size_t o = 0;
		append(out, len, &o, "regexp:");
		append(out, len, &o, table);
		for (size_t i = 0; i < l.n; i++) {
			if (ds_postfix_names_table(l.v[i], table))
				continue;
			append(out, len, &o, ", ");
			append(out, len, &o, l.v[i]);
		}
	}
	ds_strlist_free(&l);
	return out;
}

/* milter_macro_defaults with domsec_header_checks=table, the binding
 * of this instance (any other value of it replaced). */
static char *bind_macro(const char *value, const char *table, int *changed)
{
	struct ds_strlist l = { 0 };
	size_t k = strlen(DS_PF_HC_NAME), len = strlen(table) + k + 8;
	char *out;

	*changed = 1;
	if (ds_pf_split(value, &l) != 0)
		return NULL;
	for (size_t i = 0; i < l.n; i++) {
		len += strlen(l.v[i]) + 2;
		if (strncmp(l.v[i], DS_PF_HC_NAME, k) == 0 &&
		    l.v[i][k] == '=' && strcmp(l.v[i] + k + 1, table) == 0)
			*changed = 0;
	}
	out = malloc(len);
	if (out != NULL) {
		size_t o = 0;
		out[0] = '\0';
		for (size_t i = 0; i < l.n; i++) {
			if (strncmp(l.v[i], DS_PF_HC_NAME, k) == 0 &&
			    l.v[i][k] == '=')
				continue;
			append(out, len, &o, l.v[i]);
			append(out, len, &o, ", ");
		}
		append(out, len, &o, DS_PF_HC_NAME "=");
		append(out, len, &o, table);
	}
	ds_strlist_free(&l);
	return out;
}

/* name = fn(current value) when that changes it. */
static void set_list(struct plan *p, const char *name, const char *table,
    char *(*fn)(const char *, const char *, int *), const char *why)
{
	char *cur = get(p, "-h", name), *v = NULL;
	int changed = 0;

	if (cur == NULL)
		return;
	v = fn(cur, table, &changed);
	if (v == NULL) {
		fprintf(stderr, "domsecctl postfix-config: cannot parse %s = "
		    "%s\n", name, cur);
		p->failed = 1;
	} else if (changed) {
		add(p, "-e", why, "%s = %s", name, v);
	}
	free(v);
	free(cur);
}

/* The table must live in this instance's configuration directory (domsecd
 * audits the instance there), and no receiving service may bypass it. */
static int header_checks_possible(struct plan *p, const char *table)
{
	char *cd = get(p, "-hx", "config_directory"), why[512];
	char a[PATH_MAX], b[PATH_MAX], dir[PATH_MAX];
	int ok = 1;

	ds_postfix_table_dir(table, dir, sizeof dir);
	if (cd == NULL || realpath(cd, a) == NULL ||
	    realpath(dir, b) == NULL || strcmp(a, b) != 0) {
		fprintf(stderr, "domsecctl postfix-config: PostfixHeaderChecks "
		    "%s must be in this Postfix instance's configuration "
		    "directory (%s)\n", table, cd ? cd : "?");
		ok = 0;
	} else if (ds_postfix_audit_services(p->pc.postconf, cd, table, 1,
	    why, sizeof why) != 1) {
		fprintf(stderr, "domsecctl postfix-config: PostfixHeaderChecks "
		    "is set, but %s: forged trust headers would survive there "
		    "while domsecd accepts early.  Fix that, or set "
		    "PostfixHeaderChecks no\n", why);
		ok = 0;
	}
	free(cd);
	return ok;
}

/* PostfixHeaderChecks: the table, header_checks (table first),
 * nested_header_checks, the instance's binding macro; refused when
 * Postfix would not apply the table to every message it receives. */
static void plan_header_checks(struct plan *p, const struct ds_config *cfg)
{
	const char *table_path = cfg->postfix_header_checks;
	char *old, why[512];

	if (table_path == NULL)
		return;
	if (!header_checks_possible(p, table_path)) {
		p->failed = 1;
		return;
	}
	if (ds_postfix_header_checks(cfg, p->table, sizeof p->table) < 0) {
		fprintf(stderr, "domsecctl postfix-config: the header_checks "
		    "table does not fit\n");
		p->failed = 1;
		return;
	}
	if (!ds_postfix_header_checks_current(cfg, why, sizeof why))
		p->table_path = strdup(table_path);
	/* attached messages keep their headers: the milter never touched
	 * them either (nested_header_checks follows $header_checks unless
	 * set) */
	old = get(p, "-h", "header_checks");
	if (old != NULL &&
	    refers_to(p, "nested_header_checks", "header_checks"))
		add(p, "-e", "attached messages keep their headers "
		    "(nested_header_checks no longer follows header_checks)",
		    "%s = %s", "nested_header_checks", old);
	free(old);
	set_list(p, "header_checks", table_path, table_first,
	    "Postfix removes forged trust headers (domsec's table first: the "
	    "first table that matches wins), so domsecd leaves mail it will "
	    "not tag at MAIL");
	set_list(p, "milter_macro_defaults", table_path, bind_macro,
	    "domsecd accepts early only from this instance");
	if (cfg->trusted_relays.n > 0)
		printf("# note: TrustedRelays lose their trust headers to this "
		    "table too (every listener must apply it)\n");
}

/* Prints s in single quotes for a POSIX shell. */
static void print_quoted(const char *s)
{
	putchar('\'');
	for (; *s != '\0'; s++) {
		if (*s == '\'')
			fputs("'\\''", stdout);
		else
			putchar(*s);
	}
	putchar('\'');
}

static void print_command(const struct plan *p, const struct change *c)
{
	fputs(p->pc.postconf, stdout);
	if (p->pc.config_dir != NULL) {
		fputs(" -c ", stdout);
		print_quoted(p->pc.config_dir);
	}
	printf(" %s ", c->flag);
	print_quoted(c->arg);
	putchar('\n');
}

int cmd_postfix_config(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'C' },
		{ "apply", no_argument, NULL, 'a' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "client-chain", required_argument, NULL, 'k' },
		{ "postconf", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = DEFAULT_CONFIG, *client_chain = NULL;
	struct plan p = { .pc = { "postconf", NULL } };
	struct ds_config cfg;
	char err[1024];
	int apply = 0, c, rc = DS_EXIT_OK;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'C': config = optarg; break;
		case 'c': p.pc.config_dir = optarg; break;
		case 'a': apply = 1; break;
		case 'n': apply = 0; break;
		case 'k': client_chain = optarg; break;
		case 'p': p.pc.postconf = optarg; break;
		case 'h': fputs(usage_text, stdout); return DS_EXIT_OK;
		default: fputs(usage_text, stderr); return DS_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fputs(usage_text, stderr);
		return DS_EXIT_USAGE;
	}
	if (ds_config_load(config, &cfg, err, sizeof err) != 0) {
		fprintf(stderr, "domsecctl postfix-config: %s\n", err);
		return DS_EXIT_CONFIG;
	}
	printf("# domsec for Postfix%s%s, from %s (domsecctl postfix-config%s)\n",
	    p.pc.config_dir ? " in " : "", p.pc.config_dir ? p.pc.config_dir : "",
	    config, apply ? " --apply" : ", dry run: nothing is changed");
	plan_milters(&p, &cfg);
	plan_policy(&p, &cfg);
	plan_tls(&p, &cfg);
	plan_outbound(&p, &cfg, client_chain);
	plan_header_checks(&p, &cfg);
	if (p.failed) {
		rc = DS_EXIT_FAIL;
		goto out;
	}
	if (p.table_path != NULL) {
		printf("# domsec's header_checks table, written to %s:\n",
		    p.table_path);
		for (const char *l = p.table; *l != '\0';) {
			const char *e = strchr(l, '\n');
			printf("#   %.*s\n", (int)(e - l), l);
			l = e + 1;
		}
		if (apply && ds_file_write_atomic(p.table_path, p.table,
		    strlen(p.table), 0644) != 0) {
			fprintf(stderr, "domsecctl postfix-config: cannot "
			    "write %s\n", p.table_path);
			rc = DS_EXIT_FAIL;
			goto out;
		}
	}
	if (p.n == 0 && p.table_path == NULL)
		printf("# nothing to change: Postfix has every setting domsec needs\n");
	for (size_t i = 0; i < p.n; i++) {
		printf("# %s\n", p.v[i].why);
		print_command(&p, &p.v[i]);
		if (apply && pc_apply(&p.pc, p.v[i].flag, p.v[i].arg) != 0) {
			fprintf(stderr, "domsecctl postfix-config: that postconf "
			    "command failed; stopping\n");
			rc = DS_EXIT_FAIL;
			goto out;
		}
	}
	if (p.n > 0 || p.table_path != NULL)
		printf(apply ? "# applied %zu change(s); now run: postfix%s%s reload\n"
		    : "# %zu change(s); run them, or domsecctl postfix-config "
		      "--apply, then: postfix%s%s reload\n",
		    p.n, p.pc.config_dir ? " -c " : "",
		    p.pc.config_dir ? p.pc.config_dir : "");
out:
	for (size_t i = 0; i < p.n; i++)
		free(p.v[i].arg);
	free(p.table_path);
	ds_config_free(&cfg);
	if (fflush(stdout) != 0)
		rc = DS_EXIT_FAIL;
	return rc;
}
