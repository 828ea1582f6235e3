# proto/local.mk -- protobuf-c code generated from proto/*.proto at build time (never
# committed), compiled once into a convenience library for the host and the plugins.
PROTO_FILES = proto/signed_state.proto proto/authority.proto proto/state.proto \
	proto/clock_service.proto proto/bridge_service.proto proto/roundlog.proto \
	proto/health.proto
PROTO_GENERATED = proto/signed_state.pb-c.c proto/signed_state.pb-c.h \
	proto/authority.pb-c.c proto/authority.pb-c.h proto/state.pb-c.c proto/state.pb-c.h \
	proto/clock_service.pb-c.c proto/clock_service.pb-c.h \
	proto/bridge_service.pb-c.c proto/bridge_service.pb-c.h \
	proto/roundlog.pb-c.c proto/roundlog.pb-c.h \
	proto/health.pb-c.c proto/health.pb-c.h

EXTRA_DIST += $(PROTO_FILES)
BUILT_SOURCES += $(PROTO_GENERATED)
CLEANFILES += $(PROTO_GENERATED)

proto/%.pb-c.c proto/%.pb-c.h: proto/%.proto
	$(AM_V_GEN)$(MKDIR_P) proto && \
	$(PROTOC_C) --proto_path=$(dir $<) --c_out=proto $<

noinst_LTLIBRARIES += proto/libquorumproto.la
nodist_proto_libquorumproto_la_SOURCES = $(PROTO_GENERATED)
# Generated code: built without our warning flags, which it was not written for.
proto_libquorumproto_la_CFLAGS = -std=gnu11 $(SANITIZE_CFLAGS) $(PROTOBUF_C_CFLAGS)
proto_libquorumproto_la_LIBADD = $(PROTOBUF_C_LIBS)
