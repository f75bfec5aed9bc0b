# qemu-system-arm -M virt (virtio disk; qemu passes the device tree):
# prepended to boot.cmd by post-image.sh.
setenv cbx_dev virtio
setenv cbx_devnum 0
setenv cbx_root /dev/vda
setenv cbx_board qemu-armv7
setenv cbx_console "console=ttyAMA0,115200"
setenv cbx_fdt
# quiet: the kernel's messages over an emulated UART cost boot time;
# cryptomgr.notests: the kernel's crypto self-tests take seconds in
# emulation and test nothing of the box.
setenv cbx_args "quiet cryptomgr.notests"
