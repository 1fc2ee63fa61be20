#!/usr/bin/env bash
# Regenerate the Python SDK (clients/python) from the contract, openapi/bank.yaml.
#   scripts/sdk-python.sh          regenerate in place
#   scripts/sdk-python.sh --check  regenerate in place, then fail if clients/python differs
#                                  from what git has (the committed SDK is stale)
# Uses the openapi-python-client and ruff pinned in requirements-dev.lock (.venv by default;
# set VENV=/path/to/venv to use another one).
set -euo pipefail
cd "$(dirname "$0")/.."

check=0
case "${1:-}" in
  "") ;;
  --check) check=1 ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

venv=${VENV:-.venv}
if [ -x "$venv/bin/openapi-python-client" ]; then
  PATH="$(cd "$venv/bin" && pwd):$PATH"
fi
for tool in openapi-python-client ruff; do
  command -v "$tool" >/dev/null 2>&1 || { echo "$tool not found: install requirements-dev.lock into $venv" >&2; exit 2; }
done

# Start from nothing: --overwrite keeps files the spec no longer produces.
rm -rf clients/python
RUFF_NO_CACHE=true openapi-python-client generate \
  --path openapi/bank.yaml \
  --config clients/python-config.yml \
  --meta uv \
  --output-path clients/python \
  --overwrite \
  --fail-on-warning >/dev/null

if [ "$check" -eq 1 ]; then
  if ! git diff --exit-code --stat -- clients/python \
      || [ -n "$(git status --porcelain --untracked-files=all -- clients/python)" ]; then
    git status --short --untracked-files=all -- clients/python >&2
    echo "clients/python is stale: run scripts/sdk-python.sh and commit the result" >&2
    exit 1
  fi
  echo "clients/python is up to date with openapi/bank.yaml"
fi
