#!/usr/bin/env bash
# `npm run bench`: every benchmark, each printing ratios against a baseline measured in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
NODE="node --expose-gc --max-semi-space-size=64 --import tsx"
echo "== compiler scale (issue 2)"
$NODE bench/compile-scale.ts
for b in bench/datapath-*.ts; do
  [ -e "$b" ] || continue
  echo "== $b"
  $NODE "$b"
done
echo "== NETCONF at scale (issue 5): get-config of 10k services over the unix socket and SSH, one-service edit + commit"
$NODE bench/netconf-scale.ts 10000 5
echo "== SNMP: bulkwalk of the service table through snmpd + subagent (issue 6)"
$NODE bench/snmp-walk.ts
