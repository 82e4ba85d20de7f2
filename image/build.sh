#!/usr/bin/env bash
# `npm run image`: base disk → app bundle → packer build → output/ with
#   vcn-appliance.raw    for dd onto hardware
#   vcn-appliance.qcow2  for VMs (compressed)
#   SHA256SUMS, packages.txt (Debian name=version in the image), build.json
# KVM when /dev/kvm is usable, else QEMU's TCG (several times slower).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "image: run as root (mmdebstrap, disk assembly)" >&2; exit 1; }
start=$(date +%s)
bash image/setup.sh
[ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error   # tsc for the bundle
export VCN_IMAGE_WORK=${VCN_IMAGE_WORK:-.image}
WORK=$VCN_IMAGE_WORK
OUT=${VCN_IMAGE_OUT:-output}
accel=tcg
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then accel=kvm; else echo "image: /dev/kvm not usable: building under TCG (slow)"; fi

# Nice: other work shares this machine's two cores.
nice -n 10 bash image/build-base.sh
t_base=$(date +%s)
nice -n 10 bash image/bundle.sh
t_bundle=$(date +%s)

rm -rf "$WORK/packer-out" "$WORK/packer-serial.log"
echo "image: packer build (accelerator $accel)"
PACKER_CACHE_DIR="$WORK/packer_cache" PACKER_LOG=0 CHECKPOINT_DISABLE=1 nice -n 10 packer build -color=false \
  -var "work=$WORK" -var "accelerator=$accel" packer.pkr.hcl | tee "$WORK/packer.log" | grep -E '^(==>|Build|-->)' || true
[ -f "$WORK/packer-out/vcn-appliance.raw" ] || { echo "image: packer produced no disk (see $WORK/packer.log)" >&2; exit 1; }
grep -aq 'vcn-finalize: done' "$WORK/packer-serial.log" || { echo "image: the finalize step did not finish (see $WORK/packer-serial.log)" >&2; exit 1; }
t_packer=$(date +%s)

mkdir -p "$OUT"
# Reproducibility: the previous build's package set, compared with this one's below.
prev_packages=""
if [ -s "$OUT/packages.txt" ]; then prev_packages="$WORK/packages.previous.txt"; cp "$OUT/packages.txt" "$prev_packages"; fi
rm -f "$OUT"/vcn-appliance.* "$OUT/SHA256SUMS"
mv "$WORK/packer-out/vcn-appliance.raw" "$OUT/vcn-appliance.raw"
nice -n 10 qemu-img convert -c -O qcow2 "$OUT/vcn-appliance.raw" "$OUT/vcn-appliance.qcow2"
(cd "$OUT" && sha256sum vcn-appliance.raw vcn-appliance.qcow2 > SHA256SUMS)
sed -n '/vcn-packages-begin/,/vcn-packages-end/p' "$WORK/packer-serial.log" | tr -d '\r' | grep '=' > "$OUT/packages.txt" || true
# What this build's application brings, for the boot test.
app="$WORK/bundle/opt/vcn/app"
tui=false; [ -f "$app/cli/tui/screens/wizard.js" ] && grep -q "'tui'" "$app/cli/vcn.js" && tui=true
snmp=false; grep -q "'--snmp-dir'" "$app/mgmt/daemon.js" && snmp=true
same_packages=null
if [ -n "$prev_packages" ]; then
  if diff -u "$prev_packages" "$OUT/packages.txt" > "$WORK/packages.diff"; then same_packages=true
  else same_packages=false; echo "image: the package set differs from the previous build's:"; cat "$WORK/packages.diff"; fi
fi
end=$(date +%s)
cat > "$OUT/build.json" <<JSON
{"accelerator":"$accel","seconds":{"base":$((t_base - start)),"bundle":$((t_bundle - t_base)),"packer":$((t_packer - t_bundle)),"total":$((end - start))},
 "raw_bytes":$(stat -c %s "$OUT/vcn-appliance.raw"),"raw_allocated_bytes":$(($(stat -c %b "$OUT/vcn-appliance.raw") * 512)),"qcow2_bytes":$(stat -c %s "$OUT/vcn-appliance.qcow2"),
 "packages":$(wc -l < "$OUT/packages.txt"),"same_packages_as_previous_build":$same_packages,
 "bundle_sha256":"$(sha256sum "$WORK/bundle.tar" | cut -d' ' -f1)","release":"$(cat "$WORK/bundle/etc/vcn/release")",
 "features":{"tui":$tui,"snmp":$snmp}}
JSON
cat "$OUT/build.json"
cat "$OUT/SHA256SUMS"
