#!/bin/sh
# setup-debian.sh -- installs the Debian packages that build and test Quorum Time (Debian 12).
# Runs apt-get as root, or through sudo when started by another user.
set -eu
PACKAGES="
  build-essential autoconf automake libtool libltdl-dev pkg-config
  libssl-dev libevent-dev libconfig-dev libjansson-dev
  libprotobuf-c-dev protobuf-c-compiler libglib2.0-dev libsqlite3-dev libwslay-dev libnghttp2-dev zlib1g-dev
  clang-14 libclang-rt-14-dev clang-format-14
  curl openssl python3 python3-jsonschema python3-websockets python3-grpcio python3-grpc-tools python3-protobuf chrony ntpsec-ntpdig wrk nginx-light faketime
  python3-prometheus-client
  chromium
"
if [ "$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $PACKAGES
