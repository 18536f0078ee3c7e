#!/bin/sh
# Make sure Debian's chromium is installed for the report's browser tests.
# As root with apt-get it installs it; otherwise it says what to install. Under CI a missing
# Chromium is an error; elsewhere the browser tests are skipped with the same message.
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "loadgate: installing Debian's chromium package for the report's browser tests..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends chromium >/dev/null
  if command -v chromium >/dev/null 2>&1; then
    exit 0
  fi
  echo "loadgate: apt-get could not install chromium" >&2
  exit 1
fi
echo "loadgate: chromium not found. Install Debian's package: sudo apt-get install -y chromium" >&2
if [ -n "${CI:-}" ]; then
  exit 1
fi
echo "loadgate: continuing; the browser tests will be skipped." >&2
exit 0
