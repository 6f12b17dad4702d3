/*
 * mx.c - MX lookup with the RFC 5321 fallback to address records, through
 * libresolv (res_nquery/ns_parse, a resolver state per query, so it is
 * thread-safe), optionally against one given name server.  The addresses of
 * several MX hosts are looked up in parallel.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ctype.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "domsec/mx.h"

#define DNS_ANSWER_MAX 65535

const char *ds_mx_status_name(enum ds_mx_status s)
{
	switch (s) {
	case DS_MX_OK:
		return "ok";
	case DS_MX_TEMPORARY:
		return "temporary DNS failure";
	case DS_MX_NO_DOMAIN:
		return "no such mail domain";
	case DS_MX_NULL_MX:
		return "null MX (domain accepts no mail)";
	case DS_MX_NO_ADDRESS:
		return "no MX host has an address";
	}
	return "unknown";
}

static void lower_copy(char *dst, size_t dstlen, const char *src)
{
	size_t i = 0;

	for (; src[i] != '\0' && i + 1 < dstlen; i++)
		dst[i] = (char)tolower((unsigned char)src[i]);
	dst[i] = '\0';
	if (i > 0 && dst[i - 1] == '.')
		dst[i - 1] = '\0';
}

/* One query.  Returns the answer length, or -1 with *herr set (h_errno
 * values: HOST_NOT_FOUND, NO_DATA, TRY_AGAIN, NO_RECOVERY). */
static int dns_query(const char *name, int type, const struct ds_resolver *r,
    unsigned char *answer, int answerlen, int *herr)
{
	struct __res_state st;
	int n;

	memset(&st, 0, sizeof st);
	if (res_ninit(&st) != 0) {
		*herr = TRY_AGAIN;
		return -1;
	}
	if (r != NULL && r->server[0] != '\0') {
		struct sockaddr_in sa;

		memset(&sa, 0, sizeof sa);
		sa.sin_family = AF_INET;
		sa.sin_port = htons((unsigned short)(r->port > 0 ? r->port : 53));
		if (inet_pton(AF_INET, r->server, &sa.sin_addr) != 1) {
			res_nclose(&st);
			*herr = NO_RECOVERY;
			return -1;
		}
		st.nsaddr_list[0] = sa;
		st.nscount = 1;
	}
	if (r != NULL && r->timeout_s > 0)
		st.retrans = r->timeout_s;
	if (r != NULL && r->tries > 0)
		st.retry = r->tries;
	n = res_nquery(&st, name, ns_c_in, type, answer, answerlen);
	if (n < 0)
		*herr = st.res_h_errno;
	res_nclose(&st);
	return n;
}

static const char *herr_text(int herr)
{
	switch (herr) {
	case HOST_NOT_FOUND:
		return "no such domain (NXDOMAIN)";
	case NO_DATA:
		return "no records of that type";
	case TRY_AGAIN:
		return "name server failure or timeout";
	case NO_RECOVERY:
		return "name server refused or failed the query";
	}
	return "resolver error";
}

static int add_address(struct ds_mx_host *host, const char *text)
{
	for (size_t i = 0; i < host->n_addrs; i++)
		if (strcmp(host->addrs[i], text) == 0)
			return 0;
	if (host->n_addrs == DS_MX_MAX_ADDRS)
		return 0;
	snprintf(host->addrs[host->n_addrs++], DS_ADDR_TEXT_LEN, "%s", text);
	return 0;
}

/* Parses A or AAAA records of an answer into host.  Returns the count or -1. */
static int parse_addresses(const unsigned char *msg, int len, int type,
    struct ds_mx_host *host)
{
	ns_msg h;
	int found = 0;

	if (ns_initparse(msg, len, &h) < 0)
		return -1;
	for (int i = 0; i < ns_msg_count(h, ns_s_an); i++) {
		ns_rr rr;
		char text[DS_ADDR_TEXT_LEN];

		if (ns_parserr(&h, ns_s_an, i, &rr) < 0)
			return -1;
		if (ns_rr_class(rr) != ns_c_in || (int)ns_rr_type(rr) != type)
			continue;
		if (type == ns_t_a && ns_rr_rdlen(rr) == 4)
			inet_ntop(AF_INET, ns_rr_rdata(rr), text, sizeof text);
		else if (type == ns_t_aaaa && ns_rr_rdlen(rr) == 16)
			inet_ntop(AF_INET6, ns_rr_rdata(rr), text, sizeof text);
		else
			return -1;
		add_address(host, text);
		found++;
	}
	return found;
}

