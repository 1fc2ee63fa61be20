#!/usr/bin/env bash
# Print the path of a Python 3.12 interpreter: python3.12 on PATH (Ubuntu 24.04), else pyenv's.
set -euo pipefail
for candidate in "${PYTHON:-}" python3.12 "$(command -v pyenv >/dev/null 2>&1 && echo "$(pyenv root)/versions/"3.12.*/bin/python3.12 | tr ' ' '\n' | sort -V | tail -n1)" "$HOME"/.pyenv/versions/3.12.*/bin/python3.12 /usr/bin/python3.12; do
  [ -n "$candidate" ] || continue
  if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys, venv; sys.exit(sys.version_info[:2] != (3, 12))' 2>/dev/null; then
    command -v "$candidate"
    exit 0
  fi
done
echo "Python 3.12 not found: install python3.12 and python3.12-venv (Ubuntu 24.04: apt-get install python3.12-venv)" >&2
exit 1
