/*
 * fuzz_cidr.c - libFuzzer harness for address ranges and client addresses
 * as MTAs report them (lib/cidr.c), which decide who is a trusted relay
 * (allowed to keep trust headers).  Invariant: an address that matches
 * 10.0.0.0/8 parses to 10.x.y.z (IPv4, or IPv4-mapped IPv6), and its
 * canonical form matches too.
 *
 * Input: range list NUL client address.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "domsec/cidr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), err[256], canon[80];
	const char *ranges, *addr, *z;
	struct ds_cidr c;
	struct ds_cidr_list l = { 0 }, ten = { 0 };
	struct ds_strlist entries = { 0 }, ten_entries = { 0 };
	unsigned char bytes[16];
	int family;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	ranges = buf;
	z = memchr(buf, '\0', size);
	addr = z != NULL ? z + 1 : "";

	if (ds_cidr_parse(ranges, &c) == 0 &&
	    (c.prefix < 0 || c.prefix > (c.family == AF_INET ? 32 : 128)))
		abort();
	ds_strlist_add(&entries, ranges);
	if (ds_cidr_list_build(&l, &entries, err, sizeof err) == 0) {
		(void)ds_cidr_list_match(&l, addr);
		ds_cidr_list_free(&l);
	}
	ds_addr_parse(addr, &family, bytes);
	ds_addr_canonical(addr, canon, sizeof canon);
	ds_addr_canonical(addr, canon, 3);

	ds_strlist_add(&ten_entries, "10.0.0.0/8");
	if (ds_cidr_list_build(&ten, &ten_entries, err, sizeof err) != 0)
		abort();
	if (ds_cidr_list_match(&ten, addr)) {
		if (ds_addr_parse(addr, &family, bytes) != 0 || family != AF_INET ||
		    bytes[0] != 10)
			abort();
		ds_addr_canonical(addr, canon, sizeof canon);
		if (!ds_cidr_list_match(&ten, canon))
			abort();
	}
	ds_cidr_list_free(&ten);
	ds_strlist_free(&ten_entries);
	ds_strlist_free(&entries);
	free(buf);
	return 0;
}