int ds_host_addresses(const char *name, const struct ds_resolver *r,
    struct ds_mx_host *host)
{
	static const int types[2] = { ns_t_a, ns_t_aaaa };
	unsigned char addr_bytes[16];
	unsigned char *answer;
	int temporary = 0, missing = 0;
	const char *why = "";

	host->n_addrs = 0;
	host->addr_temporary = 0;
	host->addr_error[0] = '\0';
	if (inet_pton(AF_INET, name, addr_bytes) == 1 ||
	    inet_pton(AF_INET6, name, addr_bytes) == 1) {
		add_address(host, name);
		return 0;
	}
	answer = malloc(DNS_ANSWER_MAX);
	if (answer == NULL) {
		host->addr_temporary = 1;
		snprintf(host->addr_error, sizeof host->addr_error, "out of memory");
		return -1;
	}
	for (int t = 0; t < 2; t++) {
		int herr = 0;
		int n = dns_query(name, types[t], r, answer, DNS_ANSWER_MAX, &herr);

		if (n < 0) {
			if (herr == HOST_NOT_FOUND || herr == NO_DATA) {
				missing++;
			} else {
				temporary = 1;
				why = herr_text(herr);
			}
			continue;
		}
		if (parse_addresses(answer, n, types[t], host) < 0) {
			temporary = 1;
			why = "malformed DNS answer";
		}
	}
	free(answer);
	if (host->n_addrs > 0)
		return 0;
	host->addr_temporary = temporary;
	if (temporary)
		snprintf(host->addr_error, sizeof host->addr_error,
		    "address lookup for %s failed: %s", name, why);
	else
		snprintf(host->addr_error, sizeof host->addr_error,
		    "%s has no A or AAAA record", name);
	(void)missing;
	return -1;
}

int ds_mx_parse_answer(const unsigned char *msg, int len,
    struct ds_mx_result *out)
{
	ns_msg h;
	int found = 0, null_mx = 0;

	if (ns_initparse(msg, len, &h) < 0)
		return -1;
	for (int i = 0; i < ns_msg_count(h, ns_s_an); i++) {
		ns_rr rr;
		char target[256];
		int pref;
		size_t pos;

		if (ns_parserr(&h, ns_s_an, i, &rr) < 0)
			return -1;
		if (ns_rr_class(rr) != ns_c_in || ns_rr_type(rr) != ns_t_mx)
			continue;
		if (ns_rr_rdlen(rr) < 3)
			return -1;
		pref = ns_get16(ns_rr_rdata(rr));
		if (ns_name_uncompress(ns_msg_base(h), ns_msg_end(h),
		    ns_rr_rdata(rr) + 2, target, sizeof target) < 0)
			return -1;
		found++;
		if (target[0] == '\0' || strcmp(target, ".") == 0) {
			null_mx = 1;
			continue;
		}
		lower_copy(target, sizeof target, target);
		int dup = 0;
		for (size_t k = 0; k < out->n_hosts; k++)
			if (strcmp(out->hosts[k].name, target) == 0)
				dup = 1;
		if (dup || out->n_hosts == DS_MX_MAX_HOSTS)
			continue;
		/* Insert after every host of lower or equal preference. */
		pos = out->n_hosts;
		while (pos > 0 && out->hosts[pos - 1].preference > pref)
			pos--;
		memmove(&out->hosts[pos + 1], &out->hosts[pos],
		    (out->n_hosts - pos) * sizeof out->hosts[0]);
		memset(&out->hosts[pos], 0, sizeof out->hosts[pos]);
		snprintf(out->hosts[pos].name, sizeof out->hosts[pos].name, "%s",
		    target);
		out->hosts[pos].preference = pref;
		out->n_hosts++;
	}
	if (null_mx && out->n_hosts == 0)
		return -2;
	return found;
}

struct resolve_job {
	struct ds_mx_host *host;
	const struct ds_resolver *r;
};

