/*
 * test_session.c - the core session API (lib/session.c) over the real
 * engine and test PKI: the policy -> milter hand-off and its binding to the
 * session's own facts (planted verdicts through the policy socket or
 * another milter connection never tag a clear-text session), STARTTLS
 * starting the facts afresh, one verdict line per message, local
 * submission stripped only, the forged-header cap and summary line,
 * PostfixHeaderChecks' early accept (only for a Postfix, a current table,
 * mail that will not be tagged, and never after a trust header reached the
 * milter), and a
 * seeded random walk over front-end events that must never end in a tag
 * without TLS and a verified fingerprint.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>
#include "domsec/postfix_header_checks.h"
#include "domsec/session.h"
#include "inbound_fixture.h"
#include "lib/session_internal.h"   /* the random walk reads the decision */

#define ADDR "192.0.2.25"

/* The TLS facts a Postfix milter sees (no fingerprint, no CN for an
 * unverified chain); tls 0 for a clear-text session. */
static struct ds_facts milter_facts(int tls)
{
	struct ds_facts f;

	ds_facts_init(&f);
	snprintf(f.helo, sizeof f.helo, "mail.woodgrovebank.com");
	f.tls = tls;
	if (tls) {
		snprintf(f.tls_version, sizeof f.tls_version, "TLSv1.3");
		snprintf(f.cipher, sizeof f.cipher, "TLS_AES_256_GCM_SHA384");
		f.cipher_bits = 256;
	}
	f.cert_presented = tls ? -1 : 0;
	f.mta_verified = tls ? -1 : 0;
	return f;
}

/* A policy request's facts: TLS with leaf's fingerprint (NULL: clear). */
static struct ds_facts policy_facts(const char *leaf, int port,
    const char *sender)
{
	struct ds_facts f = tls_facts(leaf, sender);

	snprintf(f.client_addr, sizeof f.client_addr, ADDR);
	f.client_port = port;
	if (leaf == NULL) {
		f.tls = 0;
		f.tls_version[0] = f.cipher[0] = '\0';
		f.cipher_bits = 0;
	}
	return f;
}

static enum ds_step policy(const char *leaf, int port, const char *sender)
{
	struct ds_facts f = policy_facts(leaf, port, sender);
	struct ds_answer a;

	ds_core_policy(core, &f, "RCPT", "", &a);
	return a.step;
}

/* One message through a milter session; returns the step of the first
 * refusal (or CONTINUE) and the number of headers added at the end. */
static enum ds_step message(struct ds_session *s, const char *sender,
    const char *from, size_t *added)
{
	struct ds_answer a;
	struct ds_edits e;

	*added = 0;
	ds_session_mail(s, sender, &a);
	if (a.step != DS_STEP_CONTINUE)
		return a.step;
	ds_session_rcpt(s, &a);
	if (a.step != DS_STEP_CONTINUE)
		return a.step;
	ds_session_header(s, "From", from, &a);
	ds_session_header(s, "Subject", "hello", &a);
	ds_session_eom(s, "QID1", &a, &e);
	*added = e.n_add;
	return a.step;
}

static struct ds_session *open_session(int port, int tls)
{
	struct ds_facts f = milter_facts(tls);
	struct ds_session *s = ds_session_open(core, ADDR, port);

	assert_non_null(s);
	ds_session_facts(s, &f);
	return s;
}

static void test_policy_then_milter_secured(void **state)
{
	struct ds_session *s;
	size_t added;

	(void)state;
	assert_int_equal(policy("exact", 50001, "a@woodgrovebank.com"),
	    DS_STEP_CONTINUE);
	s = open_session(50001, 1);
	capture_begin();
	assert_int_equal(message(s, "a@woodgrovebank.com", "a@woodgrovebank.com",
	    &added), DS_STEP_CONTINUE);
	const char *log = capture_end();
	assert_int_equal(added, 2);   /* X-Domain-Secured, Authentication-Results */
	assert_int_equal(count_lines_with(log, "verdict="), 1);
	assert_non_null(strstr(log, "QID1: verdict=secured"));
	ds_session_close(s);
	/* the connection's close drops its hand-off entry: without the
	 * fingerprint Postfix's milter facts cannot show a certificate */
	struct ds_session *again = open_session(50001, 1);
	assert_int_equal(message(again, "a@woodgrovebank.com",
	    "a@woodgrovebank.com", &added), DS_STEP_REJECT);
	assert_int_equal(added, 0);
	ds_session_close(again);
}

