#!/usr/bin/env bash
# Run the TypeScript SDK's node tests (test/*.test.mjs) against a service that is ALREADY running.
#
#   BANK_BASE_URL=http://127.0.0.1:8000 scripts/test-typescript-sdk.sh [node --test args...]
#
# BANK_BASE_URL is the service root (the tests append /v1). This script starts nothing; the tests
# import the committed bundle frontend/generated/bank-api.js, so run scripts/sdk-typescript.sh first
# if the contract changed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ -z "${BANK_BASE_URL:-}" ]]; then
  echo "test-typescript-sdk: set BANK_BASE_URL to a running service, e.g. http://127.0.0.1:8000" >&2
  exit 2
fi
command -v node >/dev/null || { echo "test-typescript-sdk: node not found (Node 20+ is required)" >&2; exit 2; }

base="${BANK_BASE_URL%/}"
base="${base%/v1}"

cd "$root/clients/typescript"
# Fail fast with a clear message when nothing is listening.
if ! node -e 'fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' \
    "$base/v1/health/live"; then
  echo "test-typescript-sdk: no healthy service at ${BANK_BASE_URL} (GET /v1/health/live)" >&2
  exit 2
fi
exec node --test "$@" test/