static void *resolve_thread(void *arg)
{
	struct resolve_job *job = arg;

	ds_host_addresses(job->host->name, job->r, job->host);
	return NULL;
}

/* Resolves every MX host, in parallel (one slow name server must not
 * delay the others), then sets out->status. */
static void resolve_hosts(struct ds_mx_result *out, const struct ds_resolver *r)
{
	struct resolve_job jobs[DS_MX_MAX_HOSTS];
	pthread_t threads[DS_MX_MAX_HOSTS];
	int started[DS_MX_MAX_HOSTS];
	int any = 0, temporary = 0;
	const char *first_error = NULL;

	for (size_t i = 0; i < out->n_hosts; i++) {
		jobs[i] = (struct resolve_job){ &out->hosts[i], r };
		started[i] = out->n_hosts > 1 &&
		    pthread_create(&threads[i], NULL, resolve_thread, &jobs[i]) == 0;
		if (!started[i])
			resolve_thread(&jobs[i]);
	}
	for (size_t i = 0; i < out->n_hosts; i++)
		if (started[i])
			pthread_join(threads[i], NULL);
	for (size_t i = 0; i < out->n_hosts; i++) {
		if (out->hosts[i].n_addrs > 0) {
			any = 1;
			continue;
		}
		if (out->hosts[i].addr_temporary)
			temporary = 1;
		if (first_error == NULL)
			first_error = out->hosts[i].addr_error;
	}
	if (any) {
		out->status = DS_MX_OK;
	} else if (temporary) {
		out->status = DS_MX_TEMPORARY;
		snprintf(out->error, sizeof out->error, "%s", first_error);
	} else {
		out->status = DS_MX_NO_ADDRESS;
		snprintf(out->error, sizeof out->error, "%s",
		    first_error ? first_error : "no MX host has an address");
	}
}

int ds_mx_lookup(const char *domain, const struct ds_resolver *r,
    struct ds_mx_result *out)
{
	unsigned char *answer;
	char name[256];
	int n, herr = 0;

	memset(out, 0, sizeof *out);
	if (domain == NULL || domain[0] == '\0' || strlen(domain) >= sizeof name)
		return -1;
	lower_copy(name, sizeof name, domain);
	answer = malloc(DNS_ANSWER_MAX);
	if (answer == NULL) {
		out->status = DS_MX_TEMPORARY;
		snprintf(out->error, sizeof out->error, "out of memory");
		return 0;
	}
	n = dns_query(name, ns_t_mx, r, answer, DNS_ANSWER_MAX, &herr);
	if (n >= 0) {
		int found = ds_mx_parse_answer(answer, n, out);

		free(answer);
		if (found == -2) {
			out->status = DS_MX_NULL_MX;
			snprintf(out->error, sizeof out->error,
			    "%s publishes a null MX (accepts no mail)", name);
			return 0;
		}
		if (found < 0) {
			out->status = DS_MX_TEMPORARY;
			snprintf(out->error, sizeof out->error,
			    "malformed DNS answer to the MX query for %s", name);
			return 0;
		}
		if (out->n_hosts > 0) {
			resolve_hosts(out, r);
			return 0;
		}
		herr = NO_DATA;     /* an answer with no MX record in it */
	} else {
		free(answer);
	}
	if (herr == HOST_NOT_FOUND) {
		out->status = DS_MX_NO_DOMAIN;
		snprintf(out->error, sizeof out->error, "%s: %s", name,
		    herr_text(herr));
		return 0;
	}
	if (herr != NO_DATA) {
		out->status = DS_MX_TEMPORARY;
		snprintf(out->error, sizeof out->error, "MX lookup for %s: %s",
		    name, herr_text(herr));
		return 0;
	}
	/* RFC 5321 5.1: no MX records, the domain itself is the implicit MX. */
	snprintf(out->hosts[0].name, sizeof out->hosts[0].name, "%s", name);
	out->hosts[0].preference = -1;
	out->n_hosts = 1;
	resolve_hosts(out, r);
	if (out->status == DS_MX_NO_ADDRESS) {
		out->status = DS_MX_NO_DOMAIN;
		snprintf(out->error, sizeof out->error,
		    "%s has no MX and no A or AAAA record", name);
	}
	return 0;
}
