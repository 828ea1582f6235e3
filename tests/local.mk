# tests/local.mk -- `make check`: g_test unit programs and end-to-end scripts, all speaking
# TAP through automake's tap-driver; fixture plugins built as real shared modules.
LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
SH_LOG_DRIVER = $(LOG_DRIVER)
TEST_EXTENSIONS = .sh
AM_TESTS_ENVIRONMENT = \
	QUORUM_BUILDDIR='$(abs_top_builddir)'; export QUORUM_BUILDDIR; \
	QUORUM_SRCDIR='$(abs_top_srcdir)'; export QUORUM_SRCDIR; \
	QUORUM_FIXTURES='$(abs_top_builddir)/tests/fixtures/.libs'; export QUORUM_FIXTURES; \
	G_DEBUG=fatal-warnings; export G_DEBUG;

# ---- fixture plugins: shared modules even though they are not installed (-rpath) ----
FIXTURE_LDFLAGS = $(PLUGIN_LDFLAGS) -rpath /nowhere
FIXTURE_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(PLUGIN_CPPFLAGS)
FIXTURE_LIBS = $(LIBEVENT_LIBS) $(LIBEVENT_EXTRA_LIBS)

check_LTLIBRARIES += tests/fixtures/fixture-stage.la
tests_fixtures_fixture_stage_la_SOURCES = tests/fixtures/fixture-stage.c
tests_fixtures_fixture_stage_la_CFLAGS = $(FIXTURE_CFLAGS)
tests_fixtures_fixture_stage_la_LDFLAGS = $(FIXTURE_LDFLAGS)

check_LTLIBRARIES += tests/fixtures/fixture-transport.la
tests_fixtures_fixture_transport_la_SOURCES = tests/fixtures/fixture-transport.c
tests_fixtures_fixture_transport_la_CFLAGS = $(FIXTURE_CFLAGS)
tests_fixtures_fixture_transport_la_LDFLAGS = $(FIXTURE_LDFLAGS)
tests_fixtures_fixture_transport_la_LIBADD = $(FIXTURE_LIBS)

# Same name, other code: a file swapped in after verification must not be what runs.
check_LTLIBRARIES += tests/fixtures/fixture-transport-v2.la
tests_fixtures_fixture_transport_v2_la_SOURCES = tests/fixtures/fixture-transport.c
tests_fixtures_fixture_transport_v2_la_CFLAGS = $(FIXTURE_CFLAGS) -DFIXTURE_VERSION='"2.0"'
tests_fixtures_fixture_transport_v2_la_LDFLAGS = $(FIXTURE_LDFLAGS)
tests_fixtures_fixture_transport_v2_la_LIBADD = $(FIXTURE_LIBS)

# Without a reload callback: a changed configuration replaces the instance.
check_LTLIBRARIES += tests/fixtures/fixture-replace.la
tests_fixtures_fixture_replace_la_SOURCES = tests/fixtures/fixture-transport.c
tests_fixtures_fixture_replace_la_CFLAGS = $(FIXTURE_CFLAGS) -DFIXTURE_NO_RELOAD \
	-DFIXTURE_NAME='"fixture-replace"'
tests_fixtures_fixture_replace_la_LDFLAGS = $(FIXTURE_LDFLAGS)
tests_fixtures_fixture_replace_la_LIBADD = $(FIXTURE_LIBS)

# Linked with -z nodelete: the code stays mapped after dlclose, under the name it was
# opened by (/proc/self/fd/N); two versions, to see which one runs.
check_LTLIBRARIES += tests/fixtures/fixture-nodelete.la
tests_fixtures_fixture_nodelete_la_SOURCES = tests/fixtures/fixture-transport.c
tests_fixtures_fixture_nodelete_la_CFLAGS = $(FIXTURE_CFLAGS)
tests_fixtures_fixture_nodelete_la_LDFLAGS = $(FIXTURE_LDFLAGS) -Wl,-z,nodelete
tests_fixtures_fixture_nodelete_la_LIBADD = $(FIXTURE_LIBS)

