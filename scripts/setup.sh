#!/usr/bin/env bash
# Installs what the appliance and its tests need on a Debian bookworm machine.
# Idempotent: installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(
  nftables iproute2 iputils-ping ethtool tcpdump iperf3 socat curl procps
  gcc g++ make libyang2-tools python3 python3-ncclient snmp snmpd snmptrapd smitools dnsmasq-base
  ncurses-base  # terminfo (vt100, vt220, linux) for the console TUI
)

missing=()
for p in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts snmpd/snmptrapd on install; the appliance runs its own instances.
  if command -v systemctl >/dev/null && systemctl is-active -q snmpd 2>/dev/null; then $SUDO systemctl disable --now snmpd || true; fi
  if command -v systemctl >/dev/null && systemctl is-active -q snmptrapd 2>/dev/null; then $SUDO systemctl disable --now snmptrapd || true; fi
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
echo "setup: ready"
