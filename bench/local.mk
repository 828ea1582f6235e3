# bench/local.mk -- `make bench`: benchmarks, each printing its numbers against its target
# (and, where an issue names a peer, against that peer in the same run).
EXTRA_PROGRAMS = bench/bench-load
bench_bench_load_SOURCES = bench/bench-load.c
bench_bench_load_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS)
bench_bench_load_LDADD = host/libquorumhost.la
CLEANFILES += bench/bench-load$(EXEEXT)
EXTRA_DIST += bench/idle-rss.sh

BENCH_ROUNDS = 300

bench: all bench/bench-load$(EXEEXT) $(check_LTLIBRARIES)
	@echo "== plugin verify + load (target: under 5 ms each; medians over $(BENCH_ROUNDS) rounds)"
	@plugins=""; \
	for so in lib/stages/*.so; do [ -e "$$so" ] && plugins="$$plugins $$so=$$(basename $$so .so):stage"; done; \
	for so in lib/transports/*.so; do [ -e "$$so" ] && plugins="$$plugins $$so=$$(basename $$so .so):transport"; done; \
	bench/bench-load$(EXEEXT) $(BENCH_ROUNDS) $$plugins \
		tests/fixtures/.libs/fixture-stage.so=fixture-stage:stage \
		tests/fixtures/.libs/fixture-transport.so=fixture-transport:transport
	@echo "== idle resident memory of quorumd (target: under 8 MiB)"
	@$(SHELL) $(srcdir)/bench/idle-rss.sh $(abs_builddir)

.PHONY: bench
