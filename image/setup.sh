#!/usr/bin/env bash
# Host tools for building and boot-testing the appliance image (`npm run image`,
# `npm run image:test`). Kept apart from scripts/setup.sh so `npm test` does not
# pull a hypervisor and Packer onto every machine. Idempotent.
set -euo pipefail

IMAGE_PACKAGES=(
  packer            # 1.6.6 in bookworm: the built-in qemu builder
  qemu-system-x86   # boots the base disk for Packer and the image for the boot test
  qemu-utils        # qemu-img: raw <-> qcow2
  mmdebstrap        # the root filesystem from Debian packages, no loop devices
  grub-pc-bin       # BIOS GRUB modules; core.img is written into the disk file directly
  grub2-common
  e2fsprogs         # mkfs.ext4 -d populates a filesystem image from a directory
  fdisk             # sfdisk partitions the disk file
  openssh-client    # ssh-keygen for the one-build Packer key
  python3-ncclient snmp iproute2 tcpdump # the boot test's clients
)

# shellcheck source=../scripts/lib/apt-ensure.sh
. "$(dirname "$0")/../scripts/lib/apt-ensure.sh"
apt_ensure image/setup "${IMAGE_PACKAGES[@]}"
