# ops-updater — see README.
# The version is the first line of debian/changelog, as dpkg-parsechangelog
# reads it: one place for the binary and the package.
VERSION != sed -n '1s/^ops-updater (\([^)]*\)).*/\1/p' debian/changelog
ifeq ($(VERSION),)
$(error the first line of debian/changelog must read "ops-updater (VERSION) ...")
endif
PREFIX = /usr/local
BINDIR = $(PREFIX)/bin
MANDIR = $(PREFIX)/share/man
DOCDIR = $(PREFIX)/share/doc/ops-updater
# The configuration file without -c: the tarball's, in the directory the
# program runs in; debian/rules sets the package's.
CONFIG = cfg.json
PKG_CONFIG = pkg-config
CC = cc
CFLAGS = -O2 -g
# Kept even when the user sets CFLAGS.
WFLAGS = -std=c11 -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes
PKGS = libcurl libcjson libcrypto
DEPCFLAGS = $$($(PKG_CONFIG) --cflags $(PKGS))
DEPLIBS = $$($(PKG_CONFIG) --libs $(PKGS))
ALL_CFLAGS = $(WFLAGS) -D_GNU_SOURCE -DOPS_UPDATER_VERSION='"$(VERSION)"' \
    -DOPS_UPDATER_CFG='"$(CONFIG)"' $(CPPFLAGS) $(CFLAGS) $(DEPCFLAGS)

