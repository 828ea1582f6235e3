# plugins/transports/common/local.mk -- what REST, WebSocket and gRPC share, and its tests.

# Unit tests (g_test): the fields every time answer carries beside the time.
check_PROGRAMS += plugins/transports/common/test-timefields
TESTS += plugins/transports/common/test-timefields
plugins_transports_common_test_timefields_SOURCES = \
	plugins/transports/common/test-timefields.c \
	plugins/transports/common/timefields.c plugins/transports/common/timefields.h
plugins_transports_common_test_timefields_CPPFLAGS = $(PLUGIN_CPPFLAGS)
plugins_transports_common_test_timefields_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS)
plugins_transports_common_test_timefields_LDADD = $(GLIB_LIBS)
