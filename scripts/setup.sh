#!/usr/bin/env bash
# Set up a development environment for sphinx-netviz, idempotently.
#
#   bash scripts/setup.sh      # set up (from any directory)
#   . scripts/setup.sh         # set up, and put .venv/bin first on this shell's PATH
#
# 1. Graphviz `dot`: installed with apt-get when missing and running as root;
#    otherwise says how to install it and fails.
# 2. .venv in the repository root, made with $NETVIZ_PYTHON (default python3)
#    when missing.
# 3. pip install -c constraints/dev.txt -e ".[test,docs]", skipped while
#    .venv/.netviz-setup-stamp holds the sha256 of pyproject.toml and
#    constraints/dev.txt, so a re-run takes about a second.
# 3b. npm ci in tests/browser (axe-core, for the accessibility test), skipped while
#    tests/browser/node_modules/.netviz-lock is a copy of tests/browser/package-lock.json.
# 4. PATH gets .venv/bin first (and VIRTUAL_ENV is set).
#
# scripts/run-tests.sh and scripts/build-docs.sh source this file.  When
# sourced it does not change the caller's directory or shell options; on
# failure it returns non-zero instead of exiting.

_netviz_setup() {
    local root python stamp_file want have
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)" || return 1
    python="${NETVIZ_PYTHON:-python3}"
    stamp_file="$root/.venv/.netviz-setup-stamp"

    # 1. Graphviz
    if ! command -v dot >/dev/null 2>&1; then
        if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
            echo "setup: Graphviz 'dot' not found; installing the Debian package graphviz" >&2
            _netviz_apt_install graphviz || return 1
            command -v dot >/dev/null 2>&1 || {
                echo "setup: graphviz was installed but 'dot' is still not on PATH" >&2; return 1; }
        else
            cat >&2 <<'MSG'
setup: the Graphviz executable 'dot' was not found on PATH, and it cannot be
installed from here (that needs root and apt-get). Install Graphviz, then re-run:
    Debian/Ubuntu:  sudo apt-get update && sudo apt-get install -y graphviz
    Fedora:         sudo dnf install graphviz
    macOS:          brew install graphviz
    conda:          conda install graphviz
MSG
            return 1
        fi
    fi

    # 1b. browser tests (tests/browser): Debian's chromium, driven by Playwright
    #     (pip, the "test" extra).  Set NETVIZ_BROWSER_TESTS=0 to skip this step.
    if [ "${NETVIZ_BROWSER_TESTS:-1}" = 1 ]; then
        if [ ! -x /usr/bin/chromium ]; then
            if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
                echo "setup: /usr/bin/chromium not found; installing the Debian package chromium" >&2
                _netviz_apt_install chromium || return 1
            else
                echo "setup: /usr/bin/chromium not found (Debian/Ubuntu: sudo apt-get install chromium);" \
                     "the browser tests will be skipped" >&2
            fi
        fi
    fi

    # 2. virtual environment
    if [ ! -x "$root/.venv/bin/python" ]; then
        command -v "$python" >/dev/null 2>&1 || {
            echo "setup: '$python' not found; install Python 3.10+ or set NETVIZ_PYTHON" >&2
            return 1; }
        echo "setup: creating $root/.venv with $python" >&2
        "$python" -m venv "$root/.venv" || {
            echo "setup: '$python -m venv' failed (on Debian/Ubuntu: apt-get install python3-venv)" >&2
            return 1; }
    fi

    # 3. packages, unless pyproject.toml and the constraints are unchanged since the last install
    want="$(cat "$root/pyproject.toml" "$root/constraints/dev.txt" | _netviz_sha256)" || return 1
    have="$(cat "$stamp_file" 2>/dev/null || true)"
    if [ "$want" != "$have" ]; then
        echo "setup: installing sphinx-netviz and its test/docs dependencies into .venv (pip -q)" >&2
        rm -f "$stamp_file"
        (
            cd "$root" &&
            "$root/.venv/bin/python" -m pip install -q --disable-pip-version-check \
                -c constraints/dev.txt -e ".[test,docs]"
        ) || { echo "setup: pip install failed (see above)" >&2; return 1; }
        printf '%s\n' "$want" >"$stamp_file" || return 1
    fi

    # 3b. axe-core for the accessibility test (tests/browser/test_axe.py): npm ci in
    #     tests/browser from its package-lock.json (axe-core pinned), skipped while
    #     node_modules/.netviz-lock is a copy of that lock.  Without npm the test is skipped
    #     (and fails under CI=true, as the other browser tests do).
    if [ "${NETVIZ_BROWSER_TESTS:-1}" = 1 ]; then
        local browser_dir="$root/tests/browser"
        if ! cmp -s "$browser_dir/package-lock.json" "$browser_dir/node_modules/.netviz-lock"; then
            if command -v npm >/dev/null 2>&1; then
                echo "setup: installing axe-core into tests/browser/node_modules (npm ci)" >&2
                if (cd "$browser_dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null); then
                    cp "$browser_dir/package-lock.json" "$browser_dir/node_modules/.netviz-lock"
                else
                    echo "setup: npm ci failed in tests/browser; the axe-core test will be skipped" >&2
                fi
            else
                echo "setup: npm not found (Debian/Ubuntu: sudo apt-get install npm);" \
                     "the axe-core accessibility test will be skipped" >&2
            fi
        fi
    fi

    # 4. PATH (not prepended twice when sourced again)
    case ":$PATH:" in
        ":$root/.venv/bin:"*) ;;
        *) PATH="$root/.venv/bin:$PATH" ;;
    esac
    export PATH
    export VIRTUAL_ENV="$root/.venv"
    return 0
}

# apt-get install PACKAGE, updating the package lists once per run
_netviz_apt_install() {
    if [ -z "${_NETVIZ_APT_UPDATED:-}" ]; then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null || {
            echo "setup: apt-get update failed" >&2; return 1; }
        _NETVIZ_APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null || {
        echo "setup: apt-get install $1 failed" >&2; return 1; }
}

_netviz_sha256() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum | cut -d' ' -f1
    else
        shasum -a 256 | cut -d' ' -f1
    fi
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    # run as a script
    set -euo pipefail
    _netviz_setup
else
    # sourced
    _netviz_setup
fi