/* A local process plants facts for a future session's address and port
 * through the policy socket: a clear-text session is never tagged. */
static void test_planted_policy_verdict(void **state)
{
	struct ds_session *s;
	size_t added;

	(void)state;
	assert_int_equal(policy("exact", 50002, "a@woodgrovebank.com"),
	    DS_STEP_CONTINUE);
	s = open_session(50002, 0);
	assert_int_equal(message(s, "a@woodgrovebank.com", "a@woodgrovebank.com",
	    &added), DS_STEP_REJECT);
	assert_int_equal(added, 0);
	ds_session_close(s);

	/* TLS, but another cipher than the planted facts: the fingerprint is
	 * not taken, no certificate is known, no tag */
	assert_int_equal(policy("exact", 50003, "a@woodgrovebank.com"),
	    DS_STEP_CONTINUE);
	s = ds_session_open(core, ADDR, 50003);
	struct ds_facts f = milter_facts(1);
	snprintf(f.cipher, sizeof f.cipher, "TLS_CHACHA20_POLY1305_SHA256");
	ds_session_facts(s, &f);
	assert_int_equal(message(s, "a@woodgrovebank.com", "a@woodgrovebank.com",
	    &added), DS_STEP_REJECT);
	assert_int_equal(added, 0);
	ds_session_close(s);
}

/* A milter connection with Sendmail's {cert_fp} decides for itself only:
 * neither the policy service nor another connection reuses it. */
static void test_milter_decision_not_handed_over(void **state)
{
	struct ds_session *a, *b;
	struct ds_facts f = milter_facts(1);
	size_t added;

	(void)state;
	f.cert_presented = 1;
	f.have_fp = 1;
	leaf_fp("exact", f.fp);
	a = ds_session_open(core, ADDR, 50004);
	ds_session_facts(a, &f);
	assert_int_equal(message(a, "a@woodgrovebank.com", "a@woodgrovebank.com",
	    &added), DS_STEP_CONTINUE);
	assert_int_equal(added, 2);
	b = open_session(50004, 0);
	assert_int_equal(message(b, "a@woodgrovebank.com", "a@woodgrovebank.com",
	    &added), DS_STEP_REJECT);
	assert_int_equal(policy(NULL, 50004, "a@woodgrovebank.com"), DS_STEP_REJECT);
	ds_session_close(a);
	ds_session_close(b);
}

/* Refused as no-tls, then STARTTLS with a valid certificate. */
static void test_starttls_after_refusal(void **state)
{
	struct ds_session *s;
	struct ds_facts f;
	size_t added;

	(void)state;
	assert_int_equal(policy(NULL, 50005, "a@woodgrovebank.com"), DS_STEP_REJECT);
	assert_int_equal(policy("exact", 50005, "a@woodgrovebank.com"),
	    DS_STEP_CONTINUE);
	s = open_session(50005, 0);
	assert_int_equal(message(s, "a@woodgrovebank.com", "a@woodgrovebank.com",
	    &added), DS_STEP_REJECT);
	ds_session_abort(s);
	f = milter_facts(1);          /* EHLO after STARTTLS */
	ds_session_facts(s, &f);
	assert_int_equal(message(s, "a@woodgrovebank.com", "a@woodgrovebank.com",
	    &added), DS_STEP_CONTINUE);
	assert_int_equal(added, 2);
	ds_session_close(s);
}

/* An unaligned message logs one verdict line, the final one. */
static void test_one_verdict_line(void **state)
{
	struct ds_session *s;
	size_t added;

	(void)state;
	assert_int_equal(policy("exact", 50006, "a@woodgrovebank.com"),
	    DS_STEP_CONTINUE);
	s = open_session(50006, 1);
	capture_begin();
	assert_int_equal(message(s, "a@woodgrovebank.com",
	    "x@evil.example <a@woodgrovebank.com>", &added), DS_STEP_CONTINUE);
	const char *log = capture_end();
	assert_int_equal(added, 0);
	assert_int_equal(count_lines_with(log, "verdict="), 1);
	assert_non_null(strstr(log, "verdict=unaligned"));
	assert_non_null(strstr(log, "display name"));
	ds_session_close(s);
}

