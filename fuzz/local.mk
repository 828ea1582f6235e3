# fuzz/local.mk -- libFuzzer targets for every parser of untrusted bytes (fuzz/README.md).
# With --enable-fuzz (clang) they link libFuzzer and `make fuzz` runs each for FUZZ_SECONDS
# on a scratch copy of its corpus in fuzz/corpus/NAME (FUZZ_JOBS at once, FUZZ_ONLY="a b" for
# some, FUZZ_KEEP_CORPUS=1 to keep what they found); without it they link fuzz/replay.c
# and `make check` replays every corpus input once (seeds and past findings) under the
# build's sanitizers, so a fixed bug stays fixed in every build.
FUZZ_TARGETS = fuzz/fuzz-envelope fuzz/fuzz-datagram fuzz/fuzz-conf \
	fuzz/fuzz-vault-recovery fuzz/fuzz-checkpoint fuzz/fuzz-ntp-reply fuzz/fuzz-query
# A plugin's targets are built with the plugin (configure --disable-NAME drops them, and
# fuzz/replay.sh skips their corpus).
if BUILD_PLUGIN_NTP
FUZZ_TARGETS += fuzz/fuzz-ntp fuzz/fuzz-ntske fuzz/fuzz-nts-ext
endif
if BUILD_PLUGIN_WS
FUZZ_TARGETS += fuzz/fuzz-http1 fuzz/fuzz-ws
endif
if BUILD_PLUGIN_REST
if BUILD_PLUGIN_CONTROL
FUZZ_TARGETS += fuzz/fuzz-rest-bodies
endif
endif
if BUILD_PLUGIN_GRPC
FUZZ_TARGETS += fuzz/fuzz-grpc
endif
if BUILD_PLUGIN_PASSPORT
FUZZ_TARGETS += fuzz/fuzz-passport
endif
FUZZ_SECONDS = 60
FUZZ_RESULTS = fuzz-results

if ENABLE_FUZZ
EXTRA_PROGRAMS += $(FUZZ_TARGETS)
FUZZ_MAIN =
FUZZ_LINK_FLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
else
check_PROGRAMS += $(FUZZ_TARGETS)
TESTS += fuzz/replay.sh
FUZZ_MAIN = fuzz/replay.c
FUZZ_LINK_FLAGS = $(AM_LDFLAGS)
endif
EXTRA_DIST += fuzz/README.md fuzz/lsan.supp fuzz/run.sh fuzz/replay.sh fuzz/make-corpus.sh fuzz/corpus

# ---- host codecs: linked with the host's own library ----
FUZZ_HOST_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS) $(PROTOBUF_C_CFLAGS) $(LIBEVENT_CFLAGS) \
	$(LIBCONFIG_CFLAGS)

fuzz_fuzz_envelope_SOURCES = fuzz/fuzz-envelope.c fuzz/fuzz.h $(FUZZ_MAIN)
fuzz_fuzz_envelope_CFLAGS = $(FUZZ_HOST_CFLAGS)
fuzz_fuzz_envelope_LDFLAGS = $(FUZZ_LINK_FLAGS)
fuzz_fuzz_envelope_LDADD = host/libquorumhost.la

fuzz_fuzz_datagram_SOURCES = fuzz/fuzz-datagram.c fuzz/fuzz.h $(FUZZ_MAIN)
fuzz_fuzz_datagram_CFLAGS = $(FUZZ_HOST_CFLAGS)
fuzz_fuzz_datagram_LDFLAGS = $(FUZZ_LINK_FLAGS)
fuzz_fuzz_datagram_LDADD = host/libquorumhost.la

fuzz_fuzz_ntp_reply_SOURCES = fuzz/fuzz-ntp-reply.c fuzz/fuzz.h $(FUZZ_MAIN)
fuzz_fuzz_ntp_reply_CFLAGS = $(FUZZ_HOST_CFLAGS)
fuzz_fuzz_ntp_reply_LDFLAGS = $(FUZZ_LINK_FLAGS)
fuzz_fuzz_ntp_reply_LDADD = host/libquorumhost.la

