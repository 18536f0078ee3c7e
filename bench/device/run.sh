#!/usr/bin/env bash
# On the 16-core device machine (run from the repository root; .device/ carried, made by
# bench/device/prepare.sh): unpack Prometheus and nginx, install loadgate offline into a venv that
# sees the image's own packages, then run the full demo up to 10,000 req/s against the production
# table (bench/bench_scale.py) and write its table and each step's summary to $OUT.
#
# Bounded: every step is 40 s of load plus start-up, the rates are few, and all traffic is on
# 127.0.0.1 of that machine. RATES and DURATION may be given in the environment.
set -uo pipefail
OUT=${OUT:-$PWD/device-out}
mkdir -p "$OUT"
RATES=${RATES:-2500,5000,10000}
DURATION=${DURATION:-40}
exec > >(tee "$OUT/run.log") 2>&1
echo "== $(date -u +%FT%TZ) on $(nproc) cores, $(python3 --version)"

ROOT=/opt/loadgate-debs
mkdir -p "$ROOT" /var/log/nginx /var/lib/nginx
for deb in .device/deb/*.deb; do dpkg -x "$deb" "$ROOT"; done
mkdir -p "$ROOT/bin"
# nginx with the carried libraries only where the image lacks them; loadgate finds both on PATH.
printf '#!/bin/sh\nLD_LIBRARY_PATH=%s/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} exec %s/usr/sbin/nginx "$@"\n' \
    "$ROOT" "$ROOT" > "$ROOT/bin/nginx"
chmod +x "$ROOT/bin/nginx"
export PATH="$ROOT/bin:$ROOT/usr/bin:$PATH"
prometheus --version 2>&1 | head -1 || { echo "prometheus does not run here"; exit 1; }
nginx -v || { echo "nginx does not run here"; exit 1; }

python3 -m venv --system-site-packages /tmp/lg || exit 1
# Only the dependencies: loadgate itself runs from this tree (no build step, nothing to fetch).
/tmp/lg/bin/pip install -q --no-index --find-links .device/whl -r .device/requirements.txt || exit 1
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
/tmp/lg/bin/python -c "import locust, loadgate; print('locust', locust.__version__)" || exit 1

PYTHONUNBUFFERED=1 /tmp/lg/bin/python bench/bench_scale.py --rates "$RATES" --duration "$DURATION" | tee "$OUT/scale.txt"
status=${PIPESTATUS[0]}
work=$(sed -n 's/^run directories: //p' "$OUT/scale.txt")
for step in "$work"/step-*; do
    [ -f "$step/summary.md" ] && cp "$step/summary.md" "$OUT/$(basename "$step")-summary.md"
done
exit "$status"