/* Sendmail writes IPv6 clients as "IPv6:0:0:0:0:0:0:0:1": logged as ::1. */
static void test_ipv6_client_canonical(void **state)
{
	struct ds_session *s = ds_session_open(core, "IPv6:0:0:0:0:0:0:0:1", 50009);

	(void)state;
	assert_string_equal(ds_session_own_facts(s)->client_addr, "::1");
	ds_session_close(s);
}

static void test_null_sender_uses_from(void **state)
{
	struct ds_session *s;
	size_t added;

	(void)state;
	assert_int_equal(policy("exact", 50007, ""), DS_STEP_CONTINUE);
	s = open_session(50007, 1);
	assert_int_equal(message(s, "", "a@woodgrovebank.com", &added),
	    DS_STEP_CONTINUE);
	assert_int_equal(added, 2);
	ds_session_close(s);
}

/* Local submission (Postfix non_smtpd_milters, client port 0): forged
 * trust headers go, nothing is judged or added. */
static void test_local_submission_strip_only(void **state)
{
	struct ds_session *s = ds_session_open(core, "127.0.0.1", 0);
	struct ds_facts f = milter_facts(0);
	struct ds_answer a;
	struct ds_edits e;

	(void)state;
	ds_session_facts(s, &f);
	ds_session_mail(s, "a@woodgrovebank.com", &a);
	assert_int_equal(a.step, DS_STEP_CONTINUE);
	ds_session_rcpt(s, &a);
	assert_int_equal(a.step, DS_STEP_CONTINUE);
	ds_session_header(s, "X-Domain-Secured", "mx.contoso.com; result=secured", &a);
	ds_session_header(s, "From", "a@woodgrovebank.com", &a);
	ds_session_header(s, "x-domain-secured", "forged", &a);
	ds_session_eom(s, "QID2", &a, &e);
	assert_int_equal(a.step, DS_STEP_CONTINUE);
	assert_int_equal(e.n_add, 0);
	assert_int_equal(e.n_remove, 2);
	assert_int_equal(e.remove[0].index, 2);   /* last first */
	assert_int_equal(e.remove[1].index, 1);
	ds_session_close(s);
}

/* Local submission from an address that is a trusted relay for SMTP
 * (10.9.9.0/24 in the fixture; 127.0.0.1 often is, for content filters) is
 * still only stripped: a local user cannot plant a trust header. */
static void test_local_submission_from_trusted_relay_address(void **state)
{
	struct ds_session *s = ds_session_open(core, "10.9.9.5", 0);
	struct ds_session *relay = ds_session_open(core, "10.9.9.5", 2525);
	struct ds_answer a;
	struct ds_edits e;

	(void)state;
	ds_session_mail(s, "a@woodgrovebank.com", &a);
	ds_session_rcpt(s, &a);
	ds_session_header(s, "X-Domain-Secured", "mx.contoso.com; result=secured", &a);
	ds_session_header(s, "From", "a@woodgrovebank.com", &a);
	ds_session_eom(s, "QID3", &a, &e);
	assert_int_equal(a.step, DS_STEP_CONTINUE);
	assert_int_equal(e.n_add, 0);
	assert_int_equal(e.n_remove, 1);
	ds_session_close(s);
	/* the same address over SMTP is the trusted relay and keeps it */
	ds_session_mail(relay, "a@woodgrovebank.com", &a);
	ds_session_rcpt(relay, &a);
	ds_session_header(relay, "X-Domain-Secured", "mx.contoso.com; result=secured", &a);
	ds_session_header(relay, "From", "a@woodgrovebank.com", &a);
	ds_session_eom(relay, "QID4", &a, &e);
	assert_int_equal(e.n_remove, 0);
	ds_session_close(relay);
}

/* One summary line per message; above MaxForgedHeaders the message is
 * refused (Postfix's cleanup panics past ~10,000 removals). */
