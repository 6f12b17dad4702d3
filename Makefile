# domsec top-level Makefile.
#
#   make            build libdomsec.a, domsecctl and domsecd
#   make check      build, then run unit tests, integration tests and the
#                   unit tests again under AddressSanitizer + UBSan
#   make demo       install what is missing, build, run the mail-flow demo
#   make bench      print benchmark figures
#   make fuzz       libFuzzer over every parser, FUZZ_SECONDS (60) each
#   make install    honours PREFIX and DESTDIR; installs conf/ samples as
#                   *.sample, and as the live files only where none exist
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

CC       ?= cc
OPTFLAGS ?= -O2 -g
SANFLAGS ?=
CFLAGS_ALL = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -pthread \
             -Iinclude $(OPTFLAGS) $(SANFLAGS) $(CFLAGS)
# Every object and test binary records the headers it really includes
# (-MMD) with an empty rule per header (-MP, so a deleted header does not
# break the build); the .d files are read back at the end of this file.
DEPFLAGS   = -MMD -MP
LDLIBS_CORE = -lssl -lcrypto -lcurl -lpsl -lresolv -pthread
LDFLAGS_ALL = $(SANFLAGS) $(LDFLAGS)

LIB_SRC    := $(sort $(wildcard lib/*.c))
LIB_OBJ    := $(LIB_SRC:%.c=$(O)/%.o)
CTL_SRC    := $(sort $(wildcard tools/*.c))
CTL_OBJ    := $(CTL_SRC:%.c=$(O)/%.o)
DAEMON_SRC := $(sort $(wildcard milter/*.c policy/*.c))
DAEMON_OBJ := $(DAEMON_SRC:%.c=$(O)/%.o)
UNIT_SRC   := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(O)/tests/%)
BENCH_SRC  := $(sort $(wildcard tests/bench/bench_*.c))
BENCH_BIN  := $(BENCH_SRC:tests/bench/%.c=$(O)/bench/%)

PROGRAMS := $(O)/domsecctl $(O)/domsecd

.PHONY: all check unit integration sanitize demo bench fuzz install clean deps
all: $(O)/libdomsec.a $(PROGRAMS)

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(DEPFLAGS) -c -o $@ $<

$(O)/libdomsec.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(O)/domsecctl: $(CTL_OBJ) $(O)/libdomsec.a
	$(CC) $(LDFLAGS_ALL) -o $@ $(CTL_OBJ) $(O)/libdomsec.a $(LDLIBS_CORE)

$(O)/domsecd: $(DAEMON_OBJ) $(O)/libdomsec.a
	$(CC) $(LDFLAGS_ALL) -o $@ $(DAEMON_OBJ) $(O)/libdomsec.a -lmilter $(LDLIBS_CORE)

$(O)/tests/%: tests/unit/%.c $(O)/libdomsec.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(DEPFLAGS) $(LDFLAGS_ALL) -o $@ $< $(O)/libdomsec.a -lcmocka $(LDLIBS_CORE)

$(O)/bench/%: tests/bench/%.c $(O)/libdomsec.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(DEPFLAGS) $(LDFLAGS_ALL) -o $@ $< $(O)/libdomsec.a $(LDLIBS_CORE)

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

FUZZ_SECONDS ?= 60
fuzz:
	tests/fuzz/build.sh
	tests/fuzz/run.sh $(FUZZ_SECONDS)

deps:
	contrib/install-deps.sh

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(SYSCONFDIR)
	install -m 0755 $(O)/domsecctl $(DESTDIR)$(BINDIR)/domsecctl
	if [ -f $(O)/domsecd ]; then install -m 0755 $(O)/domsecd $(DESTDIR)$(SBINDIR)/domsecd; fi
	for m in man/*.8; do [ -f "$$m" ] && install -m 0644 $$m $(DESTDIR)$(MANDIR)/man8/; done; true
	for m in man/*.5; do [ -f "$$m" ] && install -m 0644 $$m $(DESTDIR)$(MANDIR)/man5/; done; true
	for c in conf/*; do [ -f "$$c" ] || continue; \
	    install -m 0644 $$c $(DESTDIR)$(SYSCONFDIR)/$$(basename $$c).sample; \
	    [ -e $(DESTDIR)$(SYSCONFDIR)/$$(basename $$c) ] || \
	        install -m 0644 $$c $(DESTDIR)$(SYSCONFDIR)/$$(basename $$c); \
	done

clean:
	rm -rf build build-san build-fuzz $(O)

# Header dependencies recorded by -MMD (absent on a clean tree).
-include $(shell find $(O) -name '*.d' 2>/dev/null)
