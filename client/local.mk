# client/local.mk -- libquorum-clock: the installed C library (and header, pkg-config file)
# through which local programs read quorumd's served time from shared memory.
lib_LTLIBRARIES += client/libquorum-clock.la
client_libquorum_clock_la_SOURCES = client/clock.c client/clock-page.h
client_libquorum_clock_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/client/include \
	-I$(top_srcdir)/client
client_libquorum_clock_la_LDFLAGS = -version-info 1:0:1 -no-undefined \
	-export-symbols-regex '^quorum_(clock_|now)'
client_libquorum_clock_la_LIBADD = -lpthread

quorumclientincludedir = $(includedir)/quorum
quorumclientinclude_HEADERS = client/include/quorum/clock.h
pkgconfig_DATA += quorum-clock.pc
DISTCLEANFILES += quorum-clock.pc