fuzz_fuzz_conf_SOURCES = fuzz/fuzz-conf.c fuzz/fuzz.h $(FUZZ_MAIN)
fuzz_fuzz_conf_CFLAGS = $(FUZZ_HOST_CFLAGS)
fuzz_fuzz_conf_LDFLAGS = $(FUZZ_LINK_FLAGS)
fuzz_fuzz_conf_LDADD = host/libquorumhost.la

# ---- the audit plane: its sources compiled in ----
fuzz_fuzz_vault_recovery_SOURCES = fuzz/fuzz-vault-recovery.c fuzz/fuzz.h $(FUZZ_MAIN)
fuzz_fuzz_vault_recovery_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS)
fuzz_fuzz_vault_recovery_LDFLAGS = $(FUZZ_LINK_FLAGS)
fuzz_fuzz_vault_recovery_LDADD = audit/libquorumaudit.la $(OPENSSL_LIBS)

fuzz_fuzz_checkpoint_SOURCES = fuzz/fuzz-checkpoint.c fuzz/fuzz.h $(FUZZ_MAIN)
fuzz_fuzz_checkpoint_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS)
fuzz_fuzz_checkpoint_LDFLAGS = $(FUZZ_LINK_FLAGS)
fuzz_fuzz_checkpoint_LDADD = audit/libquorumaudit.la $(OPENSSL_LIBS)

# ---- plugins: their parsers' sources compiled in (the SDK headers only, as a plugin) ----
# All HTTP/1 parsing: the one parser (plugins/transports/common/http1-parse.c, REST's and the
# WebSocket upgrade's) with the query parser, and the upgrade's reading of a request.
fuzz_fuzz_http1_SOURCES = fuzz/fuzz-http1.c fuzz/fuzz.h \
	plugins/transports/ws/upgrade.c plugins/transports/ws/upgrade.h $(FUZZ_MAIN)
fuzz_fuzz_http1_CPPFLAGS = $(TRANSPORT_CPPFLAGS) -I$(top_srcdir)/plugins/transports/ws
fuzz_fuzz_http1_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS)
fuzz_fuzz_http1_LDFLAGS = $(FUZZ_LINK_FLAGS)
fuzz_fuzz_http1_LDADD = $(TRANSPORT_LIBS) $(OPENSSL_LIBS)

fuzz_fuzz_query_SOURCES = fuzz/fuzz-query.c fuzz/fuzz.h \
	plugins/transports/common/query.c plugins/transports/common/query.h $(FUZZ_MAIN)
fuzz_fuzz_query_CPPFLAGS = $(PLUGIN_CPPFLAGS) -I$(top_srcdir)/plugins/transports/common
fuzz_fuzz_query_CFLAGS = $(AM_CFLAGS)
fuzz_fuzz_query_LDFLAGS = $(FUZZ_LINK_FLAGS)

fuzz_fuzz_rest_bodies_SOURCES = fuzz/fuzz-rest-bodies.c fuzz/fuzz.h \
	plugins/transports/rest/sharedstate-body.c plugins/transports/rest/sharedstate-body.h \
	plugins/stages/control/commands.c plugins/stages/control/commands.h \
	plugins/stages/control/modes.c plugins/stages/control/modes.h \
	plugins/stages/control/sharedstate.c plugins/stages/control/sharedstate.h \
	$(FUZZ_MAIN)
fuzz_fuzz_rest_bodies_CPPFLAGS = $(PLUGIN_CPPFLAGS) -I$(top_srcdir)/plugins/transports/rest \
	-I$(top_srcdir)/plugins/stages/common \
	-I$(top_srcdir)/plugins/stages/control -I$(top_srcdir)/audit
fuzz_fuzz_rest_bodies_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(OPENSSL_CFLAGS)
fuzz_fuzz_rest_bodies_LDFLAGS = $(FUZZ_LINK_FLAGS)
fuzz_fuzz_rest_bodies_LDADD = plugins/stages/common/libstatefile.la audit/libquorumaudit.la \
	$(JANSSON_LIBS) $(OPENSSL_LIBS) -lm