static void test_forged_header_cap(void **state)
{
	struct ds_session *s = open_session(50008, 0);
	struct ds_answer a;
	struct ds_edits e;
	int refused_at = 0;

	(void)state;
	ds_session_mail(s, "someone@example.org", &a);
	capture_begin();
	for (int i = 1; i <= 3; i++)
		ds_session_header(s, "X-Domain-Secured", "forged", &a);
	ds_session_header(s, "Authentication-Results", "mx.contoso.com; x=pass", &a);
	ds_session_header(s, "Authentication-Results", "other.example; spf=pass", &a);
	ds_session_eom(s, "QID3", &a, &e);
	const char *log = capture_end();

	assert_int_equal(e.n_remove, 4);
	assert_int_equal(count_lines_with(log, "forged"), 1);
	assert_non_null(strstr(log, "QID3: client " ADDR "[50008]: removing 4 "
	    "forged trust header(s): 3 X-Domain-Secured, 1 Authentication-Results"));

	/* The header step never answers (the milter negotiates SMFIP_NR_HDR):
	 * the cap is counted there and enforced at end of message. */
	ds_session_mail(s, "someone@example.org", &a);
	capture_begin();
	for (int i = 1; i <= 1500 && refused_at == 0; i++) {
		ds_session_header(s, "X-Domain-Secured", "forged", &a);
		if (a.step != DS_STEP_CONTINUE)
			refused_at = i;
	}
	assert_int_equal(refused_at, 0);
	ds_session_eom(s, "QID4", &a, &e);
	log = capture_end();
	assert_int_equal(a.step, DS_STEP_REJECT);
	assert_string_equal(a.reply.rcode, "550");
	assert_int_equal(e.n_remove, 0);
	assert_non_null(strstr(log, "more than 1000 forged trust headers"));
	/* the next message in the session starts afresh */
	ds_session_mail(s, "someone@example.org", &a);
	ds_session_header(s, "X-Domain-Secured", "forged", &a);
	ds_session_eom(s, "QID5", &a, &e);
	assert_int_equal(a.step, DS_STEP_CONTINUE);
	assert_int_equal(e.n_remove, 1);
	ds_session_close(s);
}

/*
 * A seeded random walk over both front ends' events for a handful of
 * address/port pairs.  Invariant: a header is only ever added in a session
 * whose own facts say TLS and whose decision rests on the fingerprint of
 * the pinned partner certificate the policy service or the MTA reported
 * for this very TLS state.
 */
static void test_random_walk_never_tags_without_tls(void **state)
{
	struct ds_session *open[4] = { 0 };
	int own_tls[4] = { 0 };
	unsigned seed = 20261129;
	static const char *senders[] = { "a@woodgrovebank.com", "",
	    "b@example.org", "c@sales.tailspin.com" };
	static const char *froms[] = { "a@woodgrovebank.com",
	    "x@evil.example <a@woodgrovebank.com>", "a@woodgrovebank.com, x@evil.example" };
	size_t tagged = 0;

	(void)state;
	capture_begin();
	for (int step = 0; step < 3000; step++) {
		int k = rand_r(&seed) % 4, port = 51000 + k;
		int ev = rand_r(&seed) % 7;
		const char *sender = senders[rand_r(&seed) % 4];
		struct ds_answer a;
		struct ds_edits e;
		struct ds_facts f;

		if (open[k] == NULL) {
			open[k] = ds_session_open(core, ADDR, port);
			own_tls[k] = 0;
			f = milter_facts(0);
			ds_session_facts(open[k], &f);
		}
		switch (ev) {
		case 0:   /* a planted or real policy request */
			policy(rand_r(&seed) % 2 ? "exact" : NULL, port, sender);
			break;
		case 1:   /* HELO: TLS or not */
			own_tls[k] = rand_r(&seed) % 2;
			f = milter_facts(own_tls[k]);
			ds_session_facts(open[k], &f);
			break;
		case 2:
			ds_session_mail(open[k], sender, &a);
			break;
		case 3:
			ds_session_rcpt(open[k], &a);
			break;
		case 4:
			ds_session_header(open[k], "From",
			    froms[rand_r(&seed) % 3], &a);
			break;
		case 5:
			ds_session_eom(open[k], "Q", &a, &e);
			if (e.n_add > 0) {
				tagged++;
				if (!own_tls[k])
					fail_msg("tag added in a clear-text session");
				if (open[k]->decision.verdict != DS_VERDICT_SECURED ||
				    strcmp(open[k]->decision.leaf.subject, "") == 0)
					fail_msg("tag without a verified certificate");
			}
			break;
		default:
			ds_session_close(open[k]);
			open[k] = NULL;
			break;
		}
	}
	capture_end();
	for (int k = 0; k < 4; k++)
		ds_session_close(open[k]);
	/* the walk did reach tagged messages, so the invariant was tested */
	assert_true(tagged > 0);
}

