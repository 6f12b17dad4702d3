/*
 * fromhdr.c - extracts the domains of a From header's addresses.  Not a full
 * RFC 5322 parser: it skips comments and quoted strings, takes the text in
 * angle brackets when there is one and the bare word otherwise, and splits
 * the list at top-level commas (and group ':' ';' markers).  What it cannot
 * read becomes "", which never aligns.
 */
#include <ctype.h>
#include <string.h>
#include "fromhdr.h"

static void add_domain(struct ds_from_domains *out, const char *addr, size_t len)
{
	const char *at = NULL;
	size_t dlen, i;
	char *dst;

	if (out->n >= DS_FROM_DOMAINS_MAX) {
		/* An address we cannot keep must still count: the list then
		 * holds a "" and never aligns. */
		out->v[DS_FROM_DOMAINS_MAX - 1][0] = '\0';
		return;
	}
	dst = out->v[out->n++];
	dst[0] = '\0';
	/* the last '@' outside quotes separates the domain */
	for (i = 0; i < len; i++)
		if (addr[i] == '@')
			at = addr + i;
	if (at == NULL)
		return;
	dlen = len - (size_t)(at + 1 - addr);
	while (dlen > 0 && isspace((unsigned char)at[1 + dlen - 1]))
		dlen--;
	if (dlen > 0 && at[1 + dlen - 1] == '.')
		dlen--;  /* one trailing dot */
	if (dlen == 0 || dlen >= sizeof out->v[0])
		return;
	for (i = 0; i < dlen; i++) {
		unsigned char c = (unsigned char)at[1 + i];
		if (!(isalnum(c) || c == '-' || c == '.' || c == '_' || c >= 0x80)) {
			dst[0] = '\0';   /* not a domain: never aligns */
			return;
		}
		dst[i] = (char)tolower(c);
	}
	dst[dlen] = '\0';
}

/*
 * One mailbox (the text between top-level separators, with comments and
 * quoted strings already blanked): the part in <...> if present, otherwise
 * the whole trimmed text.
 */
static int take_mailbox(const char *s, size_t len, struct ds_from_domains *out)
{
	const char *lt = memchr(s, '<', len);
	const char *start = s, *end = s + len;

	if (lt != NULL) {
		const char *gt = memchr(lt, '>', (size_t)(end - lt));
		if (gt == NULL)
			gt = end;
		start = lt + 1;
		end = gt;
	}
	while (start < end && isspace((unsigned char)*start))
		start++;
	while (end > start && isspace((unsigned char)end[-1]))
		end--;
	if (start == end)
		return 0;
	add_domain(out, start, (size_t)(end - start));
	return 1;
}

size_t ds_from_domains_parse(const char *value, struct ds_from_domains *out)
{
	char buf[4096];
	size_t len, i, start = 0, before = out->n;
	int depth = 0, inquote = 0, found = 0, cut = 0;

	if (value == NULL)
		value = "";
	len = strlen(value);
	if (len >= sizeof buf) {
		len = sizeof buf - 1;
		cut = 1;
	}
	memcpy(buf, value, len);
	buf[len] = '\0';
	/* Blank comments and quoted strings so that their '@' ',' '<' do not count. */
	for (i = 0; i < len; i++) {
		char c = buf[i];
		if (inquote) {
			if (c == '\\' && i + 1 < len) {
				buf[i] = buf[i + 1] = ' ';
				i++;
				continue;
			}
			if (c == '"')
				inquote = 0;
			buf[i] = ' ';
		} else if (depth > 0) {
			if (c == '\\' && i + 1 < len) {
				buf[i] = buf[i + 1] = ' ';
				i++;
				continue;
			}
			if (c == '(')
				depth++;
			else if (c == ')')
				depth--;
			buf[i] = ' ';
		} else if (c == '"') {
			inquote = 1;
			buf[i] = ' ';
		} else if (c == '(') {
			depth = 1;
			buf[i] = ' ';
		}
	}
	/* Split at top-level ',' ';' and after a group name's ':' (outside <>). */
	int inangle = 0;
	for (i = 0; i <= len; i++) {
		char c = buf[i];
		if (c == '<')
			inangle = 1;
		else if (c == '>')
			inangle = 0;
		if (c == '\0' || (!inangle && (c == ',' || c == ';' || c == ':'))) {
			if (c == ':') {
				start = i + 1;   /* "group:" - the name is not an address */
				continue;
			}
			found += take_mailbox(buf + start, i - start, out);
			start = i + 1;
		}
	}
	if (found == 0 && out->n < DS_FROM_DOMAINS_MAX)
		out->v[out->n++][0] = '\0';
	else if (found == 0)
		out->v[DS_FROM_DOMAINS_MAX - 1][0] = '\0';   /* list full */
	/* A cut value may end inside an address ("a@partner.com" of
	 * "a@partner.com.evil.example") and loses the ones after it. */
	if (cut && out->n > 0)
		out->v[out->n - 1][0] = '\0';
	return out->n - before;
}