fuzz_fuzz_passport_SOURCES = fuzz/fuzz-passport.c fuzz/fuzz.h $(PASSPORT_SOURCES) $(FUZZ_MAIN)
fuzz_fuzz_passport_CPPFLAGS = $(PLUGIN_CPPFLAGS) -I$(top_srcdir)/plugins/stages/passport \
	-I$(top_srcdir)/plugins/stages/common
fuzz_fuzz_passport_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(OPENSSL_CFLAGS)
fuzz_fuzz_passport_LDFLAGS = $(FUZZ_LINK_FLAGS)
fuzz_fuzz_passport_LDADD = $(PASSPORT_LIBS) $(JANSSON_LIBS) $(OPENSSL_LIBS)

# The transports' servers: each target #includes the plugin's .c (its callbacks are static)
# and runs it on the tests' mock host, configured by fuzz/mockhost.c.
FUZZ_MOCK = fuzz/mockhost.c fuzz/mockhost.h tests/mockhost.c tests/mockhost.h

fuzz_fuzz_ntp_SOURCES = fuzz/fuzz-ntp.c fuzz/fuzz.h $(FUZZ_MOCK) $(NTS_SOURCES) $(FUZZ_MAIN)
fuzz_fuzz_ntp_CPPFLAGS = $(NTS_CPPFLAGS) -I$(top_builddir)/proto
fuzz_fuzz_ntp_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(PROTOBUF_C_CFLAGS) $(OPENSSL_CFLAGS) \
	$(LIBCONFIG_CFLAGS)
fuzz_fuzz_ntp_LDFLAGS = $(FUZZ_LINK_FLAGS)
fuzz_fuzz_ntp_LDADD = $(NTS_LIBS) host/libquorumhost.la proto/libquorumproto.la \
	$(LIBEVENT_LIBS) $(PROTOBUF_C_LIBS) $(OPENSSL_LIBS) -lpthread

# NTS (RFC 8915): the NTS-KE records and the NTS extension fields, their pure parsers.
fuzz_fuzz_ntske_SOURCES = fuzz/fuzz-ntske.c fuzz/fuzz.h \
	plugins/transports/ntp/nts-ke-records.c plugins/transports/ntp/nts-ke-records.h \
	$(FUZZ_MAIN)
fuzz_fuzz_ntske_CPPFLAGS = $(NTS_CPPFLAGS)
fuzz_fuzz_ntske_CFLAGS = $(AM_CFLAGS)
fuzz_fuzz_ntske_LDFLAGS = $(FUZZ_LINK_FLAGS)

fuzz_fuzz_nts_ext_SOURCES = fuzz/fuzz-nts-ext.c fuzz/fuzz.h fuzz/nts-fuzz.h \
	plugins/transports/ntp/nts-ext.c plugins/transports/ntp/nts-ext.h \
	plugins/transports/ntp/nts-aead.c plugins/transports/ntp/nts-aead.h \
	plugins/transports/ntp/nts-cookie.c plugins/transports/ntp/nts-cookie.h $(FUZZ_MAIN)
fuzz_fuzz_nts_ext_CPPFLAGS = $(NTS_CPPFLAGS)
fuzz_fuzz_nts_ext_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS)
fuzz_fuzz_nts_ext_LDFLAGS = $(FUZZ_LINK_FLAGS)
fuzz_fuzz_nts_ext_LDADD = $(OPENSSL_LIBS)

fuzz_fuzz_ws_SOURCES = fuzz/fuzz-ws.c fuzz/fuzz.h $(FUZZ_MOCK) \
	plugins/transports/ws/upgrade.c plugins/transports/ws/upgrade.h $(FUZZ_MAIN)
fuzz_fuzz_ws_CPPFLAGS = $(TRANSPORT_CPPFLAGS) -I$(top_srcdir)/plugins/transports/ws \
	-I$(top_builddir)/proto
fuzz_fuzz_ws_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(LIBEVENT_OPENSSL_CFLAGS) \
	$(JANSSON_CFLAGS) $(OPENSSL_CFLAGS) $(PROTOBUF_C_CFLAGS)
