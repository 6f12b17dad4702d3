# SPDX-License-Identifier: BSD-2-Clause
# domsec top-level Makefile.
#
#   make            build libdomsec.a, domsecctl and domsecd
#   make check      build, then run unit tests, integration tests and the
#                   unit tests again under AddressSanitizer + UBSan
#   make demo       install what is missing, build, run the mail-flow demo
#   make bench      print benchmark figures (the last one, mail latency
#                   during a big CRL refresh, runs a private Postfix as
#                   root: tests/bench/bench-crl-refresh.sh)
#   make bench-mail mail throughput against Postfix alone (private Postfix
#                   instances, tests/bench/bench-mail.sh; not part of check)
#   make fuzz       libFuzzer over every parser, FUZZ_SECONDS (60) each
#   make install    honours PREFIX and DESTDIR; installs conf/ samples as
#                   *.sample, and as the live files only where none exist,
#                   and the systemd unit with PREFIX's sbin directory
#   make uninstall  removes what make install put there, except the live
#                   configuration files (an administrator's edits)
#
# CPPFLAGS, CFLAGS and LDFLAGS from the environment or the command line
# (e.g. dpkg-buildflags) are honoured and come last, so they win.  The
# upstream defaults harden the binaries: stack protector, _FORTIFY_SOURCE=2
# (when optimising, and unless CPPFLAGS/CFLAGS already choose a level), PIE
# and full RELRO (-z relro -z now).
#
# O selects the build directory (default: build), so that several builds
# (normal, sanitizer) can live side by side.

O        ?= build
PREFIX   ?= /usr/local
DESTDIR  ?=
SBINDIR  ?= $(PREFIX)/sbin
BINDIR   ?= $(PREFIX)/bin
MANDIR   ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc/domsec
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system

CC       ?= cc
OPTFLAGS ?= -O2 -g
SANFLAGS ?=
CPPFLAGS ?=
# Hardening (upstream defaults; the caller's flags come after these).
HARDEN_CFLAGS  ?= -fstack-protector-strong -fPIE
HARDEN_LDFLAGS ?= -pie -Wl,-z,relro,-z,now
# _FORTIFY_SOURCE needs optimisation, and defining it twice is an error
# under -Werror: added only with -O1 or more and when no one chose a level.
FORTIFY = $(if $(findstring _FORTIFY_SOURCE,$(CPPFLAGS) $(CFLAGS)),,$(if \
          $(filter -O1 -O2 -O3 -Os -Og -Ofast,$(OPTFLAGS) $(CFLAGS)),-D_FORTIFY_SOURCE=2))
CFLAGS_ALL = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -pthread \
             -Iinclude $(FORTIFY) $(HARDEN_CFLAGS) $(OPTFLAGS) $(SANFLAGS) \
             $(CPPFLAGS) $(CFLAGS)
# Every object and test binary records the headers it really includes
# (-MMD) with an empty rule per header (-MP, so a deleted header does not
# break the build); the .d files are read back at the end of this file.
DEPFLAGS   = -MMD -MP
LDLIBS_CORE = -lssl -lcrypto -lcurl -lpsl -lresolv -pthread
LDFLAGS_ALL = $(HARDEN_LDFLAGS) $(SANFLAGS) $(LDFLAGS)

