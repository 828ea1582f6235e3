# tools/local.mk -- the command-line tools: quorum-keygen and quorum-sign.
bin_PROGRAMS += tools/quorum-keygen tools/quorum-sign

tools_quorum_keygen_SOURCES = tools/quorum-keygen.c
tools_quorum_keygen_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS)
tools_quorum_keygen_LDADD = host/libquorumhost.la

tools_quorum_sign_SOURCES = tools/quorum-sign.c tools/plugin-describe.c tools/plugin-describe.h
tools_quorum_sign_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS)
tools_quorum_sign_LDADD = host/libquorumhost.la

EXTRA_DIST += tools/stage-plugin.sh

bin_PROGRAMS += tools/quorumctl
tools_quorumctl_SOURCES = tools/quorumctl.c tools/quorumctl-audit.c tools/quorumctl-audit.h \
	tools/quorumctl-control.c tools/quorumctl-control.h \
	tools/quorumctl-passport.c tools/quorumctl-passport.h \
	tools/quorumctl-witness.c tools/quorumctl-witness.h \
	plugins/stages/passport/passportdoc.c plugins/stages/passport/passportdoc.h \
	tools/quorumctl-rounds.c tools/quorumctl-rounds.h \
	plugins/stages/convergence/agreement.c \
	tools/quorumctl-chrony.c tools/quorumctl-chrony.h \
	tools/quorumctl-status.c tools/quorumctl-status.h \
	tools/quorumctl-http.c tools/quorumctl-http.h \
	plugins/transports/chrony/sample.c plugins/transports/chrony/sample.h
# The passport commands parse and sign with the passport stage's own code; vault verify
# reads the round log and re-checks its agreements with the convergence stage's; chrony-conf
# derives its line with the chrony transport's.
tools_quorumctl_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/stages/passport \
	-I$(top_srcdir)/plugins/stages/convergence -I$(top_srcdir)/plugins/transports/chrony
tools_quorumctl_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS) $(PROTOBUF_C_CFLAGS) $(JANSSON_CFLAGS) \
	$(LIBCONFIG_CFLAGS)
tools_quorumctl_LDADD = audit/libroundlog.la host/libquorumhost.la client/libquorum-clock.la \
	audit/libquorumaudit.la $(JANSSON_LIBS) $(OPENSSL_LIBS) -lm
