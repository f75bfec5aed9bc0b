#!/bin/sh
# Buildroot post-image script (BR2_ROOTFS_POST_IMAGE_SCRIPT): the boot
# script, the initial U-Boot environment, the disk image (genimage) and,
# when a signing key is given (CALLBOX_OTA_KEY), the update bundle of this
# build's root filesystem. Arguments: BINARIES_DIR, then the board
# directory (board/callbox/rpi4 or board/callbox/qemu-armv7).
set -eu
BINARIES_DIR=$1
BOARD_DIR=$2
COMMON=$(dirname "$0")
BOARD=$(cat "$TARGET_DIR/etc/callbox/board-name")
VERSION=$(cat "$TARGET_DIR/etc/callbox/version")

cat "$BOARD_DIR/boot-board.cmd" "$COMMON/boot.cmd" > "$BINARIES_DIR/boot.cmd"
mkimage -A arm -O linux -T script -C none -n "callbox $BOARD" -d "$BINARIES_DIR/boot.cmd" "$BINARIES_DIR/boot.scr"

# Both environment copies: the first valid, the second blank (the boot
# script's first save writes it).
mkenvimage -r -s 0x4000 -o "$BINARIES_DIR/uboot-env-copy.bin" "$COMMON/uboot-env.txt"
cat "$BINARIES_DIR/uboot-env-copy.bin" > "$BINARIES_DIR/uboot-env.bin"
dd if=/dev/zero bs=16384 count=1 2>/dev/null >> "$BINARIES_DIR/uboot-env.bin"

[ -f "$BOARD_DIR/config.txt" ] && mkdir -p "$BINARIES_DIR/rpi-firmware" && cp "$BOARD_DIR/config.txt" "$BINARIES_DIR/rpi-firmware/config.txt"

GENIMAGE_TMP=$(mktemp -d)
trap 'rm -rf "$GENIMAGE_TMP"' EXIT
genimage --rootpath "$TARGET_DIR" --tmppath "$GENIMAGE_TMP/tmp" --inputpath "$BINARIES_DIR" \
	--outputpath "$BINARIES_DIR" --config "$BOARD_DIR/genimage.cfg"

if [ -n "${CALLBOX_OTA_KEY:-}" ]; then
	"$HOST_DIR/bin/go" -C "$BR2_EXTERNAL_CALLBOX_PATH/.." run ./firmware/cmd/callboxctl bundle create \
		--key "$CALLBOX_OTA_KEY" --version "$VERSION" --compatible "$BOARD" \
		-o "$BINARIES_DIR/callbox-$BOARD-$VERSION.cbx" rootfs="$BINARIES_DIR/rootfs.ext4"
fi
