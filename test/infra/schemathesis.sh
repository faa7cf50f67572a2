#!/usr/bin/env bash
# schemathesis (PyPI), pinned, in a virtualenv under the cache, for the API fuzzing test
# (test/integration/api-schemathesis.test.ts). Not a server: start only checks that it runs,
# stop does nothing. Debian's python3 and python3-venv when no python3 can make a virtualenv.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SCHEMATHESIS_VERSION=4.32.5
VENV=$CACHE/schemathesis-$SCHEMATHESIS_VERSION
BIN=$VENV/bin/schemathesis

install() {
  # The marker is written last: an interrupted install is redone from scratch.
  [[ -f $VENV/.installed ]] && return 0
  if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    apt_install python3 python3-venv
  fi
  log "installing schemathesis $SCHEMATHESIS_VERSION into $VENV"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
  "$BIN" --version >/dev/null || die "schemathesis does not run after its install"
  touch "$VENV/.installed"
}

start() {
  [[ -x $BIN ]] || die "$BIN is missing: run '$0 install'"
  "$BIN" --version >/dev/null 2>&1 || die "$BIN --version failed"
  log "$("$BIN" --version)"
}

env() {
  emit SCHEMATHESIS_PATH "$BIN"
}

stop() {
  :
}

dispatch "$@"
