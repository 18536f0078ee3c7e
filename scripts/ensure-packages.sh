#!/bin/sh
# Make sure the Debian packages loadgate runs with are installed: prometheus (prometheus and
# promtool: the local Prometheus and the rule checks), nginx (in front of several demo API
# processes: loadgate demo --api-processes), iproute2 (ip netns: the tests' separate hosts) and
# kubernetes-client (kubectl kustomize: the tests render deploy/k8s offline; nothing is applied).
# As root with apt-get it installs what is missing; otherwise it says what to install. Under CI
# anything missing is an error; elsewhere the tests that need it are skipped with the same message.
missing=""
command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 || missing="$missing prometheus"
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing="$missing nginx"
command -v ip >/dev/null 2>&1 || [ -x /usr/sbin/ip ] || [ -x /sbin/ip ] || missing="$missing iproute2"
command -v kubectl >/dev/null 2>&1 || missing="$missing kubernetes-client"
if [ -z "$missing" ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "loadgate: installing Debian's packages:$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  # shellcheck disable=SC2086
  if apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends $missing >/dev/null; then
    # Debian starts an nginx on port 80 when it installs one; loadgate starts its own.
    if command -v systemctl >/dev/null 2>&1; then systemctl disable --now nginx >/dev/null 2>&1 || true; fi
    [ -f /run/nginx.pid ] && kill "$(cat /run/nginx.pid)" 2>/dev/null || true
    exit 0
  fi
  echo "loadgate: apt-get could not install:$missing" >&2
  exit 1
fi
echo "loadgate: not installed:$missing. Install Debian's packages: sudo apt-get install -y$missing" >&2
if [ -n "${CI:-}" ]; then
  exit 1
fi
echo "loadgate: continuing; the tests that need them will be skipped." >&2
exit 0