fuzz_fuzz_ws_LDFLAGS = $(FUZZ_LINK_FLAGS)
fuzz_fuzz_ws_LDADD = $(TRANSPORT_LIBS) plugins/transports/common/libtransportjson.la \
	proto/libquorumproto.la $(LIBEVENT_LIBS) $(LIBEVENT_OPENSSL_LIBS) $(JANSSON_LIBS) \
	$(OPENSSL_LIBS) $(WSLAY_LIBS) $(PROTOBUF_C_LIBS) -lm

fuzz_fuzz_grpc_SOURCES = fuzz/fuzz-grpc.c fuzz/fuzz.h $(FUZZ_MOCK) \
	plugins/transports/grpc/bridge.c plugins/transports/grpc/bridge.h \
	plugins/transports/grpc/compress.c plugins/transports/grpc/compress.h $(FUZZ_MAIN)
fuzz_fuzz_grpc_CPPFLAGS = $(TRANSPORT_CPPFLAGS) -I$(top_srcdir)/plugins/transports/grpc \
	-I$(top_builddir)/proto
fuzz_fuzz_grpc_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(LIBEVENT_OPENSSL_CFLAGS) \
	$(NGHTTP2_CFLAGS) $(PROTOBUF_C_CFLAGS) $(OPENSSL_CFLAGS) $(ZLIB_CFLAGS)
fuzz_fuzz_grpc_LDFLAGS = $(FUZZ_LINK_FLAGS)
fuzz_fuzz_grpc_LDADD = $(TRANSPORT_LIBS) proto/libquorumproto.la $(LIBEVENT_LIBS) \
	$(LIBEVENT_OPENSSL_LIBS) $(NGHTTP2_LIBS) $(PROTOBUF_C_LIBS) $(OPENSSL_LIBS) $(ZLIB_LIBS)

# ---- the seeds: fuzz/make-corpus.sh builds and runs this (never part of `make`) ----
EXTRA_PROGRAMS += fuzz/make-seeds
fuzz_make_seeds_SOURCES = fuzz/make-seeds.c audit/note.c audit/vaultlog.c audit/statedir.c \
	plugins/stages/passport/passportdoc.c \
	plugins/transports/ntp/nts-ke-records.c plugins/transports/ntp/nts-ext.c \
	plugins/transports/ntp/nts-aead.c plugins/transports/ntp/nts-cookie.c
fuzz_make_seeds_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/stages/passport \
	-I$(top_srcdir)/plugins/transports/ntp -I$(top_srcdir)/fuzz
fuzz_make_seeds_CFLAGS = $(FUZZ_HOST_CFLAGS) $(JANSSON_CFLAGS) $(NGHTTP2_CFLAGS)
fuzz_make_seeds_LDADD = host/libquorumhost.la $(JANSSON_LIBS) $(NGHTTP2_LIBS) $(OPENSSL_LIBS)

# ---- make fuzz ----
if ENABLE_FUZZ
fuzz: $(BUILT_SOURCES)
	@$(MAKE) $(AM_MAKEFLAGS) $(FUZZ_TARGETS)
	@FUZZ_JOBS='$(FUZZ_JOBS)' FUZZ_ONLY='$(FUZZ_ONLY)' FUZZ_KEEP_CORPUS='$(FUZZ_KEEP_CORPUS)' \
		$(SHELL) $(srcdir)/fuzz/run.sh '$(FUZZ_SECONDS)' '$(abs_srcdir)/fuzz/corpus' \
		'$(abs_builddir)/$(FUZZ_RESULTS)' $(FUZZ_TARGETS)
else
fuzz:
	@echo "make fuzz: this build has no libFuzzer targets. Configure a build folder with"; \
	echo "  --enable-fuzz and clang (Debian: apt-get install -y clang-14 libclang-rt-14-dev):"; \
	echo "  mkdir -p _fuzz && cd _fuzz && ../configure --enable-fuzz CC=clang-14 && make fuzz"; \
	exit 1
endif
fuzz-smoke:
	@$(MAKE) $(AM_MAKEFLAGS) fuzz FUZZ_SECONDS=5

clean-local: clean-fuzz-results
clean-fuzz-results:
	-rm -rf $(FUZZ_RESULTS)

.PHONY: fuzz fuzz-smoke clean-fuzz-results
