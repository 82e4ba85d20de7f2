#!/usr/bin/env bash
# Updates an appliance disk (a block device or a raw disk image) to a new image:
# partition 1 (vcn-root) is overwritten with the new image's root filesystem;
# partition 2 (vcn-data: config store, host key, engine ID) is left as it is.
#
#   image/update.sh NEW_IMAGE.raw TARGET      (TARGET: /dev/sdX or disk.raw; not mounted)
set -euo pipefail
new=${1:?usage: update.sh NEW_IMAGE.raw TARGET}
target=${2:?usage: update.sh NEW_IMAGE.raw TARGET}
part() { sfdisk -J "$1" | python3 -c "import json,sys; p=json.load(sys.stdin)['partitiontable']['partitions'][$2]; print(p['start'], p['size'])"; }
read -r nstart nsize < <(part "$new" 0)
read -r tstart tsize < <(part "$target" 0)
[ "$nstart" = "$tstart" ] && [ "$nsize" -le "$tsize" ] || { echo "update: partition 1 differs ($nstart+$nsize vs $tstart+$tsize): flash the whole image instead" >&2; exit 1; }
if [ -b "$target" ] && grep -q "^$target" /proc/mounts; then echo "update: $target is mounted" >&2; exit 1; fi
# Every block of the new root is written: a sparse copy would skip the new
# image's zero blocks and leave the old root's bytes there. A disk file has the
# range punched out first, so there the copy can stay sparse.
if [ -f "$target" ]; then
  fallocate --punch-hole --offset $((tstart * 512)) --length $((tsize * 512)) "$target"
  dd if="$new" of="$target" bs=1M iflag=skip_bytes,count_bytes oflag=seek_bytes skip=$((nstart * 512)) seek=$((tstart * 512)) count=$((nsize * 512)) conv=notrunc,sparse status=none
else
  dd if="$new" of="$target" bs=1M iflag=skip_bytes,count_bytes oflag=seek_bytes skip=$((nstart * 512)) seek=$((tstart * 512)) count=$((nsize * 512)) conv=notrunc,fsync status=none
fi
# The boot sectors come with the root (GRUB's core.img knows the root's layout);
# bytes 440-511 (disk id and partition table) stay the target's.
dd if="$new" of="$target" bs=440 count=1 conv=notrunc status=none
dd if="$new" of="$target" bs=512 skip=1 seek=1 count=$((nstart - 1)) conv=notrunc status=none
sync
echo "update: root filesystem of $new written to $target; vcn-data kept"