check_LTLIBRARIES += tests/fixtures/fixture-nodelete-v2.la
tests_fixtures_fixture_nodelete_v2_la_SOURCES = tests/fixtures/fixture-transport.c
tests_fixtures_fixture_nodelete_v2_la_CFLAGS = $(FIXTURE_CFLAGS) -DFIXTURE_VERSION='"2.0"'
tests_fixtures_fixture_nodelete_v2_la_LDFLAGS = $(FIXTURE_LDFLAGS) -Wl,-z,nodelete
tests_fixtures_fixture_nodelete_v2_la_LIBADD = $(FIXTURE_LIBS)

# ABI mismatches, each otherwise a valid "fixture-transport".
check_LTLIBRARIES += tests/fixtures/fixture-bad-magic.la
tests_fixtures_fixture_bad_magic_la_SOURCES = tests/fixtures/fixture-transport.c
tests_fixtures_fixture_bad_magic_la_CFLAGS = $(FIXTURE_CFLAGS) -DFIXTURE_MAGIC=0x12345678u
tests_fixtures_fixture_bad_magic_la_LDFLAGS = $(FIXTURE_LDFLAGS)
tests_fixtures_fixture_bad_magic_la_LIBADD = $(FIXTURE_LIBS)

check_LTLIBRARIES += tests/fixtures/fixture-bad-major.la
tests_fixtures_fixture_bad_major_la_SOURCES = tests/fixtures/fixture-transport.c
tests_fixtures_fixture_bad_major_la_CFLAGS = $(FIXTURE_CFLAGS) \
	-DFIXTURE_ABI_MAJOR='(QUORUM_ABI_MAJOR + 1)'
tests_fixtures_fixture_bad_major_la_LDFLAGS = $(FIXTURE_LDFLAGS)
tests_fixtures_fixture_bad_major_la_LIBADD = $(FIXTURE_LIBS)

check_LTLIBRARIES += tests/fixtures/fixture-new-minor.la
tests_fixtures_fixture_new_minor_la_SOURCES = tests/fixtures/fixture-transport.c
tests_fixtures_fixture_new_minor_la_CFLAGS = $(FIXTURE_CFLAGS) \
	-DFIXTURE_ABI_MINOR='(QUORUM_ABI_MINOR + 1)'
tests_fixtures_fixture_new_minor_la_LDFLAGS = $(FIXTURE_LDFLAGS)
tests_fixtures_fixture_new_minor_la_LIBADD = $(FIXTURE_LIBS)

# Built against ABI 1.11 (no settings defaults, bindings or settings_size): still loads.
check_LTLIBRARIES += tests/fixtures/fixture-old-minor.la
tests_fixtures_fixture_old_minor_la_SOURCES = tests/fixtures/fixture-transport.c
tests_fixtures_fixture_old_minor_la_CFLAGS = $(FIXTURE_CFLAGS) -DFIXTURE_ABI_MINOR=11
tests_fixtures_fixture_old_minor_la_LDFLAGS = $(FIXTURE_LDFLAGS)
tests_fixtures_fixture_old_minor_la_LIBADD = $(FIXTURE_LIBS)

# ---- unit tests (g_test; GLib prints TAP itself) ----
# Without GLib, configure makes GLIB_CFLAGS include this: each test stops saying why.
EXTRA_DIST += tests/glib-missing.h
check_LTLIBRARIES += tests/unit/libtestutil.la
tests_unit_libtestutil_la_SOURCES = tests/unit/testutil.c tests/unit/testutil.h \
	tools/plugin-describe.c tools/plugin-describe.h
tests_unit_libtestutil_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tools
tests_unit_libtestutil_la_CFLAGS = $(UNIT_CFLAGS)

UNIT_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS) $(OPENSSL_CFLAGS) $(LIBCONFIG_CFLAGS) \
	$(LIBEVENT_CFLAGS) $(PROTOBUF_C_CFLAGS)
UNIT_LDADD = tests/unit/libtestutil.la host/libquorumhost.la $(GLIB_LIBS)

UNIT_TESTS = tests/unit/test-signature tests/unit/test-loader tests/unit/test-config \
	tests/unit/test-orchestrator tests/unit/test-timecore tests/unit/test-refusals \
	tests/unit/test-metrics \
	tests/unit/test-trustpath \
	tests/unit/test-floor tests/unit/test-rounds
