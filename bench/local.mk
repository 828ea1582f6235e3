# bench/local.mk -- `make bench`: benchmarks, each printing its numbers against its target
# (and, where an issue names a peer, against that peer in the same run).
EXTRA_PROGRAMS = bench/bench-load bench/bench-agreement bench/bench-now \
	bench/bench-proof bench/bench-ntp bench/bench-nts bench/ntp-reflector
# The vault's append benchmark runs against SQLite: without it (configure says so), skipped.
if HAVE_SQLITE3
EXTRA_PROGRAMS += bench/bench-vault
BENCH_VAULT = bench/bench-vault$(EXEEXT)
else
BENCH_VAULT = echo "bench-vault: skipped, configure found no sqlite3 >= 3.31 (apt-get install -y libsqlite3-dev)"
endif
CLEANFILES += $(EXTRA_PROGRAMS)
EXTRA_DIST += bench/idle-rss.sh bench/quorum-accuracy.sh bench/ntp-throughput.sh \
	bench/rest-throughput.sh bench/grpc-throughput.sh bench/audit-growth.sh \
	bench/nts-throughput.sh bench/scale.sh

bench_bench_load_SOURCES = bench/bench-load.c tools/plugin-describe.c tools/plugin-describe.h
bench_bench_load_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tools
bench_bench_load_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS)
bench_bench_load_LDADD = host/libquorumhost.la

bench_bench_agreement_SOURCES = bench/bench-agreement.c plugins/stages/convergence/agreement.c
bench_bench_agreement_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/stages/convergence
bench_bench_agreement_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS) -O2
bench_bench_agreement_LDADD = host/libquorumhost.la

bench_bench_ntp_SOURCES = bench/bench-ntp.c bench/udploop.c bench/udploop.h
bench_ntp_reflector_SOURCES = bench/ntp-reflector.c

# NTS load: our own client of the NTS-KE records and NTS fields (the transport's pure parts).
bench_bench_nts_SOURCES = bench/bench-nts.c bench/udploop.c bench/udploop.h \
	plugins/transports/ntp/nts-ke-records.c \
	plugins/transports/ntp/nts-ext.c plugins/transports/ntp/nts-aead.c \
	plugins/transports/ntp/nts-cookie.c
bench_bench_nts_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/transports/ntp
bench_bench_nts_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS) -O2
bench_bench_nts_LDADD = $(OPENSSL_LIBS) -lpthread

bench_bench_now_SOURCES = bench/bench-now.c
bench_bench_now_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS) $(PROTOBUF_C_CFLAGS) -O2
bench_bench_now_LDADD = host/libquorumhost.la client/libquorum-clock.la

BENCH_ROUNDS = 300
BENCH_SECONDS = 60

bench: all $(EXTRA_PROGRAMS) $(check_LTLIBRARIES) $(check_PROGRAMS)
	@echo "== plugin verify + load (target: under 5 ms each; medians over $(BENCH_ROUNDS) rounds)"
	@plugins=""; \
	for so in lib/stages/*.so; do [ -e "$$so" ] && plugins="$$plugins $$so=$$(basename $$so .so):stage"; done; \
	for so in lib/transports/*.so; do [ -e "$$so" ] && plugins="$$plugins $$so=$$(basename $$so .so):transport"; done; \
	bench/bench-load$(EXEEXT) $(BENCH_ROUNDS) $$plugins \
		tests/fixtures/.libs/fixture-stage.so=fixture-stage:stage \
		tests/fixtures/.libs/fixture-transport.so=fixture-transport:transport
	@echo "== idle resident memory of quorumd (target: under 8 MiB)"
	@$(SHELL) $(srcdir)/bench/idle-rss.sh $(abs_builddir)
	@echo "== agreement cost and signature rates"
	@bench/bench-agreement$(EXEEXT)
	@echo "== quorum_now() read latency against clock_gettime(CLOCK_REALTIME) (target: ratio < 2)"
	@bench/bench-now$(EXEEXT)
	@echo "== vault appends with fsync group commit against SQLite WAL, synchronous=FULL (target: >= 2x); recovery at 1M records"
	@$(BENCH_VAULT)
	@echo "== Merkle proofs at 1M records (target: inclusion proof under 20 us; size ceil(log2 n) x 32 bytes)"
	@bench/bench-proof$(EXEEXT)
	@echo "== NTP answers per second without loss against chronyd (target: >= 1.5x)"
	@$(SHELL) $(srcdir)/bench/ntp-throughput.sh $(abs_builddir)
	@echo "== NTS answers and NTS-KE handshakes per second against chronyd (target: answers per CPU-second >= 1.3x)"
	@$(SHELL) $(srcdir)/bench/nts-throughput.sh $(abs_builddir)
	@echo "== REST GET /v1/time under wrk against nginx serving the same JSON (target: >= 0.7x)"
	@$(SHELL) $(srcdir)/bench/rest-throughput.sh $(abs_builddir)
	@echo "== gRPC GetTime calls per second from a python3-grpcio client"
	@$(SHELL) $(srcdir)/bench/grpc-throughput.sh $(abs_srcdir) $(abs_builddir)
	@echo "== accuracy of a 4-node loopback quorum over $(BENCH_SECONDS) s"
	@$(SHELL) $(srcdir)/bench/quorum-accuracy.sh $(abs_srcdir) $(abs_builddir) $(BENCH_SECONDS)
	@echo "== audit growth per node of a 4-node quorum with 1 s rounds over $(BENCH_SECONDS) s (target: <= 50 MB a day)"
	@$(SHELL) $(srcdir)/bench/audit-growth.sh $(abs_srcdir) $(abs_builddir) $(BENCH_SECONDS)
	@echo "== cost per node as the quorum grows, n = 4, 7, 16, 31, $(BENCH_SECONDS) s each (target at n = 31: <= 20 ms CPU per s, <= 50 KB/s, <= 100 MB audit a day)"
	@$(SHELL) $(srcdir)/bench/scale.sh $(abs_srcdir) $(abs_builddir) $(BENCH_SECONDS)

.PHONY: bench
