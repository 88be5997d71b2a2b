#!/usr/bin/env bash
# `npm test`: type-checks, then runs every test (unit, integration, browser). The tests run even when
# type-checking fails, so one run shows both; it exits non-zero when either failed.
# Extra arguments go to vitest (e.g. `npm test -- tests/unit`).
set -uo pipefail
cd "$(dirname "$0")/.."
npx tsc -p tsconfig.json --noEmit
typed=$?
[ $typed -eq 0 ] || echo "test: type-checking failed (running the tests anyway)" >&2
npx vitest run "$@"
tested=$?
[ $typed -eq 0 ] && [ $tested -eq 0 ]
