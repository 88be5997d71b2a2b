#!/usr/bin/env bash
# Quick start: installs what is missing, then runs the whole stack with a simulated campus.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec bin/campus-power.js up --demo "$@" # the bin's shebang carries its node flags