LIB_SRC    := $(sort $(wildcard lib/*.c lib/crl/*.c))
LIB_OBJ    := $(LIB_SRC:%.c=$(O)/%.o)
CTL_SRC    := $(sort $(wildcard tools/*.c))
CTL_OBJ    := $(CTL_SRC:%.c=$(O)/%.o)
# The MTA-vocabulary parsers (milter macros, policy requests): a small
# library that the daemon, the unit tests and the fuzzers link.
FRONT_SRC  := milter/mtafacts.c policy/request.c
FRONT_OBJ  := $(FRONT_SRC:%.c=$(O)/%.o)
DAEMON_SRC := $(filter-out $(FRONT_SRC),$(sort $(wildcard daemon/*.c milter/*.c policy/*.c)))
DAEMON_OBJ := $(DAEMON_SRC:%.c=$(O)/%.o)
FUZZ_SRC   := $(sort $(wildcard tests/fuzz/fuzz_*.c))
UNIT_SRC   := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(O)/tests/%)
BENCH_SRC  := $(sort $(wildcard tests/bench/bench_*.c))
BENCH_BIN  := $(BENCH_SRC:tests/bench/%.c=$(O)/bench/%)

PROGRAMS := $(O)/domsecctl $(O)/domsecd

.PHONY: all check unit integration sanitize demo bench bench-mail fuzz fuzz-build lint install uninstall clean deps
all: $(O)/libdomsec.a $(O)/libdomsec-frontend.a $(PROGRAMS)

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(DEPFLAGS) -c -o $@ $<

$(O)/libdomsec.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(O)/libdomsec-frontend.a: $(FRONT_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(O)/domsecctl: $(CTL_OBJ) $(O)/libdomsec.a
	$(CC) $(LDFLAGS_ALL) -o $@ $(CTL_OBJ) $(O)/libdomsec.a $(LDLIBS_CORE)

$(O)/domsecd: $(DAEMON_OBJ) $(O)/libdomsec-frontend.a $(O)/libdomsec.a
	$(CC) $(LDFLAGS_ALL) -o $@ $(DAEMON_OBJ) $(O)/libdomsec-frontend.a \
	    $(O)/libdomsec.a -lmilter -lmicrohttpd $(LDLIBS_CORE)

# tests/unit/fixture.c: the compiled fixture (PKI, helper servers) every
# unit test links.
$(O)/tests/fixture.o: tests/unit/fixture.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -I. $(DEPFLAGS) -c -o $@ $<

$(O)/tests/%: tests/unit/%.c $(O)/tests/fixture.o $(O)/libdomsec-frontend.a $(O)/libdomsec.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -I. $(DEPFLAGS) $(LDFLAGS_ALL) -o $@ $< $(O)/tests/fixture.o \
	    $(O)/libdomsec-frontend.a $(O)/libdomsec.a -lcmocka $(LDLIBS_CORE)

# libFuzzer harnesses: the libraries built again with clang, ASan, UBSan and
# fuzzer-no-link in build-fuzz (warnings are clang's, not fatal there), each
# harness linked with -fsanitize=fuzzer.
FUZZ_O    ?= build-fuzz
FUZZ_SAN   = -fsanitize=address,undefined -fno-sanitize-recover=all
$(FUZZ_O)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_O)/libdomsec-frontend.a $(FUZZ_O)/libdomsec.a
	clang -std=c11 -D_GNU_SOURCE -pthread -g -O1 -Iinclude -I. $(FUZZ_SAN) \
	    -fsanitize=fuzzer -MMD -MP -o $@ $< $(FUZZ_O)/libdomsec-frontend.a \
	    $(FUZZ_O)/libdomsec.a $(LDLIBS_CORE)

ifneq ($(abspath $(O)),$(abspath $(FUZZ_O)))
$(FUZZ_O)/libdomsec.a $(FUZZ_O)/libdomsec-frontend.a: FORCE
	$(MAKE) O=$(FUZZ_O) CC=clang OPTFLAGS="-g -O1 -fno-omit-frame-pointer" \
	    SANFLAGS="$(FUZZ_SAN) -fsanitize=fuzzer-no-link" HARDEN_CFLAGS= \
	    HARDEN_LDFLAGS= CFLAGS=-Wno-error $(FUZZ_O)/libdomsec.a \
	    $(FUZZ_O)/libdomsec-frontend.a
endif
FORCE:

fuzz-build: $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_O)/%)

$(O)/bench/%: tests/bench/%.c $(O)/libdomsec.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -I. $(DEPFLAGS) $(LDFLAGS_ALL) -o $@ $< $(O)/libdomsec.a $(LDLIBS_CORE)

unit: all $(UNIT_BIN)
	@tests/run-unit.sh $(UNIT_BIN)

integration: all
	@DOMSEC_BUILD=$(abspath $(O)) tests/run-integration.sh

# The same unit tests (and the domsecctl integration tests) built with
# AddressSanitizer and UndefinedBehaviorSanitizer in a separate directory.
sanitize:
	$(MAKE) O=build-san OPTFLAGS="-O1 -g -fno-omit-frame-pointer" \
	    SANFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all" unit
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	    DOMSEC_BUILD=$(abspath build-san) DOMSEC_SANITIZED=1 tests/run-integration.sh

check: unit integration sanitize

demo:
	contrib/install-deps.sh
	$(MAKE) all
	contrib/demo.sh

bench: all $(BENCH_BIN)
	@for b in $(BENCH_BIN); do echo "== $$b"; $$b || exit 1; done
	@echo "== tests/bench/bench-crl-refresh.sh"
	@DOMSEC_BUILD=$(abspath $(O)) DOMSEC_TOP=$(CURDIR) tests/bench/bench-crl-refresh.sh

# make bench-mail: the sending client and the null milter, then the script.
$(O)/bench/mailsend: tests/bench/mailsend.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(DEPFLAGS) $(LDFLAGS_ALL) -o $@ $< -lssl -lcrypto -pthread

$(O)/bench/null_milter: tests/bench/null_milter.c milter/negotiate.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -I. $(DEPFLAGS) $(LDFLAGS_ALL) -o $@ $< -lmilter -pthread

bench-mail: all $(O)/bench/mailsend $(O)/bench/null_milter
	DOMSEC_BUILD=$(abspath $(O)) DOMSEC_TOP=$(CURDIR) tests/bench/bench-mail.sh

FUZZ_SECONDS ?= 60
fuzz: fuzz-build
	FUZZ_BUILD=$(abspath $(FUZZ_O)) tests/fuzz/run.sh $(FUZZ_SECONDS)

# House rules (scripts/checksrc.sh) and a static analyser; .ci/run runs this
# before make check.
lint:
	scripts/checksrc.sh
	cppcheck --quiet --enable=warning,portability --std=c11 --error-exitcode=1 \
	    --inline-suppr -D_GNU_SOURCE -I include lib milter policy daemon tools

deps:
	contrib/install-deps.sh

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(SYSCONFDIR) $(DESTDIR)$(SYSTEMDUNITDIR)
	install -m 0755 $(O)/domsecctl $(DESTDIR)$(BINDIR)/domsecctl
	install -m 0755 $(O)/domsecd $(DESTDIR)$(SBINDIR)/domsecd
	for m in man/*.8; do [ -f "$$m" ] && install -m 0644 $$m $(DESTDIR)$(MANDIR)/man8/; done; true
	for m in man/*.5; do [ -f "$$m" ] && install -m 0644 $$m $(DESTDIR)$(MANDIR)/man5/; done; true
	for c in conf/*; do [ -f "$$c" ] || continue; \
	    install -m 0644 $$c $(DESTDIR)$(SYSCONFDIR)/$$(basename $$c).sample; \
	    [ -e $(DESTDIR)$(SYSCONFDIR)/$$(basename $$c) ] || \
	        install -m 0644 $$c $(DESTDIR)$(SYSCONFDIR)/$$(basename $$c); \
	done
	sed -e 's|/usr/local/sbin/|$(SBINDIR)/|g' -e 's|/etc/domsec/|$(SYSCONFDIR)/|g' \
	    contrib/domsecd.service >$(DESTDIR)$(SYSTEMDUNITDIR)/domsecd.service.tmp
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/domsecd.service.tmp
	mv -f $(DESTDIR)$(SYSTEMDUNITDIR)/domsecd.service.tmp $(DESTDIR)$(SYSTEMDUNITDIR)/domsecd.service

# The live configuration files stay (they may hold the administrator's
# edits); the samples, binaries, man pages and unit go.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/domsecctl $(DESTDIR)$(SBINDIR)/domsecd
	for m in man/*.8; do rm -f $(DESTDIR)$(MANDIR)/man8/$$(basename $$m); done
	for m in man/*.5; do rm -f $(DESTDIR)$(MANDIR)/man5/$$(basename $$m); done
	for c in conf/*; do rm -f $(DESTDIR)$(SYSCONFDIR)/$$(basename $$c).sample; done
	rm -f $(DESTDIR)$(SYSTEMDUNITDIR)/domsecd.service

clean:
	rm -rf build build-san build-fuzz $(O)

# Header dependencies recorded by -MMD (absent on a clean tree); not from
# the trees the package and Sendmail tests unpack under the build directory.
-include $(shell find $(O) \( -path '$(O)/deb' -o -path '$(O)/sendmail-*' \) -prune \
    -o -type f -name '*.d' -print 2>/dev/null)
