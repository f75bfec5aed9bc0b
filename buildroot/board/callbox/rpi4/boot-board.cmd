# Raspberry Pi 4 (32-bit, SD card): prepended to boot.cmd by post-image.sh.
setenv cbx_dev mmc
setenv cbx_devnum 0
setenv cbx_root /dev/mmcblk0p
setenv cbx_board rpi4-callbox
setenv cbx_console "console=ttyAMA0,115200"
setenv cbx_fdt bcm2711-rpi-4-b.dtb
