# plugins/stages/gossip/local.mk -- the gossip stage plugin (protobuf-c, libcrypto) and its
# unit test (the rules, the forwarding set, the evidence index, the epochs, the wire
# helpers and the malfeasance report, without the host).
# Built unless configure says --disable-gossip; so are its tests.
if BUILD_PLUGIN_GOSSIP
GOSSIP_SOURCES = plugins/stages/gossip/rules.c plugins/stages/gossip/rules.h \
	plugins/stages/gossip/evidence.c plugins/stages/gossip/evidence.h \
	plugins/stages/gossip/epochs.c plugins/stages/gossip/epochs.h \
	plugins/stages/gossip/digest.c plugins/stages/gossip/digest.h \
	plugins/stages/gossip/wire.c plugins/stages/gossip/wire.h
GOSSIP_LIBS = plugins/stages/common/libmalreport.la common/libquorumcommon.la
GOSSIP_CPPFLAGS = $(PLUGIN_CPPFLAGS) -I$(top_srcdir)/plugins/stages/common \
	-I$(top_builddir)/proto

stages_LTLIBRARIES += plugins/stages/gossip/gossip.la
plugins_stages_gossip_gossip_la_SOURCES = plugins/stages/gossip/gossip.c $(GOSSIP_SOURCES)
plugins_stages_gossip_gossip_la_CPPFLAGS = $(GOSSIP_CPPFLAGS)
plugins_stages_gossip_gossip_la_CFLAGS = $(AM_CFLAGS) $(PROTOBUF_C_CFLAGS) $(OPENSSL_CFLAGS)
plugins_stages_gossip_gossip_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_stages_gossip_gossip_la_LIBADD = $(GOSSIP_LIBS) proto/libquorumproto.la $(PROTOBUF_C_LIBS) \
	$(OPENSSL_LIBS)

check_PROGRAMS += tests/unit/test-gossip
TESTS += tests/unit/test-gossip
tests_unit_test_gossip_SOURCES = tests/unit/test-gossip.c plugins/stages/gossip/gossip.c \
	$(GOSSIP_SOURCES) tests/mockhost.c tests/mockhost.h
tests_unit_test_gossip_CPPFLAGS = $(GOSSIP_CPPFLAGS) -I$(top_srcdir)/plugins/stages/gossip \
	-I$(top_srcdir)/host -I$(top_srcdir)/tests
tests_unit_test_gossip_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_gossip_LDADD = $(GOSSIP_LIBS) $(UNIT_LDADD) $(OPENSSL_LIBS)
endif