# The tests of a plugin's pure code are built with the plugin (configure --disable-NAME).
if BUILD_PLUGIN_CONVERGENCE
UNIT_TESTS += tests/unit/test-agreement
endif
if BUILD_PLUGIN_CONTROL
UNIT_TESTS += tests/unit/test-modes tests/unit/test-sharedstate tests/unit/test-commands \
	tests/unit/test-malfeasance
endif
check_PROGRAMS += $(UNIT_TESTS)
TESTS += $(UNIT_TESTS)

tests_unit_test_signature_SOURCES = tests/unit/test-signature.c
tests_unit_test_signature_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_signature_LDADD = $(UNIT_LDADD)

tests_unit_test_loader_SOURCES = tests/unit/test-loader.c
tests_unit_test_loader_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_loader_LDADD = $(UNIT_LDADD)

tests_unit_test_trustpath_SOURCES = tests/unit/test-trustpath.c
tests_unit_test_trustpath_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_trustpath_LDADD = $(UNIT_LDADD)

tests_unit_test_floor_SOURCES = tests/unit/test-floor.c
tests_unit_test_floor_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_floor_LDADD = $(UNIT_LDADD)

tests_unit_test_config_SOURCES = tests/unit/test-config.c
tests_unit_test_config_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_config_LDADD = $(UNIT_LDADD)

tests_unit_test_orchestrator_SOURCES = tests/unit/test-orchestrator.c
tests_unit_test_orchestrator_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_orchestrator_LDADD = $(UNIT_LDADD)

tests_unit_test_metrics_SOURCES = tests/unit/test-metrics.c
tests_unit_test_metrics_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_metrics_LDADD = $(UNIT_LDADD) -lpthread

tests_unit_test_refusals_SOURCES = tests/unit/test-refusals.c
tests_unit_test_refusals_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_refusals_LDADD = $(UNIT_LDADD)

tests_unit_test_rounds_SOURCES = tests/unit/test-rounds.c
tests_unit_test_rounds_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_rounds_LDADD = $(UNIT_LDADD)

# common/ helpers, alone: no host library, only the header under test.
check_PROGRAMS += tests/unit/test-hex
TESTS += tests/unit/test-hex
tests_unit_test_hex_SOURCES = tests/unit/test-hex.c common/hex.h
tests_unit_test_hex_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS)
tests_unit_test_hex_LDADD = $(GLIB_LIBS)
check_PROGRAMS += tests/unit/test-byteorder
TESTS += tests/unit/test-byteorder
tests_unit_test_byteorder_SOURCES = tests/unit/test-byteorder.c common/byteorder.h
tests_unit_test_byteorder_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS)
tests_unit_test_byteorder_LDADD = $(GLIB_LIBS)

tests_unit_test_timecore_SOURCES = tests/unit/test-timecore.c
tests_unit_test_timecore_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_timecore_LDADD = $(UNIT_LDADD) client/libquorum-clock.la

# The agreement is pure code inside the convergence plugin: tested without the host.
tests_unit_test_agreement_SOURCES = tests/unit/test-agreement.c \
	plugins/stages/convergence/agreement.c
tests_unit_test_agreement_CPPFLAGS = $(PLUGIN_CPPFLAGS) -I$(top_srcdir)/plugins/stages/convergence
tests_unit_test_agreement_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS)
tests_unit_test_agreement_LDADD = $(GLIB_LIBS)

# The runtime modes and the breaker are pure code inside the control plugin.
tests_unit_test_modes_SOURCES = tests/unit/test-modes.c plugins/stages/control/modes.c
tests_unit_test_modes_CPPFLAGS = $(PLUGIN_CPPFLAGS) -I$(top_srcdir)/plugins/stages/control
tests_unit_test_modes_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS)
tests_unit_test_modes_LDADD = $(GLIB_LIBS)

# A leader's shared state at the control stage: pure code and a mock host API table.
tests_unit_test_sharedstate_SOURCES = tests/unit/test-sharedstate.c \
	plugins/stages/control/sharedstate.c tests/mockhost.c tests/mockhost.h
