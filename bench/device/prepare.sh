#!/usr/bin/env bash
# Prepare, here, what the 16-core device machine needs for bench/device/run.sh: it reaches no
# registry, so loadgate's Python dependencies travel as wheels (CPython 3.12, x86-64 manylinux) and
# Prometheus and nginx as Debian packages, all in .device/ (ignored by git through .git/info/exclude,
# carried by the device call). The device's image already holds numpy, pandas, scipy, matplotlib,
# jinja2, PyYAML, rich, psutil and prometheus-client (its KINDS.md list): those are not carried,
# which keeps the tree under the call's 64 MiB.
#
#   bash bench/device/prepare.sh          # then, with a device lent:
#   run(command="bash bench/device/run.sh", carry=[".device"], timeout_s=560)
set -euo pipefail
cd "$(dirname "$0")/../.."
DEST=.device
grep -qxF "/$DEST/" .git/info/exclude 2>/dev/null || echo "/$DEST/" >> .git/info/exclude
rm -rf "$DEST" && mkdir -p "$DEST/whl" "$DEST/deb"

# On the device: Python 3.12 with these already installed (KINDS.md); everything else travels.
# PYVER and THERE may be given: PYVER=3.11 THERE= tries the whole path on this machine.
PYVER=${PYVER:-3.12}
THERE=${THERE-"numpy pandas scipy matplotlib pillow contourpy fonttools kiwisolver cycler pyparsing python-dateutil
pytz tzdata six jinja2 markupsafe pyyaml rich markdown-it-py mdurl pygments psutil prometheus-client
requests urllib3 idna certifi charset-normalizer packaging typing-extensions anyio h11 click msgpack
werkzeug regex setuptools wheel pip uvloop"}
python3 - > "$DEST/requirements.txt" <<'PY'
import tomllib
print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))
PY
PLATFORMS=()
for n in 17 24 27 28 31 34; do PLATFORMS+=(--platform "manylinux_2_${n}_x86_64"); done
PLATFORMS+=(--platform manylinux2014_x86_64 --platform manylinux1_x86_64)
python3 -m pip download -q --only-binary=:all: --python-version "$PYVER" --implementation cp "${PLATFORMS[@]}" \
    -d "$DEST/whl" -r "$DEST/requirements.txt" setuptools
for name in $THERE; do
    [[ $name == setuptools ]] && continue  # the editable install builds with it, offline
    pattern=$(echo "$name" | tr '-' '_')
    find "$DEST/whl" -iname "${pattern}-[0-9]*.whl" -delete
done

# Prometheus (a static Go binary) and nginx with its libraries, unpacked on the device under /opt.
(cd "$DEST/deb" && apt-get download prometheus nginx nginx-common libpcre2-8-0 libssl3 2>&1 | grep -v "^Get:" || true)
ls "$DEST/deb"/prometheus_*.deb "$DEST/deb"/nginx_*.deb > /dev/null
du -sh "$DEST" | awk '{print "prepared " $1 " in .device/ (the device call carries at most 64 MiB)"}'
