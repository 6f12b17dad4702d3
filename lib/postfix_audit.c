/*
 * postfix_audit.c - the audit of PostfixHeaderChecks against the live
 * Postfix configuration (see domsec/postfix_audit.h): postconf -hx for
 * main.cf values, -F for master.cf commands, -Px for per-service -o
 * overrides.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "domsec/postconf_run.h"
#include "domsec/postfix_audit.h"
#include "domsec/postfix_header_checks.h"
#include "domsec/postfix_merge.h"

int ds_postfix_names_table(const char *element, const char *table)
{
	if (strncmp(element, "regexp:", 7) == 0)
		return strcmp(element + 7, table) == 0;
	if (strncmp(element, "pcre:", 5) == 0)
		return strcmp(element + 5, table) == 0;
	return 0;
}

void ds_postfix_table_dir(const char *table, char *dir, size_t dirlen)
{
	const char *slash = strrchr(table, '/');

	snprintf(dir, dirlen, "%.*s", slash ? (int)(slash - table) : 1,
	    slash ? table : ".");
}

int ds_postfix_table_first(const char *list, const char *table)
{
	struct ds_strlist l = { 0 };
	int first = 0;

	if (list != NULL && ds_pf_split(list, &l) == 0 && l.n > 0)
		first = ds_postfix_names_table(l.v[0], table);
	ds_strlist_free(&l);
	return first;
}

/* The value of "key = value" in postconf's line-per-entry output, or NULL
 * (a pointer into out, up to the end of its line: *len). */
static const char *entry(const char *out, const char *key, size_t *len)
{
	size_t k = strlen(key);

	for (const char *l = out; l != NULL && *l != '\0';) {
		const char *end = strchr(l, '\n');
		size_t n = end ? (size_t)(end - l) : strlen(l);
		if (n > k + 3 && strncmp(l, key, k) == 0 &&
		    strncmp(l + k, " = ", 3) == 0) {
			*len = n - k - 3;
			return l + k + 3;
		}
		l = end ? end + 1 : NULL;
	}
	return NULL;
}

/* The -o override of service (NAME/TYPE) for param, malloc'd, or NULL. */
static char *override(const char *px, const char *service, const char *param)
{
	char key[512];
	const char *v;
	size_t len;

	snprintf(key, sizeof key, "%s/%s", service, param);
	v = entry(px, key, &len);
	return v != NULL ? strndup(v, len) : NULL;
}

static int skips_checks(const char *rro)
{
	return rro != NULL && strstr(rro, "no_header_body_checks") != NULL;
}

struct pf_main {
	char *rro, *csn, *hc;   /* receive_override_options,
	                           cleanup_service_name, header_checks */
	char *milters, *nsm;    /* smtpd_milters, non_smtpd_milters */
};

/* No milter sees this service's mail (a content filter's re-injection
 * listener): domsecd accepts none of it early, so it need not apply the
 * table (with the milter alone its forged headers would survive too). */
static int without_milters(const char *svc, const char *cmd, size_t cmdlen,
    const char *px, const struct pf_main *m, const char *rro)
{
	int pickup = cmdlen == 6 && strncmp(cmd, "pickup", 6) == 0;
	char *own = override(px, svc, pickup ? "non_smtpd_milters" :
	    "smtpd_milters");
	const char *milters = own ? own : pickup ? m->nsm : m->milters;
	int none = milters == NULL || milters[strspn(milters, " \t,")] == '\0';

	free(own);
	return none || (rro != NULL && strstr(rro, "no_milters") != NULL);
}

/* One receiving service (NAME/TYPE): header checks on, and a cleanup
 * service that lists the table first.  0 pass, -1 with why. */