tests_unit_test_sharedstate_CPPFLAGS = $(PLUGIN_CPPFLAGS) -I$(top_srcdir)/plugins/stages/control \
	-I$(top_srcdir)/tests \
	-I$(top_srcdir)/plugins/stages/common
tests_unit_test_sharedstate_CFLAGS = $(AM_CFLAGS) $(GLIB_CFLAGS)
tests_unit_test_sharedstate_LDADD = plugins/stages/common/libstatefile.la $(GLIB_LIBS) -lm

# Operator commands: payloads and signatures, pure code inside the control plugin.
tests_unit_test_commands_SOURCES = tests/unit/test-commands.c \
	plugins/stages/control/commands.c plugins/stages/control/modes.c
tests_unit_test_commands_CPPFLAGS = $(PLUGIN_CPPFLAGS) -I$(top_srcdir)/plugins/stages/control \
	-I$(top_srcdir)/host -I$(top_builddir)/proto
tests_unit_test_commands_CFLAGS = $(UNIT_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_commands_LDADD = $(UNIT_LDADD) $(JANSSON_LIBS) $(OPENSSL_LIBS)

# A malfeasance report at the control stage: the shared report check and a mock host API.
tests_unit_test_malfeasance_SOURCES = tests/unit/test-malfeasance.c \
	plugins/stages/control/malfeasance.c tests/mockhost.c tests/mockhost.h
tests_unit_test_malfeasance_CPPFLAGS = $(PLUGIN_CPPFLAGS) -I$(top_srcdir)/plugins/stages/control \
	-I$(top_srcdir)/tests \
	-I$(top_srcdir)/plugins/stages/common -I$(top_srcdir)/host -I$(top_builddir)/proto \
	-I$(top_srcdir)/audit
tests_unit_test_malfeasance_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_malfeasance_LDADD = plugins/stages/common/libmalreport.la $(UNIT_LDADD) \
	audit/libquorumaudit.la $(OPENSSL_LIBS)

# quorumctl's HTTP client (status) against a TCP server of the test's own.
check_PROGRAMS += tests/unit/test-quorumctl-http
TESTS += tests/unit/test-quorumctl-http
tests_unit_test_quorumctl_http_SOURCES = tests/unit/test-quorumctl-http.c \
	tools/quorumctl-http.c tools/quorumctl-http.h
tests_unit_test_quorumctl_http_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tools
tests_unit_test_quorumctl_http_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_quorumctl_http_LDADD = $(UNIT_LDADD) $(OPENSSL_LIBS)

# ---- end to end: real quorumd processes, real clients (curl) ----
E2E_TESTS = tests/e2e/daemon.sh tests/e2e/refusals.sh tests/e2e/readme-ci.sh \
	tests/e2e/quorum.sh tests/e2e/faults.sh tests/e2e/ntp.sh tests/e2e/audit.sh \
	tests/e2e/ntp-server.sh tests/e2e/rest.sh tests/e2e/schemas.sh tests/e2e/rest-tls.sh \
	tests/e2e/ws.sh tests/e2e/reload-load.sh tests/e2e/grpc.sh tests/e2e/control.sh \
	tests/e2e/passport.sh tests/e2e/systemd.sh tests/e2e/diskfull.sh \
	tests/e2e/clockstep.sh tests/e2e/gossip.sh tests/e2e/overload.sh \
	tests/e2e/peer-attacks.sh tests/e2e/unauth-flood.sh tests/e2e/trust-files.sh \
	tests/e2e/stop.sh tests/e2e/time-promise.sh tests/e2e/check-config.sh \
	tests/e2e/tokens.sh tests/e2e/durable-acks.sh tests/e2e/audit-tamper.sh \
	tests/e2e/settings-doc.sh
# Witnessed checkpoints: cosignatures, a rolled-back node, evidence of a fork.
E2E_TESTS += tests/e2e/witness.sh
# Scale (issue 19): n = 13 with digests, an equivocating authority detected by every node.
E2E_TESTS += tests/e2e/scale.sh
EXTRA_DIST += tests/tools/witness-tool.py
# One /metrics for the node, checked with python3-prometheus-client's parser.
E2E_TESTS += tests/e2e/metrics.sh
EXTRA_DIST += tests/tools/check-metrics.py contrib/grafana/quorum-time.json
# Network Time Security: chronyd as the NTS client, openssl s_client, an on-path relay.
E2E_TESTS += tests/e2e/nts.sh tests/e2e/nts-quorum.sh
EXTRA_DIST += tests/tools/nts-relay.py
# Issue 18: the system clock through chrony, quorumctl status, the Python client.
E2E_TESTS += tests/e2e/chrony-refclock.sh tests/e2e/quorumctl-status.sh \
	tests/e2e/python-client.sh
# Issue 18: REST's status page in headless Chromium over the DevTools protocol.
E2E_TESTS += tests/e2e/status-page.sh
EXTRA_DIST += tests/tools/status-page.py
CLEANFILES += tests/e2e/status-page.png tests/e2e/status-page-unsynchronised.png
TESTS += $(E2E_TESTS)
EXTRA_DIST += client/python/pyproject.toml client/python/README.md \
	client/python/quorum_time/__init__.py client/python/quorum_time/attestation.py \
	client/python/quorum_time/checkpoint.py client/python/quorum_time/clockpage.py \
	client/python/quorum_time/grpc_client.py client/python/quorum_time/merkle.py \
	client/python/quorum_time/protowire.py client/python/quorum_time/rest.py \
	client/python/tests/test_offline.py client/python/tests/test_quorum.py \
	client/python/tests/torn_writer.py
EXTRA_DIST += $(E2E_TESTS) tests/e2e/lib.sh tests/tools/ingest-client.py tests/tools/make-event.py \
	tests/tools/ntp-probe.py tests/tools/validate-json.py tests/tools/ws-client.py \
	tests/tools/grpc-client.py tests/tools/check-schemas.py tests/tools/conn-hold.py \
	tests/tools/unauth-flood.py tests/tools/ack-kill.py tests/tools/iso8601-check.py \
	schemas/README.md \
	schemas/time-unix.json schemas/time-iso8601.json schemas/time-json.json schemas/error.json \
	schemas/status.json schemas/proof-inclusion.json schemas/proof-consistency.json \
	schemas/ws-message.json schemas/shared-state.json schemas/shared-state-answer.json \
	schemas/passport.json schemas/catalog.json \
	schemas/examples/time-unix.example.json schemas/examples/time-iso8601.example.json \
	schemas/examples/time-json.example.json schemas/examples/time-json.ws-frame.example.json \
	schemas/examples/status.example.json schemas/examples/status.unsynchronised.example.json \
	schemas/examples/proof-inclusion.example.json \
	schemas/examples/proof-consistency.example.json \
	schemas/examples/error.example.json schemas/examples/error.unauthorized.example.json \
	schemas/examples/ws-message.subscribe.example.json \
	schemas/examples/ws-message.subscribed.example.json \
	schemas/examples/ws-message.agreement.example.json \
	schemas/examples/ws-message.checkpoint.example.json \
	schemas/examples/ws-message.unsynchronised.example.json \
	schemas/examples/ws-message.error.example.json \
	schemas/examples/ws-message.unknown-format.example.json \
	schemas/examples/ws-message.unknown-subscription.example.json \
	schemas/examples/ws-message.mode.example.json \
	schemas/examples/shared-state.example.json \
	schemas/examples/shared-state-answer.applied.example.json \
	schemas/examples/shared-state-answer.rejected.example.json \
	schemas/examples/passport.example.json

# ---- after `make install` (also run by `make distcheck`) ----
EXTRA_DIST += tests/e2e/installcheck.sh
installcheck-local:
	SANITIZE_CFLAGS='$(SANITIZE_CFLAGS)' $(SHELL) $(srcdir)/tests/e2e/installcheck.sh '$(DESTDIR)' '$(prefix)' '$(bindir)' \
		'$(sbindir)' '$(libdir)' '$(sysconfdir)' '$(abs_srcdir)' '$(pkglibdir)'
	@for page in $(man8dir)/quorumd.8 $(man5dir)/quorum.conf.5 $(man1dir)/quorumctl.1 \
		$(man1dir)/quorum-sign.1 $(man1dir)/quorum-keygen.1 \
		$(systemdsystemunitdir)/quorumd.service; do \
		test -s "$(DESTDIR)$$page" || { echo "installcheck: $$page is not installed"; exit 1; }; \
	done; \
	grep -q '^ExecStart=$(sbindir)/quorumd --config $(sysconfdir)/quorum/quorum.conf$$' \
		"$(DESTDIR)$(systemdsystemunitdir)/quorumd.service" || \
		{ echo "installcheck: quorumd.service does not start the installed quorumd"; exit 1; }; \
	echo "installcheck: the 5 manual pages and quorumd.service are installed"

# ---- tools the end-to-end tests drive ----
check_PROGRAMS += tests/tools/liar tests/tools/clock-reads tests/tools/ntp-flood \
	tests/tools/peer-attack tests/tools/clock-page-layout tests/tools/settings-doc
tests_tools_liar_SOURCES = tests/tools/liar.c
tests_tools_liar_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/stages/common
tests_tools_liar_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS) $(PROTOBUF_C_CFLAGS)
tests_tools_liar_LDADD = plugins/stages/common/libmalreport.la host/libquorumhost.la
tests_tools_clock_reads_SOURCES = tests/tools/clock-reads.c
tests_tools_clock_reads_LDADD = client/libquorum-clock.la
tests_tools_clock_page_layout_SOURCES = tests/tools/clock-page-layout.c
tests_tools_settings_doc_SOURCES = tests/tools/settings-doc.c
tests_tools_settings_doc_LDADD = -ldl

