#!/usr/bin/env bash
# Lint the container files: hadolint on the Dockerfile (.hadolint.yaml), docker-compose.yml
# against the Compose Specification JSON schema (vendored in check-jsonschema), and
# `docker compose config` when a docker CLI with compose is available.
# Exits non-zero on any finding. Usage: scripts/check-container.sh
set -euo pipefail
cd "$(dirname "$0")/.."

VENV_BIN="${VENV_BIN:-.venv/bin}"
status=0

for tool in hadolint check-jsonschema; do
  if [ ! -x "$VENV_BIN/$tool" ]; then
    echo "check-container: $VENV_BIN/$tool not found (install requirements-dev.lock)" >&2
    exit 2
  fi
done

echo "== hadolint Dockerfile"
"$VENV_BIN/hadolint" --config .hadolint.yaml --no-color Dockerfile || status=1

echo "== compose-spec schema: docker-compose.yml"
"$VENV_BIN/check-jsonschema" --builtin-schema vendor.compose-spec docker-compose.yml || status=1

echo "== git-ignored secrets"
if git ls-files --error-unmatch .env >/dev/null 2>&1; then
  echo ".env is tracked by git: remove it (secrets belong in the untracked .env)" >&2
  status=1
fi
if ! git check-ignore -q .env; then
  echo ".env is not git-ignored" >&2
  status=1
fi

if command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
  echo "== docker compose config"
  JWT_SECRET=lint-only docker compose --profile postgres config --quiet || status=1
else
  echo "== docker compose config: skipped (no docker compose CLI)"
fi

if [ "$status" -ne 0 ]; then
  echo "check-container: FAILED" >&2
else
  echo "check-container: OK"
fi
exit "$status"
