#!/usr/bin/env bash
# Lint the OpenAPI contract: openapi-spec-validator (structure, from .venv) and the pinned
# Redocly CLI (scripts/spec-lint) with redocly.yaml (`recommended`). Warnings fail too.
# Usage: scripts/lint-spec.sh [SPEC]   (default openapi/bank.yaml)
set -euo pipefail
cd "$(dirname "$0")/.."

SPEC="${1:-openapi/bank.yaml}"
VENV_BIN="${VENV_BIN:-.venv/bin}"
LINT_DIR=scripts/spec-lint
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true NO_UPDATE_NOTIFIER=1

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "lint-spec: node and npm are required (Node >= 20.19)" >&2
  exit 2
fi
if [ ! -x "$LINT_DIR/node_modules/.bin/redocly" ]; then
  echo "== npm ci ($LINT_DIR)"
  (cd "$LINT_DIR" && npm ci --no-audit --no-fund --loglevel=error)
fi
REDOCLY="$LINT_DIR/node_modules/.bin/redocly"

echo "== openapi-spec-validator $SPEC"
"$VENV_BIN/openapi-spec-validator" "$SPEC"

echo "== redocly lint $SPEC ($("$REDOCLY" --version 2>/dev/null | tail -n1))"
status=0
"$REDOCLY" lint --config redocly.yaml --lint-config error --format codeframe "$SPEC" || status=1

# Redocly exits 0 on warnings; count them from the JSON report so that any finding fails.
report=$(mktemp)
trap 'rm -f "$report"' EXIT
"$REDOCLY" lint --config redocly.yaml --lint-config error --format json "$SPEC" \
  >"$report" 2>/dev/null || true
warnings=$(node -e '
  const fs = require("fs");
  const text = fs.readFileSync(process.argv[1], "utf8");
  const report = JSON.parse(text.slice(text.indexOf("{")));
  console.log(report.totals.errors + report.totals.warnings);
' "$report") || { echo "lint-spec: could not read the Redocly JSON report" >&2; exit 1; }
if [ "$warnings" -ne 0 ]; then
  echo "lint-spec: $warnings Redocly finding(s)" >&2
  status=1
fi

if [ "$status" -ne 0 ]; then
  echo "lint-spec: FAILED" >&2
else
  echo "lint-spec: OK"
fi
exit "$status"
