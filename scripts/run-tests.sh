#!/usr/bin/env bash
# Run the test suite: set up (scripts/setup.sh), then `python -m pytest ARGS`
# from the repository root, where ARGS defaults to -q (the whole suite, quietly).
#   scripts/run-tests.sh                       # everything
#   scripts/run-tests.sh tests/test_cli.py -x  # one file, stop at the first failure
# Exits with pytest's exit code (5 when no test was collected).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/setup.sh
source "$root/scripts/setup.sh"
cd "$root"

if [ "$#" -eq 0 ]; then
    set -- -q
fi
exec python -m pytest "$@"
