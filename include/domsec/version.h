/*
 * version.h - the version domsecd and domsecctl report (--version); kept
 * equal to the Debian package's (debian/changelog).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef DOMSEC_VERSION_H
#define DOMSEC_VERSION_H

#define DOMSEC_VERSION "0.1.0"

#endif
