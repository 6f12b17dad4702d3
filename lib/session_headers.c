/*
 * session_headers.c - the header side of a session (see session.h): each
 * header's 1-based index among headers of its name, the From header's
 * domains, which arriving headers are forged trust headers, the cap on
 * them, and the removal list handed to the front end (last to first:
 * removing forward shifts Postfix's indices and lets forgeries survive).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "domsec/fmt.h"
#include "domsec/log.h"
#include "session_internal.h"

#define MAX_HEADER_NAMES 4096   /* distinct header names counted per message */

/* 1-based index of this header among those of its name, or -1. */
static int count_header(struct ds_session *s, const char *name)
{
	for (size_t i = 0; i < s->n_counts; i++)
		if (strcasecmp(s->counts[i].name, name) == 0)
			return ++s->counts[i].count;
	if (s->n_counts >= MAX_HEADER_NAMES)
		return -1;
	if (s->n_counts == s->cap_counts) {
		size_t cap = s->cap_counts ? s->cap_counts * 2 : 16;
		struct header_count *v = realloc(s->counts, cap * sizeof *v);
		if (v == NULL)
			return -1;
		s->counts = v;
		s->cap_counts = cap;
	}
	s->counts[s->n_counts].name = strdup(name);
	if (s->counts[s->n_counts].name == NULL)
		return -1;
	s->counts[s->n_counts].count = 1;
	return s->counts[s->n_counts++].count;
}

/* The removal list keeps the name pointer of the header count entry. */
static int add_removal(struct ds_session *s, const char *name, int index)
{
	if (s->n_removals == s->cap_removals) {
		size_t cap = s->cap_removals ? s->cap_removals * 2 : 8;
		struct ds_removal *v = realloc(s->removals, cap * sizeof *v);
		if (v == NULL)
			return -1;
		s->removals = v;
		s->cap_removals = cap;
	}
	s->removals[s->n_removals].name = name;
	s->removals[s->n_removals++].index = index;
	return 0;
}

static const char *counted_name(const struct ds_session *s, const char *name)
{
	for (size_t i = 0; i < s->n_counts; i++)
		if (strcasecmp(s->counts[i].name, name) == 0)
			return s->counts[i].name;
	return NULL;
}

/* The message is to be refused at end of message (the header step
 * itself never answers: the MTA does not wait for it). */
static void refuse_headers(struct ds_session *s, const char *rcode,
    const char *xcode, const char *text)
{
	struct ds_answer *r = &s->header_refusal;

	r->step = rcode[0] == '4' ? DS_STEP_TEMPFAIL : DS_STEP_REJECT;
	snprintf(r->reply.rcode, sizeof r->reply.rcode, "%s", rcode);
	snprintf(r->reply.xcode, sizeof r->reply.xcode, "%s", xcode);
	snprintf(r->reply.text, sizeof r->reply.text, "%s", text);
	s->refused_headers = 1;
}

/* PostfixHeaderChecks promised that Postfix removes trust headers before
 * the milter sees them, yet one arrived: the table is missing, outdated,
 * or bypassed (receive_override_options), or an earlier milter added an
 * Authentication-Results under our authserv-id.  From now on every
 * message goes the whole way through the milter (fail safe), and the
 * administrator is told once. */
static void doubt_postfix(struct ds_session *s, const char *name)
{
	if (__atomic_exchange_n(&s->core->strips_doubted, 1, __ATOMIC_RELAXED))
		return;
	ds_log(LOG_ERR, "client %s[%d]: PostfixHeaderChecks is set, but a %s "
	    "header under our name reached the milter: Postfix's header_checks "
	    "do not hold domsec's table (run domsecctl postfix-config --apply "
	    "and postfix reload), or another milter before domsec writes "
	    "Authentication-Results with our AuthservID.  Every message now "
	    "goes through the milter until domsecd reloads",
	    s->facts.client_addr, s->facts.client_port, name);
}

