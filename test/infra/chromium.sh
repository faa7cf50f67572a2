#!/usr/bin/env bash
# Chromium from Debian's chromium package, for the browser tests (playwright-core drives it; no
# browser download). Not a server: start only checks that the binary runs, stop does nothing.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CHROMIUM=/usr/bin/chromium

install() {
  apt_install chromium
}

start() {
  [[ -x $CHROMIUM ]] || die "$CHROMIUM is missing: run '$0 install'"
  "$CHROMIUM" --headless --no-sandbox --version >/dev/null 2>&1 || die "$CHROMIUM --version failed"
  log "chromium: $("$CHROMIUM" --version 2>/dev/null)"
}

env() {
  emit CHROMIUM_PATH "$CHROMIUM"
}

stop() {
  :
}

dispatch "$@"
