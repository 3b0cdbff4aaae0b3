#!/bin/sh
# Builds a Lambda layer for the Python runtimes in DIR (default: ./layer) and DIR.zip:
#   python/             envinject and its dependencies (on the runtime's PYTHONPATH as /opt/python)
#   envinject-wrapper   the exec wrapper (/opt/envinject-wrapper)
# Usage: examples/lambda/build-layer.sh [DIR]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-layer}
rm -rf "$out" "$out.zip"
mkdir -p "$out"
# boto3 is in the Python runtimes already, but a pinned copy keeps the layer independent of the runtime's.
python3 -m pip install --quiet --target "$out/python" "$here/../.."
cp "$here/envinject-wrapper" "$out/envinject-wrapper"
chmod 0755 "$out/envinject-wrapper"
(cd "$out" && python3 -m zipfile -c "../$(basename "$out").zip" python envinject-wrapper)