static int audit_service(const char *svc, const char *svc_cmd,
    size_t svc_cmdlen, const char *fx, const char *px,
    const struct pf_main *m, const char *table, char *why, size_t whylen)
{
	char *rro = override(px, svc, "receive_override_options");
	char *csn = override(px, svc, "cleanup_service_name");
	char cl[300], key[320], *hc = NULL, *crro = NULL;
	const char *cmd;
	size_t len;
	int rc = -1;

	if (without_milters(svc, svc_cmd, svc_cmdlen, px, m,
	    rro ? rro : m->rro)) {
		rc = 0;
		goto out;
	}
	if (skips_checks(rro ? rro : m->rro)) {
		snprintf(why, whylen, "service %s turns header checks off "
		    "(receive_override_options = %s%s)", svc,
		    rro ? rro : m->rro, rro ? " in master.cf" : " in main.cf");
		goto out;
	}
	snprintf(cl, sizeof cl, "%s/unix", csn ? csn : m->csn);
	snprintf(key, sizeof key, "%s/command", cl);
	cmd = entry(fx, key, &len);
	if (cmd == NULL || len < 7 || strncmp(cmd, "cleanup", 7) != 0 ||
	    (len > 7 && cmd[7] != ' ')) {
		snprintf(why, whylen, "service %s hands mail to %s, which is "
		    "not a cleanup service in master.cf", svc, cl);
		goto out;
	}
	hc = override(px, cl, "header_checks");
	if (!ds_postfix_table_first(hc ? hc : m->hc, table)) {
		snprintf(why, whylen, "service %s hands mail to %s, whose "
		    "header_checks (%s, %s) do not list regexp:%s first", svc,
		    cl, hc ? hc : m->hc, hc ? "its own -o" : "main.cf's",
		    table);
		goto out;
	}
	crro = override(px, cl, "receive_override_options");
	if (skips_checks(crro)) {
		snprintf(why, whylen, "cleanup service %s turns header checks "
		    "off (receive_override_options = %s)", cl, crro);
		goto out;
	}
	rc = 0;
out:
	free(rro);
	free(csn);
	free(hc);
	free(crro);
	return rc;
}

/* Every service whose command is smtpd, pickup or qmqpd. */
static int audit_all_services(const char *fx, const char *px,
    const struct pf_main *m, const char *table, char *why, size_t whylen)
{
	static const char *const receivers[] = { "smtpd", "pickup", "qmqpd" };
	static const char suffix[] = "/command = ";

	for (const char *l = fx; *l != '\0';) {
		const char *end = strchr(l, '\n');
		size_t n = end ? (size_t)(end - l) : strlen(l);
		const char *s = memmem(l, n, suffix, sizeof suffix - 1);
		if (s != NULL) {
			const char *cmd = s + sizeof suffix - 1;
			size_t cl = strcspn(cmd, " \n");
			for (size_t i = 0; i < 3; i++) {
				char svc[300];
				if (cl != strlen(receivers[i]) ||
				    strncmp(cmd, receivers[i], cl) != 0)
					continue;
				snprintf(svc, sizeof svc, "%.*s",
				    (int)(s - l), l);
				if (audit_service(svc, cmd, cl, fx, px, m,
				    table, why, whylen) != 0)
					return -1;
			}
		}
		if (end == NULL)
			break;
		l = end + 1;
	}
	return 0;
}

static void main_free(struct pf_main *m)
{
	free(m->rro);
	free(m->csn);
	free(m->hc);
	free(m->milters);
	free(m->nsm);
}

int ds_postfix_audit_services(const char *postconf, const char *config_dir,
    const char *table, int main_fixed, char *why, size_t whylen)
{
	struct pc_target t = { postconf ? postconf : "postconf", config_dir };
	struct pf_main m = {
		pc_query(&t, "-hx", "receive_override_options", 1),
		pc_query(&t, "-hx", "cleanup_service_name", 1),
		pc_query(&t, "-hx", "header_checks", 1),
		pc_query(&t, "-hx", "smtpd_milters", 1),
		pc_query(&t, "-hx", "non_smtpd_milters", 1),
	};
	char *fx = pc_query(&t, "-F", "*/*/command", 1);
	char *px = pc_query(&t, "-Px", NULL, 1);
	int rc;

	if (m.rro == NULL || m.csn == NULL || m.hc == NULL ||
	    m.milters == NULL || m.nsm == NULL || fx == NULL || px == NULL) {
		snprintf(why, whylen, "cannot read the configuration of the "
		    "Postfix instance in %s with postconf", config_dir);
		rc = -1;
	} else {
		if (main_fixed) {
			size_t len = strlen(table) + 8;
			char *hc = malloc(len);
			if (hc != NULL)
				snprintf(hc, len, "regexp:%s", table);
			free(m.hc);
			m.hc = hc;
		}
		rc = m.hc != NULL &&
		    audit_all_services(fx, px, &m, table, why, whylen) == 0;
	}
	main_free(&m);
	free(fx);
	free(px);
	return rc;
}

