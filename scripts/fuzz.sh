#!/usr/bin/env bash
# Contract fuzzing: Schemathesis (pinned in requirements-dev.lock) against the PRODUCTION server
# command, `gunicorn -c bank/gunicorn_conf.py "bank.app:make_asgi_app()"`, on a fresh database
# (SQLite, or a throwaway PostgreSQL database), with every check and every phase (examples,
# coverage, fuzzing, stateful).
#
# Usage: scripts/fuzz.sh [extra `st run` options]   (`nox -s fuzz` and `make test` call it)
#
# Settings live in schemathesis.toml (checks, phases, seed, examples, time budget, auth, reports)
# and tests/fuzz/hooks.py (creates the fuzzing users, keeps logout off their tokens).
# Reports: reports/schemathesis.xml (JUnit), reports/fuzz-server.log (the server's own log);
# with FUZZ_DATABASE=postgres, reports/schemathesis-postgres.xml and fuzz-server-postgres.log.
# Environment:
#   FUZZ_DATABASE       sqlite (default) or postgres: a database created on the server that
#                       BANK_TEST_PG_URL names (as the test suite's), dropped at the end
#   FUZZ_UNIT_TIME      seconds for examples, coverage and fuzzing (default 200)
#   FUZZ_STATEFUL_TIME  seconds for the stateful phase (default 130)
#                       (with ~20 s of start-up, the whole step takes ~6 min, under 8)
#   FUZZ_WORKERS   gunicorn workers (default 1: faster when server and fuzzer share 2 cores)
#   FUZZ_CONFIG    Schemathesis configuration file (default schemathesis.toml)
# Exit status: Schemathesis' own (0 clean, 1 failures, 2 setup error), or 3 if the server failed.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV_BIN="${VENV_BIN:-.venv/bin}"
PY="$VENV_BIN/python"
ST="$VENV_BIN/st"
SCHEMATHESIS_VERSION="4.32.5"
FUZZ_UNIT_TIME="${FUZZ_UNIT_TIME:-200}"
FUZZ_STATEFUL_TIME="${FUZZ_STATEFUL_TIME:-130}"
FUZZ_WORKERS="${FUZZ_WORKERS:-1}"
FUZZ_CONFIG="${FUZZ_CONFIG:-schemathesis.toml}"
FUZZ_DATABASE="${FUZZ_DATABASE:-sqlite}"
case "$FUZZ_DATABASE" in
  sqlite) suffix="" ;;
  postgres) suffix="-postgres" ;;
  *)
    echo "fuzz: FUZZ_DATABASE must be sqlite or postgres, not $FUZZ_DATABASE" >&2
    exit 2
    ;;
esac
report="reports/schemathesis$suffix"
server_log="reports/fuzz-server$suffix.log"

for tool in "$PY" "$ST"; do
  if [ ! -x "$tool" ]; then
    echo "fuzz: $tool not found (install requirements-dev.lock)" >&2
    exit 2
  fi
done
installed="$("$PY" -c 'import importlib.metadata as m; print(m.version("schemathesis"))')"
if [ "$installed" != "$SCHEMATHESIS_VERSION" ]; then
  echo "fuzz: schemathesis $installed installed, $SCHEMATHESIS_VERSION expected" >&2
  exit 2
fi

mkdir -p reports
rm -f "$report.xml" "$report-unit.xml" "$report-stateful.xml"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/bank-fuzz.XXXXXX")"
server_pid=""
pg_database=""
# PostgreSQL: create or drop a throwaway database on the test server (the same admin URL as the
# test suite's conftest), with psycopg from the venv.
pg_admin() {  # pg_admin create|drop NAME
  "$PY" - "$1" "$2" <<'EOF_PG'
import os, sys
import psycopg
from psycopg import sql

url = os.environ.get("BANK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
action, name = sys.argv[1:]
with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1), autocommit=True,
                     connect_timeout=5) as conn:
    if action == "create":
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    else:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    print(url.rsplit("/", 1)[0] + "/" + name)
EOF_PG
}
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    # gunicorn's graceful_timeout is 30 s; a fuzzed server holds no long requests.
    for _ in $(seq 1 100); do
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ -n "$pg_database" ]; then
    pg_admin drop "$pg_database" >/dev/null || echo "fuzz: could not drop $pg_database" >&2
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port="$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
base="http://127.0.0.1:$port"

