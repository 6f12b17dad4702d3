/*
 * fromhdr.c - the domains of a From header's mailboxes (see fromhdr.h).
 *
 * A small recursive-descent reader of RFC 5322 section 3.4 over a token
 * list: atoms, quoted strings, domain literals and the specials
 * < > @ , ; : . (comments and folding white space are dropped; an
 * unterminated quoted string or comment, or a stray backslash or ')' is an
 * error).  Accepted shapes:
 *
 *   address-list = address *("," address)      (empty elements skipped)
 *   address      = mailbox / group
 *   group        = phrase ":" [mailbox *("," mailbox)] ";"
 *   mailbox      = [phrase] "<" addr-spec ">" / addr-spec
 *   addr-spec    = word *("." word) "@" atom *("." atom) ["."] / domain-literal
 *   phrase       = word *(word / ".")          (obs-phrase allows the dots)
 *
 * Everything else (an '@' in a display name, text after '>', two angle
 * addresses in one mailbox, a group name that is not a phrase, a source
 * route) is refused as a whole: the value then yields one "".
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "domsec/fromhdr.h"

enum tok_kind { T_END, T_ATOM, T_QSTRING, T_LITERAL, T_SPECIAL };

struct token {
	enum tok_kind kind;
	char c;              /* the special character */
	const char *text;    /* atom text (not terminated) */
	size_t len;
};

#define MAX_TOKENS 1024

struct reader {
	struct token tok[MAX_TOKENS + 1];
	size_t n, pos;
	const char *problem;
	/* domains of the mailboxes read so far */
	char dom[DS_FROM_DOMAINS_MAX + 1][256];
	size_t n_dom;
	int dom_overflow;
};

static int is_atext(unsigned char c)
{
	return isalnum(c) || c >= 0x80 || strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static int fail(struct reader *r, const char *why)
{
	if (r->problem == NULL)
		r->problem = why;
	return -1;
}

/* Skips a comment starting at s[*i] == '('; nested, with quoted pairs. */
static int skip_comment(struct reader *r, const char *s, size_t len, size_t *i)
{
	int depth = 0;

	for (; *i < len; (*i)++) {
		if (s[*i] == '\\') {
			(*i)++;
			continue;
		}
		if (s[*i] == '(')
			depth++;
		else if (s[*i] == ')' && --depth == 0) {
			(*i)++;
			return 0;
		}
	}
	return fail(r, "unterminated comment");
}

static int add_token(struct reader *r, enum tok_kind kind, char c,
    const char *text, size_t len)
{
	if (r->n >= MAX_TOKENS)
		return fail(r, "too many tokens");
	r->tok[r->n].kind = kind;
	r->tok[r->n].c = c;
	r->tok[r->n].text = text;
	r->tok[r->n].len = len;
	r->n++;
	return 0;
}

static int tokenize(struct reader *r, const char *s, size_t len)
{
	size_t i = 0, start;

	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			i++;
		} else if (c == '(') {
			if (skip_comment(r, s, len, &i) < 0)
				return -1;
		} else if (c == '"') {
			for (start = i++; i < len && s[i] != '"'; i++)
				if (s[i] == '\\')
					i++;
			if (i >= len)
				return fail(r, "unterminated quoted string");
			i++;
			if (add_token(r, T_QSTRING, 0, s + start, i - start) < 0)
				return -1;
		} else if (c == '[') {
			for (start = i++; i < len && s[i] != ']'; i++)
				if (s[i] == '\\' || s[i] == '[')
					return fail(r, "malformed domain literal");
			if (i >= len)
				return fail(r, "unterminated domain literal");
			i++;
			if (add_token(r, T_LITERAL, 0, s + start, i - start) < 0)
				return -1;
		} else if (strchr("<>@,;:.", c) != NULL) {
			if (add_token(r, T_SPECIAL, (char)c, s + i, 1) < 0)
				return -1;
			i++;
		} else if (is_atext(c)) {
			for (start = i; i < len && is_atext((unsigned char)s[i]); i++)
				;
			if (add_token(r, T_ATOM, 0, s + start, i - start) < 0)
				return -1;
		} else {
			return fail(r, c == ')' ? "unbalanced ')'" :
			    c == '\\' ? "backslash outside a quoted string" :
			    c == ']' ? "unbalanced ']'" : "control character");
		}
	}
	return add_token(r, T_END, 0, s + len, 0);
}

static const struct token *peek(const struct reader *r)
{
	return &r->tok[r->pos];
}

static int is_special(const struct token *t, char c)
{
	return t->kind == T_SPECIAL && t->c == c;
}

static int is_word(const struct token *t)
{
	return t->kind == T_ATOM || t->kind == T_QSTRING;
}

/* phrase = word *(word / "."); 1 when one was read, 0 when none. */
static int read_phrase(struct reader *r)
{
	if (!is_word(peek(r)))
		return 0;
	r->pos++;
	while (is_word(peek(r)) || is_special(peek(r), '.'))
		r->pos++;
	return 1;
}

static void note_domain(struct reader *r, const char *d)
{
	if (r->n_dom >= DS_FROM_DOMAINS_MAX) {
		r->dom_overflow = 1;
		return;
	}
	snprintf(r->dom[r->n_dom++], sizeof r->dom[0], "%s", d);
}

