# plugins/transports/ntp/local.mk -- the NTP transport plugin (NTPv4 server, RFC 5905).
transports_LTLIBRARIES += plugins/transports/ntp/ntp.la
plugins_transports_ntp_ntp_la_SOURCES = plugins/transports/ntp/ntp.c
plugins_transports_ntp_ntp_la_CPPFLAGS = $(PLUGIN_CPPFLAGS)
plugins_transports_ntp_ntp_la_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS)
plugins_transports_ntp_ntp_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_transports_ntp_ntp_la_LIBADD = $(LIBEVENT_LIBS) -lpthread