export APP_ENV=test
if [ "$FUZZ_DATABASE" = postgres ]; then
  pg_database="bank_fuzz_$("$PY" -c 'import secrets; print(secrets.token_hex(4))')"
  DATABASE_URL="$(pg_admin create "$pg_database")" || {
    pg_database=""
    echo "fuzz: could not create a PostgreSQL database (BANK_TEST_PG_URL)" >&2
    exit 2
  }
  export DATABASE_URL
else
  export DATABASE_URL="sqlite:///$tmp/fuzz.db"
fi
JWT_SECRET="$("$PY" -c 'import secrets; print(secrets.token_hex(32))')"  # 64 characters
export JWT_SECRET
export BCRYPT_ROUNDS=4
# The fuzzer logs in with wrong passwords on purpose; throttling would turn its logins into 429s.
export LOGIN_MAX_FAILURES_PER_EMAIL=1000000
export LOGIN_MAX_FAILURES_PER_IP=1000000
export VALIDATE_RESPONSES=true
export LOG_FORMAT=json
export HOST=127.0.0.1 PORT="$port" WEB_CONCURRENCY="$FUZZ_WORKERS"

echo "== fuzz: migrating $DATABASE_URL"
"$PY" -m bank.cli migrate >"$server_log" 2>&1

echo "== fuzz: gunicorn on $base ($FUZZ_DATABASE, workers=$FUZZ_WORKERS), log in $server_log"
"$PY" -m gunicorn -c bank/gunicorn_conf.py "bank.app:make_asgi_app()" >>"$server_log" 2>&1 &
server_pid=$!

# Poll liveness: bounded at 30 s, no fixed sleep before the first try.
ready=""
for _ in $(seq 1 300); do
  if ! kill -0 "$server_pid" 2>/dev/null; then
    break
  fi
  if "$PY" - "$base/v1/health/live" <<'EOF' 2>/dev/null; then
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=1) as response:
    sys.exit(0 if response.status == 200 else 1)
EOF
    ready=1
    break
  fi
  sleep 0.1
done
if [ -z "$ready" ]; then
  echo "fuzz: the server did not become live; last lines of $server_log:" >&2
  tail -n 40 "$server_log" >&2
  exit 3
fi

export BANK_FUZZ_ORIGIN="$base"  # read by tests/fuzz/hooks.py

# Two Schemathesis runs on the same server and database, each with its own time budget. In one
# run, `--max-time` repeats fuzzing and stateful in cycles, and each cycle's fuzzing pass (100
# examples for each of 24 operations) takes ~10x its stateful pass, so the stateful phase would
# get ~10% of the time. The stateful phase is where money moves through real accounts, so it
# gets a budget of its own.
run_st() {  # run_st NAME PHASES MAX_TIME [extra options]
  local name="$1" phases="$2" max_time="$3"
  shift 3
  echo "== fuzz: schemathesis $SCHEMATHESIS_VERSION: $phases, --max-time $max_time"
  "$ST" --config-file "$FUZZ_CONFIG" run "$base/v1/openapi.json" \
    --url "$base/v1" \
    --phases "$phases" \
    --max-time "$max_time" \
    --report junit --report-junit-path "$report-$name.xml" \
    --no-color \
    "$@"
}

status=0
run_st unit examples,coverage,fuzzing "$FUZZ_UNIT_TIME" "$@" || status=$?
stateful_status=0
run_st stateful stateful "$FUZZ_STATEFUL_TIME" "$@" || stateful_status=$?
if [ "$stateful_status" -gt "$status" ]; then
  status=$stateful_status
fi

# One JUnit report for CI: both runs' suites under one <testsuites>.
"$PY" - "$report.xml" "$report-unit.xml" "$report-stateful.xml" <<'EOF_PY'
import sys
import xml.etree.ElementTree as ET

target, *parts = sys.argv[1:]
merged = ET.Element("testsuites")
totals = dict.fromkeys(("errors", "failures", "skipped", "tests", "time"), 0.0)
for path in parts:
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        continue
    for suite in root.iter("testsuite"):
        suite.set("name", path.rsplit("/", 1)[-1].removesuffix(".xml"))
        for key in totals:
            totals[key] += float(suite.get(key, 0))
        merged.append(suite)
for key, value in totals.items():
    merged.set(key, f"{value:.6f}" if key == "time" else str(int(value)))
ET.ElementTree(merged).write(target, encoding="utf-8", xml_declaration=True)
EOF_PY

if ! kill -0 "$server_pid" 2>/dev/null; then
  echo "fuzz: the server died during the run; see $server_log" >&2
  [ "$status" -ne 0 ] || status=3
fi
echo "== fuzz: schemathesis exit status $status ($FUZZ_DATABASE); JUnit report in $report.xml"
exit "$status"