/* addr-spec; notes its domain ("" when it is no host name). */
static int read_addr_spec(struct reader *r)
{
	char dom[256];
	size_t o = 0;
	int bad = 0;

	if (!is_word(peek(r)))
		return fail(r, "an address must start with a local part");
	r->pos++;
	while (is_special(peek(r), '.')) {
		r->pos++;
		if (!is_word(peek(r)))
			return fail(r, "empty label in the local part");
		r->pos++;
	}
	if (!is_special(peek(r), '@'))
		return fail(r, "a mailbox without '@'");
	r->pos++;
	if (peek(r)->kind == T_LITERAL) {
		r->pos++;
		note_domain(r, "");   /* an address literal never aligns */
		return 0;
	}
	for (;;) {
		const struct token *t = peek(r);
		if (t->kind != T_ATOM)
			return fail(r, "a mailbox without a domain");
		for (size_t i = 0; i < t->len; i++) {
			unsigned char c = (unsigned char)t->text[i];
			if (!(isalnum(c) || c == '-' || c == '_' || c >= 0x80))
				bad = 1;
			if (o + 1 < sizeof dom)
				dom[o++] = (char)tolower(c);
			else
				bad = 1;
		}
		r->pos++;
		if (!is_special(peek(r), '.'))
			break;
		r->pos++;
		if (peek(r)->kind != T_ATOM)
			break;   /* one trailing dot */
		if (o + 1 < sizeof dom)
			dom[o++] = '.';
		else
			bad = 1;
	}
	dom[o] = '\0';
	note_domain(r, bad ? "" : dom);
	return 0;
}

/* mailbox = [phrase] "<" addr-spec ">" / addr-spec */
static int read_mailbox(struct reader *r)
{
	size_t start = r->pos;
	int had_phrase = read_phrase(r);

	if (is_special(peek(r), '<')) {
		r->pos++;
		if (read_addr_spec(r) < 0)
			return -1;
		if (!is_special(peek(r), '>'))
			return fail(r, "angle address not closed by '>'");
		r->pos++;
		return 0;
	}
	if (had_phrase) {
		/* Not a display name after all: read it again as addr-spec. */
		r->pos = start;
	}
	return read_addr_spec(r);
}

/* address = mailbox / group */
static int read_address(struct reader *r)
{
	size_t start = r->pos;

	if (read_phrase(r) && is_special(peek(r), ':')) {
		r->pos++;   /* group = phrase ":" [mailbox-list] ";" */
		if (!is_special(peek(r), ';')) {
			for (;;) {
				if (read_mailbox(r) < 0)
					return -1;
				if (!is_special(peek(r), ','))
					break;
				r->pos++;
			}
		}
		if (!is_special(peek(r), ';'))
			return fail(r, "group not closed by ';'");
		r->pos++;
		return 0;
	}
	r->pos = start;
	if (is_special(peek(r), ':'))
		return fail(r, "group name is not a phrase");
	return read_mailbox(r);
}

/* Empty list elements (obs-addr-list: "a@b, , c@d,") are skipped: they
 * hide no address. */
static int read_address_list(struct reader *r)
{
	for (;;) {
		while (is_special(peek(r), ','))
			r->pos++;
		if (peek(r)->kind == T_END)
			return 0;
		if (read_address(r) < 0)
			return -1;
		if (peek(r)->kind == T_END)
			return 0;
		if (!is_special(peek(r), ','))
			return fail(r, is_special(peek(r), ':') ? "group name is "
			    "not a phrase" : is_special(peek(r), '<') ? "more "
			    "than one address in a mailbox, or '@' in a display "
			    "name" : "text after an address");
		r->pos++;
	}
}

/* Appends d to out, or poisons the last entry of a full list. */
static size_t append(struct ds_from_domains *out, const char *d)
{
	if (out->n >= DS_FROM_DOMAINS_MAX) {
		out->v[DS_FROM_DOMAINS_MAX - 1][0] = '\0';
		return 0;
	}
	snprintf(out->v[out->n++], sizeof out->v[0], "%s", d);
	return 1;
}

static size_t refuse(struct ds_from_domains *out, const char *why)
{
	if (out->problem[0] == '\0')
		snprintf(out->problem, sizeof out->problem, "%s", why);
	return append(out, "");
}

size_t ds_from_domains_parse(const char *value, struct ds_from_domains *out)
{
	struct reader *r;
	size_t len, added = 0;

	if (value == NULL)
		value = "";
	len = strlen(value);
	if (len > DS_FROM_VALUE_MAX)
		return refuse(out, "From header longer than domsec reads");
	r = calloc(1, sizeof *r);
	if (r == NULL)
		return refuse(out, "out of memory reading the From header");
	if (tokenize(r, value, len) < 0 || read_address_list(r) < 0) {
		added = refuse(out, r->problem);
		free(r);
		return added;
	}
	if (r->n_dom == 0) {
		free(r);
		return refuse(out, "From header without a mailbox");
	}
	for (size_t i = 0; i < r->n_dom; i++)
		added += append(out, r->dom[i]);
	if (r->dom_overflow) {
		/* an address that did not fit must not go unseen */
		out->v[out->n - 1][0] = '\0';
		if (out->problem[0] == '\0')
			snprintf(out->problem, sizeof out->problem,
			    "more than %d From addresses", DS_FROM_DOMAINS_MAX);
	}
	free(r);
	return added;
}
