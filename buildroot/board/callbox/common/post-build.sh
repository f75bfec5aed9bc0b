#!/bin/sh
# Buildroot post-build script (BR2_ROOTFS_POST_BUILD_SCRIPT), run with
# TARGET_DIR as $1: the read-only root's mount points and what callboxd
# expects.
set -eu
TARGET_DIR=$1
mkdir -p "$TARGET_DIR/var/lib/callbox" "$TARGET_DIR/boot"
# The root is mounted read-only: what must be writable lives in tmpfs or on
# the data partition.
grep -q '^tmpfs /tmp' "$TARGET_DIR/etc/fstab" || echo 'tmpfs /tmp tmpfs mode=1777 0 0' >> "$TARGET_DIR/etc/fstab"
# resolv.conf is written at run time (DHCP or the installer's DNS).
ln -sf /tmp/resolv.conf "$TARGET_DIR/etc/resolv.conf"
# The installer's LAN settings replace Buildroot's DHCP-only network script.
rm -f "$TARGET_DIR/etc/init.d/S40network"
# The kernel (and the Pi's device tree) go into the slot's /boot: an
# update writes one partition.
if [ -n "${BINARIES_DIR:-}" ]; then
	cp "$BINARIES_DIR/zImage" "$TARGET_DIR/boot/zImage"
	for dtb in "$BINARIES_DIR"/*.dtb; do
		[ -e "$dtb" ] && cp "$dtb" "$TARGET_DIR/boot/"
	done
fi
