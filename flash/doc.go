// Package flash owns what an update touches on the box's storage, as data
// and formats with no I/O policy of its own:
//
//   - the partition layout of each board (Layout): the boot partition, the
//     U-Boot environment stored twice, rootfs slots A and B, and the data
//     partition that updates never touch;
//   - the signed update bundle (README.md documents the format): a manifest
//     signed with ed25519, then the images, written by WriteBundle, checked
//     by ReadHeader and Policy, and streamed into the inactive slot by
//     Install without holding an image in memory;
//   - the U-Boot environment (EnvStore: redundant copies with CRC and a
//     flags counter, the format of U-Boot and libubootenv) and RAUC's slot
//     scheme on top of it (BootState: BOOT_ORDER and BOOT_x_LEFT), with
//     the same choice the boot script makes (Choose), so simulation and
//     tests run the bootloader's logic too.
//
// It imports the standard library (and golang.org/x/crypto) only; the
// daemon side lives in firmware/ota.
package flash
