#!/usr/bin/env bash
# `npm run image:test`: boots output/vcn-appliance.qcow2 under QEMU and checks it
# (test/image/boot.test.ts). Without /dev/kvm the test reports itself skipped
# with that reason; VCN_IMAGE_TCG=1 runs it under TCG instead (slow).
set -euo pipefail
cd "$(dirname "$0")/.."
bash image/setup.sh
[ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error
npx vitest run --project image "$@"
