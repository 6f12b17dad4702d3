/*
 * pki_fixture.h - for unit tests: builds the test PKI of tests/pki/README.md
 * in a fresh temporary directory (tests/pki/mkpki.sh, found under $DOMSEC_TOP
 * or the current directory, which is the top of the tree under `make unit`)
 * and removes it afterwards.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef DOMSEC_TEST_PKI_FIXTURE_H
#define DOMSEC_TEST_PKI_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char pki_dir[256];

/* path of a file of the PKI, in a rotating set of static buffers */
__attribute__((unused))
static const char *pki_path(const char *name)
{
	static char bufs[8][512];
	static int next;
	char *b = bufs[next++ % 8];
	snprintf(b, sizeof bufs[0], "%s/%s", pki_dir, name);
	return b;
}

/* Returns 0 when the PKI was built; base_url goes into the CDPs. */
__attribute__((unused))
static int pki_build(const char *base_url)
{
	const char *top = getenv("DOMSEC_TOP");
	char cmd[1024];
	snprintf(pki_dir, sizeof pki_dir, "/tmp/domsec-unit-pki.XXXXXX");
	if (mkdtemp(pki_dir) == NULL)
		return -1;
	snprintf(cmd, sizeof cmd, "%s/tests/pki/mkpki.sh '%s' '%s'",
	    top ? top : ".", pki_dir, base_url);
	return system(cmd) == 0 ? 0 : -1;
}

__attribute__((unused))
static void pki_remove(void)
{
	char cmd[512];
	if (pki_dir[0] == '\0')
		return;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", pki_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", pki_dir);
	pki_dir[0] = '\0';
}

/* Runs a shell command and returns its first output line (static buffer,
 * newline stripped), or "" on failure. */
__attribute__((unused))
static const char *shell_line(const char *cmd)
{
	static char line[1024];
	line[0] = '\0';
	FILE *p = popen(cmd, "r");
	if (p == NULL)
		return line;
	if (fgets(line, sizeof line, p) == NULL)
		line[0] = '\0';
	pclose(p);
	line[strcspn(line, "\n")] = '\0';
	return line;
}

#endif
