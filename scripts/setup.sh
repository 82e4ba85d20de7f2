#!/usr/bin/env bash
# Installs what the appliance and its tests need on a Debian bookworm machine.
# Idempotent: installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(
  nftables iproute2 iputils-ping ethtool tcpdump iperf3 socat curl procps
  gcc g++ make libyang2-tools python3 python3-nftables python3-ncclient snmp snmpd snmptrapd smitools dnsmasq-base
  ncurses-base  # terminfo (vt100, vt220, linux) for the console TUI
)

# shellcheck source=lib/apt-ensure.sh
. scripts/lib/apt-ensure.sh
apt_ensure setup "${DEBIAN_PACKAGES[@]}"
if ((${#APT_INSTALLED[@]})); then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  # Debian starts snmpd/snmptrapd on install; the appliance runs its own instances.
  if command -v systemctl >/dev/null && systemctl is-active -q snmpd 2>/dev/null; then $SUDO systemctl disable --now snmpd || true; fi
  if command -v systemctl >/dev/null && systemctl is-active -q snmptrapd 2>/dev/null; then $SUDO systemctl disable --now snmptrapd || true; fi
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
echo "setup: ready"