# Rewrites quorum.conf(5)'s generated settings blocks (tests/e2e/settings-doc.sh checks
# them) from the tables of the plugins built here, before its EXAMPLE section.
update-man-settings: all tests/tools/settings-doc$(EXEEXT)
	$(AWK) '/^\.\\" settings of [a-z0-9_-]*: /{skip=1} \
		!skip && /^\.SH EXAMPLE$$/{fflush(); system("$(top_builddir)/tests/tools/settings-doc \
			$(top_builddir)/lib/stages/*.so $(top_builddir)/lib/transports/*.so")} \
		!skip{print} /^\.\\" end of the settings of /{skip=0}' \
		$(top_srcdir)/man/quorum.conf.5 >man/quorum.conf.5.tmp
	mv man/quorum.conf.5.tmp $(top_srcdir)/man/quorum.conf.5
.PHONY: update-man-settings
tests_tools_ntp_flood_SOURCES = tests/tools/ntp-flood.c
tests_tools_peer_attack_SOURCES = tests/tools/peer-attack.c
tests_tools_peer_attack_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS) $(PROTOBUF_C_CFLAGS)
tests_tools_peer_attack_LDADD = host/libquorumhost.la

# The control plane's JSON: operator command payloads and POST /v1/events answers.
EXTRA_DIST += schemas/control-set-mode.json schemas/control-hitl.json \
	schemas/control-recovery.json schemas/control-recovery-epoch.json \
	schemas/event-verdict.json schemas/examples/control-set-mode.example.json \
	schemas/examples/control-hitl.example.json schemas/examples/control-recovery.example.json \
	schemas/examples/control-recovery-epoch.example.json \
	schemas/examples/event-verdict.example.json \
	schemas/examples/event-verdict.hold.example.json \
	schemas/examples/event-verdict.reject.example.json
EXTRA_DIST += schemas/quorumctl-status.json schemas/examples/quorumctl-status.example.json \
	schemas/examples/quorumctl-status.unsynchronised.example.json
EXTRA_DIST += schemas/quorumctl-time.json schemas/vault-record.json \
	schemas/examples/quorumctl-time.example.json \
	schemas/examples/quorumctl-time.unsynchronised.example.json \
	schemas/examples/vault-record.example.json schemas/examples/vault-record.audit.example.json \
	schemas/examples/vault-record.rounds.example.json