void ds_session_header(struct ds_session *s, const char *name,
    const char *value, struct ds_answer *out)
{
	const struct ds_config *cfg = s->core->cfg;
	int index;

	memset(out, 0, sizeof *out);
	if (name == NULL || s->refused_headers)
		return;
	if (value == NULL)
		value = "";
	index = count_header(s, name);
	if (strcasecmp(name, "From") == 0)
		ds_from_domains_parse(value, &s->from);
	if (!ds_inbound_header_is_ours(s->core->in, name, value))
		return;
	if (s->mta_strips)
		doubt_postfix(s, name);
	if (s->trusted_relay) {
		s->n_removals++;     /* counted for the log line, kept */
		return;
	}
	if (cfg->max_forged_headers > 0 &&
	    s->n_removals >= (size_t)cfg->max_forged_headers) {
		ds_log(LOG_NOTICE, "client %s[%d]: more than %ld forged trust "
		    "headers (%s); refusing the message at end of message",
		    s->facts.client_addr, s->facts.client_port,
		    cfg->max_forged_headers, name);
		refuse_headers(s, "550", "5.7.1", "message refused: it "
		    "carries too many forged trust headers");
		return;
	}
	if (index < 0 || add_removal(s, counted_name(s, name), index) < 0) {
		/* Cannot note it: never let a forged trust header through. */
		ds_log(LOG_ERR, "client %s[%d]: cannot track header %s for "
		    "removal; deferring the message", s->facts.client_addr,
		    s->facts.client_port, name);
		refuse_headers(s, "451", "4.3.0", "temporary local problem, "
		    "try again later");
	}
}

/* "3 X-Domain-Secured, 1 Authentication-Results" of the removal list. */
static void summarize(const struct ds_session *s, char *out, size_t outlen)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t c = 0; c < s->n_counts; c++) {
		size_t n = 0;
		for (size_t i = 0; i < s->n_removals; i++)
			if (s->removals[i].name == s->counts[c].name)
				n++;
		if (n == 0)
			continue;
		int w = snprintf(out + o, outlen - o, "%s%zu %s", o ? ", " : "",
		    n, s->counts[c].name);
		if (w < 0 || (size_t)w >= outlen - o)
			break;
		o += (size_t)w;
	}
}

void ds_session_header_edits(struct ds_session *s, const char *queue_id,
    struct ds_edits *edits)
{
	const char *qid = queue_id != NULL && queue_id[0] ? queue_id : "-";
	char what[512];

	edits->remove = NULL;
	edits->n_remove = 0;
	if (s->n_removals == 0)
		return;
	if (s->trusted_relay) {
		ds_log(LOG_INFO, "%s: client %s[%d] is a trusted relay: keeping "
		    "its %zu trust header(s)", qid, s->facts.client_addr,
		    s->facts.client_port, s->n_removals);
		return;
	}
	/* Removed last to first: reverse the arrival order. */
	for (size_t i = 0, j = s->n_removals - 1; i < j; i++, j--) {
		struct ds_removal t = s->removals[i];
		s->removals[i] = s->removals[j];
		s->removals[j] = t;
	}
	edits->remove = s->removals;
	edits->n_remove = s->n_removals;
	summarize(s, what, sizeof what);
	ds_counter_add(DS_COUNT_FORGED_REMOVED, s->n_removals);
	ds_log(LOG_NOTICE, "%s: client %s[%d]: removing %zu forged trust "
	    "header(s): %s", qid, s->facts.client_addr, s->facts.client_port,
	    s->n_removals, what);
}

void ds_session_headers_reset(struct ds_session *s)
{
	for (size_t i = 0; i < s->n_counts; i++)
		free(s->counts[i].name);
	free(s->counts);
	free(s->removals);
	s->counts = NULL;
	s->removals = NULL;
	s->n_counts = s->cap_counts = s->n_removals = s->cap_removals = 0;
	s->refused_headers = 0;
	memset(&s->header_refusal, 0, sizeof s->header_refusal);
}