/* Mail that will not be tagged, with PostfixHeaderChecks: answered
 * ACCEPT at MAIL only when the MTA is Postfix and the table file is this
 * configuration's, and never after a trust header reached the milter. */
static char hc_table[600];    /* PostfixHeaderChecks FILE */

static enum ds_step mail_step(const char *mta, int port, const char *sender)
{
	struct ds_session *s = open_session(port, 1);
	struct ds_answer a;

	ds_session_mta(s, mta, hc_table);
	ds_session_mail(s, sender, &a);
	ds_session_close(s);
	return a.step;
}

/* A Postfix configuration directory (fx.dir/pf) set up the way domsecctl
 * postfix-config leaves it, for postconf to read. */
static void write_postfix_conf(const char *dir, const char *table)
{
	char path[700], text[2048];

	snprintf(path, sizeof path, "%s/main.cf", dir);
	snprintf(text, sizeof text, "compatibility_level = 3.7\n"
	    "header_checks = regexp:%s\n"
	    "milter_macro_defaults = domsec_header_checks=%s\n",
	    table, table);
	assert_int_equal(write_file(path, text), 0);
	snprintf(path, sizeof path, "%s/master.cf", dir);
	assert_int_equal(write_file(path,
	    "smtp inet n - n - - smtpd\n"
	    "pickup unix n - n 60 1 pickup\n"
	    "cleanup unix n - n - 0 cleanup\n"), 0);
}

