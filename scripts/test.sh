#!/usr/bin/env bash
# The README's test command: set up, then run every check CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "== schema integrity, types, lint"
npx tsc --noEmit
npx eslint .
echo "== unit and golden tests"
npx vitest run --project unit
if [ "$(id -u)" -eq 0 ]; then
  echo "== integration tests (network namespaces, real nftables)"
  npx vitest run --project integration --passWithNoTests
else
  echo "integration tests need root (network namespaces): run as root" >&2
  exit 1
fi
