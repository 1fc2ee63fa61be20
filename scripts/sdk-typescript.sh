#!/usr/bin/env bash
# Regenerate the TypeScript SDK from openapi/bank.yaml and bundle it for the frontend.
#
#   scripts/sdk-typescript.sh          npm ci, regenerate src/schema.d.ts, type-check, bundle
#   scripts/sdk-typescript.sh --check  the same, then fail if the committed outputs changed
#
# Outputs (both committed): clients/typescript/src/schema.d.ts and frontend/generated/bank-api.js.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
sdk="$root/clients/typescript"
check=0
case "${1:-}" in
  "") ;;
  --check) check=1 ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

command -v npm >/dev/null || { echo "sdk-typescript: npm not found (Node 20+ is required)" >&2; exit 2; }

cd "$sdk"
echo "sdk-typescript: npm ci"
npm ci --no-audit --no-fund --loglevel=error

echo "sdk-typescript: openapi-typescript -> src/schema.d.ts"
npx --no-install openapi-typescript ../../openapi/bank.yaml -o src/schema.d.ts

echo "sdk-typescript: tsc --noEmit (strict)"
npx --no-install tsc -p . --noEmit

echo "sdk-typescript: esbuild -> frontend/generated/bank-api.js"
mkdir -p "$root/frontend/generated"
npx --no-install esbuild src/index.ts --bundle --format=esm --target=es2020 \
  --legal-comments=none --log-level=warning --outfile="$root/frontend/generated/bank-api.js"

if [[ $check -eq 1 ]]; then
  cd "$root"
  outputs=(clients/typescript/src/schema.d.ts frontend/generated/)
  # git diff catches edits to tracked files; status --porcelain also catches new, untracked ones.
  if ! git diff --exit-code --stat -- "${outputs[@]}" \
      || [[ -n "$(git status --porcelain --untracked-files=all -- "${outputs[@]}")" ]]; then
    git status --short --untracked-files=all -- "${outputs[@]}" >&2
    echo "sdk-typescript: the generated TypeScript SDK is out of date with openapi/bank.yaml." >&2
    echo "sdk-typescript: run scripts/sdk-typescript.sh and commit the result." >&2
    exit 1
  fi
  echo "sdk-typescript: generated files are up to date"
fi