static void test_postfix_header_checks_accept_early(void **state)
{
	char conf[700], dir[500], text[4096], why[512];
	char *table = hc_table;
	struct ds_answer a;
	struct ds_edits e;
	size_t added;

	(void)state;
	snprintf(dir, sizeof dir, "%s/pf", fx.dir);
	mkdir(dir, 0755);
	snprintf(hc_table, sizeof hc_table, "%s/domsec_header_checks", dir);
	write_postfix_conf(dir, table);
	unlink(table);
	snprintf(conf, sizeof conf, "PostfixHeaderChecks %s\n", table);
	free_core();
	capture_begin();
	assert_int_equal(build_core(conf), 0);
	const char *log = capture_end();
	/* no table: said at start, nothing accepted early */
	assert_non_null(strstr(log, "PostfixHeaderChecks"));
	assert_non_null(strstr(log, ": missing"));
	assert_int_equal(mail_step("Postfix 3.7.11", 50020, "x@example.org"),
	    DS_STEP_CONTINUE);
	/* the table written for this configuration: trusted on the next load */
	assert_false(ds_postfix_header_checks_current(&cfg, why, sizeof why));
	assert_true(ds_postfix_header_checks(&cfg, text, sizeof text) > 0);
	assert_int_equal(write_file(table, text), 0);
	assert_true(ds_postfix_header_checks_current(&cfg, why, sizeof why));
	free_core();
	assert_int_equal(build_core(conf), 0);
	assert_int_equal(mail_step("Postfix 3.7.11", 50021, "x@example.org"),
	    DS_STEP_ACCEPT);
	assert_int_equal(mail_step("Postfix 3.7.11", 50022, "nodomain"),
	    DS_STEP_ACCEPT);
	/* another Postfix instance (no binding macro): the whole way */
	struct ds_session *other = open_session(50031, 1);
	ds_session_mta(other, "Postfix 3.7.11", NULL);
	ds_session_mail(other, "x@example.org", &a);
	assert_int_equal(a.step, DS_STEP_CONTINUE);
	ds_session_close(other);
	/* Sendmail's v is its version alone; unknown MTA: the whole way */
	assert_int_equal(mail_step("8.17.1.9", 50023, "x@example.org"),
	    DS_STEP_CONTINUE);
	assert_int_equal(mail_step(NULL, 50024, "x@example.org"),
	    DS_STEP_CONTINUE);
	assert_int_equal(mail_step("Postfixish 1.0", 50025, "x@example.org"),
	    DS_STEP_CONTINUE);
	/* partner and null-sender mail go the whole way */
	assert_int_equal(mail_step("Postfix 3.7.11", 50026,
	    "a@woodgrovebank.com"), DS_STEP_CONTINUE);
	assert_int_equal(mail_step("Postfix 3.7.11", 50027, ""),
	    DS_STEP_CONTINUE);
	/* local submission and trusted relays are not judged: accepted */
	struct ds_session *local = ds_session_open(core, "127.0.0.1", 0);
	ds_session_mta(local, "Postfix 3.7.11", table);
	ds_session_mail(local, "a@woodgrovebank.com", &a);
	assert_int_equal(a.step, DS_STEP_ACCEPT);
	ds_session_close(local);
	/* a trust header reaches the milter: removed, logged once, and no
	 * message is accepted early after it */
	struct ds_session *s = open_session(50028, 1);
	ds_session_mta(s, "Postfix 3.7.11", table);
	capture_begin();
	assert_int_equal(message(s, "a@woodgrovebank.com",
	    "a@woodgrovebank.com", &added), DS_STEP_REJECT);
	/* (no hand-off: no certificate) */
	ds_session_mail(s, "", &a);
	ds_session_header(s, "X-Domain-Secured", "forged", &a);
	ds_session_header(s, "From", "b@example.org", &a);
	ds_session_eom(s, "QID9", &a, &e);
	assert_int_equal(e.n_remove, 1);
	ds_session_header(s, "X-Domain-Secured", "forged again", &a);
	log = capture_end();
	assert_int_equal(count_lines_with(log, "reached the milter"), 1);
	ds_session_close(s);
	assert_int_equal(mail_step("Postfix 3.7.11", 50029, "x@example.org"),
	    DS_STEP_CONTINUE);
	/* main.cf changed (the table no longer first): audited again at
	 * the next MAIL, and not trusted */
	free_core();
	assert_int_equal(build_core(conf), 0);
	assert_int_equal(mail_step("Postfix 3.7.11", 50032, "x@example.org"),
	    DS_STEP_ACCEPT);
	char main_cf[600];
	snprintf(main_cf, sizeof main_cf, "%s/main.cf", dir);
	snprintf(text, sizeof text, "compatibility_level = 3.7\n"
	    "header_checks = regexp:%s/other, regexp:%s\n"
	    "milter_macro_defaults = domsec_header_checks=%s\n",
	    dir, table, table);
	sleep(1);   /* (a later change time even on coarse clocks) */
	assert_int_equal(write_file(main_cf, text), 0);
	capture_begin();
	assert_int_equal(mail_step("Postfix 3.7.11", 50033, "x@example.org"),
	    DS_STEP_CONTINUE);
	log = capture_end();
	assert_non_null(strstr(log, "does not list regexp:"));
	write_postfix_conf(dir, table);
	/* a table written for another configuration (an older AuthservID)
	 * is not trusted */
	free_core();
	assert_int_equal(write_file(table,
	    "/^X-Domain-Secured[[:space:]]*:/ IGNORE\n"
	    "/^Authentication-Results[[:space:]]*:.*mx[.]old/ IGNORE\n"), 0);
	capture_begin();
	assert_int_equal(build_core(conf), 0);
	log = capture_end();
	assert_non_null(strstr(log, "not the table of this configuration"));
	assert_int_equal(mail_step("Postfix 3.7.11", 50030, "x@example.org"),
	    DS_STEP_CONTINUE);
	free_core();
	unlink(table);
	assert_int_equal(build_core(NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_then_milter_secured),
		cmocka_unit_test(test_planted_policy_verdict),
		cmocka_unit_test(test_milter_decision_not_handed_over),
		cmocka_unit_test(test_starttls_after_refusal),
		cmocka_unit_test(test_one_verdict_line),
		cmocka_unit_test(test_null_sender_uses_from),
		cmocka_unit_test(test_ipv6_client_canonical),
		cmocka_unit_test(test_local_submission_strip_only),
		cmocka_unit_test(test_local_submission_from_trusted_relay_address),
		cmocka_unit_test(test_forged_header_cap),
		cmocka_unit_test(test_random_walk_never_tags_without_tls),
		cmocka_unit_test(test_postfix_header_checks_accept_early),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
