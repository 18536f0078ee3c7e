#!/usr/bin/env bash
# `make test`'s pytest: the servers' half (e2e and browser tests) and the rest (unit, Prometheus,
# fuzz) as two pytest processes at once. The load tests mostly wait on their graded windows
# (measured: 6.4 CPU-minutes in 17 wall-minutes on 2 cores), so the CPU-bound half runs beside
# them, niced, instead of before them; its log is printed after the servers' half, whole.
# Usage: tests/suite.sh PYTHON [pytest args for both halves...]
set -uo pipefail
py=${1:-.venv/bin/python}
shift || true
log=$(mktemp -t loadgate-unit-XXXXXX.log)
# At the lowest priority, so the load tests' generators and services never wait for a CPU behind
# it (promtool's rule tests use both cores; unniced they skewed a healthy demo's client-side p99).
nice -n 19 "$py" -m pytest -m "not e2e and not browser" "$@" >"$log" 2>&1 &
rest=$!
trap 'kill "$rest" 2>/dev/null; rm -f "$log"' INT TERM
"$py" -m pytest -m "e2e or browser" "$@"
servers=$?
wait "$rest"
others=$?
echo
echo "======== the unit, Prometheus and fuzz tests, run beside the above (exit $others) ========"
cat "$log"
rm -f "$log"
echo "make test: e2e and browser tests exit $servers; unit, Prometheus and fuzz tests exit $others"
[ "$servers" -eq 0 ] && [ "$others" -eq 0 ]
