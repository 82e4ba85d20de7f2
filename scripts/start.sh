#!/usr/bin/env bash
# The README's run command: set up, then run the appliance against the lab.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec bin/vcn start "$@"
