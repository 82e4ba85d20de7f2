#!/usr/bin/env bash
# Builds the base disk Packer starts from: a minimal Debian bookworm root made
# by mmdebstrap from Debian packages into a directory, then a partitioned raw
# disk assembled in a plain file (no loop devices, no mounts):
#
#   sector 0        GRUB boot.img (first 440 bytes, the MBR partition table stays)
#   sectors 1..2047 GRUB core.img (grub-mkimage from the image's own grub-pc-bin)
#   partition 1     ext4 "vcn-root" (mkfs.ext4 -d from the directory), replaced by updates
#   partition 2     ext4 "vcn-data" mounted on /var/lib/vcn, kept by updates
#
# It also downloads (not installs) the appliance's Debian packages against the
# same package lists, so Packer installs them offline inside the VM.
#
# Output in $VCN_IMAGE_WORK (default .image/): base.qcow2, debs/, packer_key,
# base-packages.txt (name=version of everything installed).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "build-base: needs root (mmdebstrap --mode=root, file ownership)" >&2; exit 1; }

WORK=$(realpath -m "${VCN_IMAGE_WORK:-.image}")
OUT="$WORK/base"
ROOT_MB=${VCN_ROOT_MB:-1792}
DATA_MB=${VCN_DATA_MB:-254}
SUITE=bookworm
# Fixed identifiers so two builds produce the same partition table and filesystems' ids.
DISK_ID=0x56434e31
ROOT_UUID=5643e001-0000-4000-8000-000000000001
DATA_UUID=5643e001-0000-4000-8000-000000000002

list() { grep -v '^\s*#' "$1" | grep -v '^\s*$' | paste -sd, -; }

if [ -n "${VCN_REUSE_ROOTFS:-}" ] && [ -e "$OUT/rootfs/vmlinuz" ]; then
  echo "build-base: reusing $OUT/rootfs (VCN_REUSE_ROOTFS)"
  # image/base-files may have changed since that root was made.
  cp -a image/base-files/. "$OUT/rootfs/"
else
rm -rf "$OUT"
mkdir -p "$OUT/debs"
ssh-keygen -q -t ed25519 -N '' -C vcn-image-build -f "$OUT/packer_key"

echo "build-base: mmdebstrap $SUITE → $OUT/rootfs"
# Hooks run with /dev, /proc and /sys set up by mmdebstrap.
mmdebstrap --mode=root --variant=apt --format=directory \
  --aptopt='Acquire::Check-Valid-Until "false"' \
  --aptopt='APT::Install-Recommends "false"' \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --include="$(list image/packages-base.txt)" \
  --skip=cleanup/apt/lists \
  --customize-hook='sync-in image/base-files /' \
  --customize-hook="mkdir -p \"\$1/root/.ssh\" && install -m 600 $OUT/packer_key.pub \"\$1/root/.ssh/authorized_keys\"" \
  --customize-hook='chroot "$1" systemctl enable systemd-networkd ssh' \
  --customize-hook="chroot \"\$1\" apt-get install --download-only -y $(list image/packages-appliance.txt | tr , ' ')" \
  --customize-hook="copy-out /var/cache/apt/archives/ $OUT/debs" \
  --customize-hook='rm -f "$1"/var/cache/apt/archives/*.deb' \
  --customize-hook="chroot \"\$1\" dpkg-query -W -f='\${Package}=\${Version}\n' > $OUT/base-packages.txt" \
  --customize-hook='rm -f "$1"/etc/ssh/ssh_host_*' \
  --customize-hook='mkdir -p "$1"/boot/grub/i386-pc && cp "$1"/usr/lib/grub/i386-pc/*.mod "$1"/usr/lib/grub/i386-pc/*.lst "$1"/boot/grub/i386-pc/' \
  "$SUITE" "$OUT/rootfs" >"$OUT/mmdebstrap.log" 2>&1 || { tail -30 "$OUT/mmdebstrap.log" >&2; echo "build-base: mmdebstrap failed ($OUT/mmdebstrap.log)" >&2; exit 1; }
mv "$OUT"/debs/archives/*.deb "$OUT/debs/" 2>/dev/null || true
rm -rf "$OUT/debs/archives" "$OUT/debs/partial" "$OUT/debs/lock"
# The host keys are made at the first boot (ssh-keygen by ssh's unit), not baked in.
mkdir -p "$OUT/rootfs/var/lib/vcn"
fi

echo "build-base: filesystems and disk"
truncate -s "${ROOT_MB}M" "$OUT/root.img"
mkfs.ext4 -q -F -L vcn-root -U "$ROOT_UUID" -E "hash_seed=$ROOT_UUID,root_owner=0:0" -d "$OUT/rootfs" "$OUT/root.img"
mkdir -p "$OUT/data"
truncate -s "${DATA_MB}M" "$OUT/data.img"
mkfs.ext4 -q -F -L vcn-data -U "$DATA_UUID" -E "hash_seed=$DATA_UUID,root_owner=0:0" -d "$OUT/data" "$OUT/data.img"

DISK="$OUT/base.raw"
rm -f "$DISK"
truncate -s "$((1 + ROOT_MB + DATA_MB + 1))M" "$DISK"
sfdisk -q "$DISK" <<EOF
label: dos
label-id: $DISK_ID
unit: sectors

start=2048, size=$((ROOT_MB * 2048)), type=83, bootable
start=$((2048 + ROOT_MB * 2048)), size=$((DATA_MB * 2048)), type=83
EOF
dd if="$OUT/root.img" of="$DISK" bs=1M seek=1 conv=notrunc,sparse status=none
dd if="$OUT/data.img" of="$DISK" bs=1M seek=$((1 + ROOT_MB)) conv=notrunc,sparse status=none
rm -f "$OUT/root.img" "$OUT/data.img"

# GRUB for BIOS without grub-install (which wants a block device): core.img
# starts with diskboot.img, whose block list grub-mkimage fills in for the
# default place, sector 1 on; boot.img's default kernel sector is 1 as well.
GRUB_LIB="$OUT/rootfs/usr/lib/grub/i386-pc"
grub-mkimage -O i386-pc -d "$GRUB_LIB" -o "$OUT/core.img" -p '(hd0,msdos1)/boot/grub' biosdisk part_msdos ext2
core_sectors=$(( ($(stat -c %s "$OUT/core.img") + 511) / 512 ))
((core_sectors < 2047)) || { echo "build-base: core.img too large ($core_sectors sectors)" >&2; exit 1; }
dd if="$GRUB_LIB/boot.img" of="$DISK" bs=440 count=1 conv=notrunc status=none
dd if="$OUT/core.img" of="$DISK" bs=512 seek=1 conv=notrunc status=none

qemu-img convert -O qcow2 "$DISK" "$OUT/base.qcow2"
rm -f "$DISK"
echo "build-base: $OUT/base.qcow2 ($(du -h "$OUT/base.qcow2" | cut -f1)), $(ls "$OUT/debs" | wc -l) appliance packages downloaded"
