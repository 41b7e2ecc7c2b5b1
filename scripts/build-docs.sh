#!/usr/bin/env bash
# Build the HTML documentation: set up (scripts/setup.sh), then
#   sphinx-build -j auto -W --keep-going -b html docs docs/_build/html
# Incremental: docs/_build is kept, so only changed pages are rebuilt
# (delete docs/_build, or pass -E, for a clean build).  Extra arguments go to
# sphinx-build, e.g. `scripts/build-docs.sh -E -v`.  Warnings are errors (-W);
# --keep-going reports all of them before failing.  Works from any directory.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/setup.sh
source "$root/scripts/setup.sh"
cd "$root"

if [ ! -f docs/conf.py ]; then
    echo "build-docs: $root/docs/conf.py not found; nothing to build" >&2
    exit 1
fi

status=0
sphinx-build -j auto -W --keep-going -b html "$@" docs docs/_build/html || status=$?
if [ "$status" -ne 0 ]; then
    echo "build-docs: sphinx-build failed (exit $status)" >&2
    exit "$status"
fi
echo "HTML: $root/docs/_build/html/index.html"