# B is the build directory: sanitizer builds live apart from the normal one.
B = build
# Every module but main: a new src/x.c needs no edit here.
OBJ = $(patsubst src/%.c,$(B)/%.o,$(filter-out src/main.c,$(wildcard src/*.c)))
HDR = src/*.h

all: ops-updater

ops-updater: $(B)/ops-updater
	cp $(B)/ops-updater $@

$(B)/ops-updater: $(OBJ) $(B)/main.o
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(OBJ) $(B)/main.o $(DEPLIBS)

$(B)/unit: $(OBJ) t/unit.c
	$(CC) $(ALL_CFLAGS) -Isrc $(LDFLAGS) -o $@ t/unit.c $(OBJ) $(DEPLIBS)

$(B)/%.o: src/%.c $(HDR) Makefile
	@mkdir -p $(B)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# They print the version.
$(B)/main.o $(B)/opts.o $(B)/fetch.o: debian/changelog

# The tests find the binaries through OPS_UPDATER and UNIT.
# PLAIN is a build without sanitizers, for the valgrind test.
#
# Most of a test's time is spent waiting on its own processes (a health
# gate, a timeout, a slow server), not on a core, and each test has a
# directory and ports of its own: so 6 run at once even on 2 cores. The
# longest go first, so that no long one starts last and runs alone.
JOBS = 6
SLOW = t/0130-crash.t t/0132-crash-more.t t/0210-resume.t t/0335-pass-timeout.t \
	t/0205-members.t t/0305-trial.t t/0200-unpack.t t/0324-state-bounds.t
TESTS = $(SLOW) $(filter-out $(SLOW),$(sort $(wildcard t/*.t)))
test: ops-updater $(B)/unit
	OPS_UPDATER=$(CURDIR)/$(B)/ops-updater UNIT=$(CURDIR)/$(B)/unit \
	PLAIN=$(CURDIR)/build/ops-updater prove -j$(JOBS) $(TESTS)

SAN = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
check-asan: ops-updater
	$(MAKE) B=build-asan CFLAGS="$(SAN)" LDFLAGS="$(SAN)" build-asan/ops-updater build-asan/unit
	ASAN_OPTIONS=detect_leaks=1:exitcode=86 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=86 \
	OPS_UPDATER=$(CURDIR)/build-asan/ops-updater UNIT=$(CURDIR)/build-asan/unit \
	PLAIN=$(CURDIR)/build/ops-updater prove -j$(JOBS) $(TESTS)

# libFuzzer targets for every parser that sees outside bytes, each run for
# FUZZ_SECONDS from the seeds in t/fuzz/corpus (new finds go to build-fuzz/).
FUZZ_SECONDS = 60
FUZZERS = heartbeat digest config links state log tarstream
FUZZ_SAN = -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all
fuzz:
	$(MAKE) B=build-fuzz CC=clang CFLAGS="$(FUZZ_SAN) -fsanitize=fuzzer-no-link" $(OBJ:$(B)/%=build-fuzz/%)
	for f in $(FUZZERS); do \
		clang $(WFLAGS) -D_GNU_SOURCE $(FUZZ_SAN) -fsanitize=fuzzer -Isrc $(DEPCFLAGS) \
		    -o build-fuzz/fuzz-$$f t/fuzz/$$f.c $(OBJ:$(B)/%=build-fuzz/%) $(DEPLIBS) || exit 1; \
		mkdir -p build-fuzz/corpus-$$f; \
		build-fuzz/fuzz-$$f -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
		    -print_final_stats=1 build-fuzz/corpus-$$f t/fuzz/corpus/$$f 2>build-fuzz/fuzz-$$f.log || \
		    { tail -40 build-fuzz/fuzz-$$f.log; exit 1; }; \
		grep -E 'stat::number_of_executed_units|Done' build-fuzz/fuzz-$$f.log | sed "s/^/$$f: /"; \
	done

# What a pass costs, against its goals: prints a table, never fails.
bench: ops-updater
	OPS_UPDATER=$(CURDIR)/$(B)/ops-updater sh t/bench.sh

# A fleet of N hosts on loopback taking a release without and with
# rollout_spread, then a bad release and its fix (the blast radius; with
# PROBATION=1 the probation keys): prints figures (t/fleet.sh), never
# fails on them.
N = 200
fleet: ops-updater
	N=$(N) OPS_UPDATER=$(CURDIR)/$(B)/ops-updater sh t/fleet.sh

# cppcheck on src/. variableScope is left out: declarations stand at the
# top of a function here, as in the code we learn from.
lint:
	cppcheck --enable=warning,style,performance,portability --std=c11 --error-exitcode=1 \
	    --inline-suppr -q -D_GNU_SOURCE -Isrc --suppress=missingIncludeSystem \
	    --suppress=variableScope src/

# The kill -9 loops of t/0130-crash.t and t/0132-crash-more.t, longer
# than in make test.
crash: ops-updater
	CRASH_ROUNDS=500 CRASH_SECONDS=3000 OPS_UPDATER=$(CURDIR)/$(B)/ops-updater prove -v t/0130-crash.t
	CRASH_ROUNDS=60 CRASH_SECONDS=3000 OPS_UPDATER=$(CURDIR)/$(B)/ops-updater prove -v t/0132-crash-more.t

# The man pages, each in the directory of its section (the name's suffix).
MAN = ops-updater.1 ops-updater-cfg.json.5 ops-meta.7 ops-updater-fleet.7

install: ops-updater
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(DOCDIR)
	cp -f ops-updater $(DESTDIR)$(BINDIR)/ops-updater
	chmod 755 $(DESTDIR)$(BINDIR)/ops-updater
	for m in $(MAN); do \
		cp -f $$m $(DESTDIR)$(MANDIR)/man$${m##*.}/$$m && \
		chmod 644 $(DESTDIR)$(MANDIR)/man$${m##*.}/$$m || exit 1; \
	done
	cp -f cfg.example.json crontab.example alerts.example.yml control README $(DESTDIR)$(DOCDIR)/
	chmod 644 $(DESTDIR)$(DOCDIR)/cfg.example.json $(DESTDIR)$(DOCDIR)/crontab.example \
	    $(DESTDIR)$(DOCDIR)/alerts.example.yml $(DESTDIR)$(DOCDIR)/README
	chmod 755 $(DESTDIR)$(DOCDIR)/control

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/ops-updater
	for m in $(MAN); do rm -f $(DESTDIR)$(MANDIR)/man$${m##*.}/$$m; done
	rm -f $(DESTDIR)$(DOCDIR)/cfg.example.json $(DESTDIR)$(DOCDIR)/crontab.example $(DESTDIR)$(DOCDIR)/alerts.example.yml
	rm -f $(DESTDIR)$(DOCDIR)/control $(DESTDIR)$(DOCDIR)/README
	-rmdir $(DESTDIR)$(DOCDIR)

demo: ops-updater
	sh t/demo.sh

# The Debian package, built by Debian's own tools in a copy of the sources
# (dpkg-buildpackage writes beside the source directory, and debhelper
# inside debian/): build-deb/ops-updater_$(VERSION)_<arch>.deb, unsigned.
DEB_SRC = LICENSE Makefile README cfg.example.json alerts.example.yml control crontab.example $(MAN) debian src t
deb:
	rm -rf build-deb
	mkdir -p build-deb/ops-updater-$(VERSION)
	cp -R $(DEB_SRC) build-deb/ops-updater-$(VERSION)/
	cd build-deb/ops-updater-$(VERSION) && dpkg-buildpackage -us -uc -b
	ls -l build-deb/ops-updater_$(VERSION)_$$(dpkg --print-architecture).deb

clean:
	rm -rf build build-asan build-fuzz build-clang build-deb ops-updater

# The package on this machine, after make deb: install, a real pass from
# /etc/cron.d, upgrade under a held lock, remove and purge with an agent
# running, leaving the machine as it was (see t/package.sh). As root; not
# part of make test, as it installs a system package.
test-deb: ops-updater
	OPS_UPDATER=$(CURDIR)/$(B)/ops-updater \
	DEB=$(CURDIR)/build-deb/ops-updater_$(VERSION)_$$(dpkg --print-architecture).deb prove -v t/package.sh

.PHONY: all test check-asan lint fuzz bench fleet crash install uninstall demo deb test-deb clean