static int snapshot(const struct ds_config *cfg, struct stat snap[3])
{
	const char *table = cfg->postfix_header_checks;
	char dir[PATH_MAX], path[PATH_MAX + 16];

	ds_postfix_table_dir(table, dir, sizeof dir);
	if (stat(table, &snap[0]) != 0)
		return -1;
	snprintf(path, sizeof path, "%s/main.cf", dir);
	if (stat(path, &snap[1]) != 0)
		return -1;
	snprintf(path, sizeof path, "%s/master.cf", dir);
	return stat(path, &snap[2]);
}

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	    a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	    a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	    a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

int ds_postfix_audit_unchanged(const struct ds_config *cfg,
    const struct ds_pf_audit *a)
{
	struct stat now[3];

	if (!a->have_snap || cfg->postfix_header_checks == NULL ||
	    snapshot(cfg, now) != 0)
		return 0;
	for (int i = 0; i < 3; i++)
		if (!same_file(&now[i], &a->snap[i]))
			return 0;
	return 1;
}

/* The instance-binding macro default is there with FILE as its value. */
static int macro_bound(const char *defaults, const char *table)
{
	struct ds_strlist l = { 0 };
	size_t k = strlen(DS_PF_HC_NAME);
	int bound = 0;

	if (defaults != NULL && ds_pf_split(defaults, &l) == 0)
		for (size_t i = 0; i < l.n && !bound; i++)
			bound = strncmp(l.v[i], DS_PF_HC_NAME, k) == 0 &&
			    l.v[i][k] == '=' &&
			    strcmp(l.v[i] + k + 1, table) == 0;
	ds_strlist_free(&l);
	return bound;
}

/* What the audit found, in a->why. */
static void say(struct ds_pf_audit *a, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->why, sizeof a->why, fmt, ap);
	va_end(ap);
}

int ds_postfix_audit(const struct ds_config *cfg, const char *postconf,
    struct ds_pf_audit *a)
{
	const char *table = cfg->postfix_header_checks;
	char dir[PATH_MAX], why[400], real_a[PATH_MAX], real_b[PATH_MAX];
	struct pc_target t = { postconf ? postconf : "postconf", dir };
	char *cd = NULL, *hc = NULL, *md = NULL;

	memset(a, 0, sizeof *a);
	if (table == NULL || strchr(table, '/') == NULL) {
		say(a, "PostfixHeaderChecks is off");
		return 0;
	}
	ds_postfix_table_dir(table, dir, sizeof dir);
	/* first: a change after this is seen by the next check */
	a->have_snap = snapshot(cfg, a->snap) == 0;
	if (!ds_postfix_header_checks_current(cfg, why, sizeof why)) {
		say(a, "%s", why);
		goto out;
	}
	if (!a->have_snap) {
		say(a, "cannot stat main.cf or master.cf beside %s", table);
		goto out;
	}
	cd = pc_query(&t, "-hx", "config_directory", 1);
	if (cd == NULL || realpath(cd, real_a) == NULL ||
	    realpath(dir, real_b) == NULL || strcmp(real_a, real_b) != 0) {
		say(a, "%s is not in the configuration "
		    "directory of a Postfix instance (postconf -c %s failed or "
		    "names another)", table, dir);
		goto out;
	}
	hc = pc_query(&t, "-hx", "header_checks", 1);
	if (!ds_postfix_table_first(hc, table)) {
		say(a, "header_checks in %s/main.cf "
		    "(%s) does not list regexp:%s first", dir, hc ? hc : "?",
		    table);
		goto out;
	}
	md = pc_query(&t, "-hx", "milter_macro_defaults", 1);
	if (!macro_bound(md, table)) {
		say(a, "milter_macro_defaults in "
		    "%s/main.cf lacks %s=%s", dir, DS_PF_HC_NAME, table);
		goto out;
	}
	if (ds_postfix_audit_services(postconf, dir, table, 0, why,
	    sizeof why) != 1) {
		say(a, "%s", why);
		goto out;
	}
	a->ok = 1;
out:
	free(cd);
	free(hc);
	free(md);
	return a->ok;
}
