#!/bin/sh
# Make sure Debian's prometheus package (prometheus + promtool) is installed.
# As root with apt-get it installs it; otherwise it says what to install. Under CI a missing
# Prometheus is an error; elsewhere the Prometheus tests are skipped with the same message.
if command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "loadgate: installing Debian's prometheus package (prometheus, promtool)..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  if command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; then
    exit 0
  fi
  echo "loadgate: apt-get could not install prometheus" >&2
  exit 1
fi
echo "loadgate: prometheus/promtool not found. Install Debian's package: sudo apt-get install -y prometheus" >&2
if [ -n "${CI:-}" ]; then
  exit 1
fi
echo "loadgate: continuing; the tests that need Prometheus will be skipped." >&2
exit 0
