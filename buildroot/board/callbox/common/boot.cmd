# callbox A/B boot script (RAUC's U-Boot scheme: BOOT_ORDER, BOOT_x_LEFT).
#
# The board part prepended by post-image.sh sets:
#   cbx_dev       mmc | virtio       the boot medium's U-Boot interface
#   cbx_devnum    0
#   cbx_root      /dev/mmcblk0p | /dev/vda   Linux's name, the partition number follows
#   cbx_board     rpi4-callbox | qemu-armv7
#   cbx_console   console=ttyAMA0,115200 ...
#   cbx_fdt       device tree file in the slot's /boot, or empty to pass the
#                 firmware's (${fdt_addr}, qemu)
#   cbx_args      more kernel arguments, or unset
#
# Each slot holds its kernel in /boot/zImage (and an initramfs in
# /boot/initrd.img when it has one).
#
# The environment lives raw on the medium, twice, as flash.Layout places
# it (4 MiB and 4 MiB + 16 KiB, 16 KiB each): CRC32, a flags byte counting
# up, then name=value data, which U-Boot's CONFIG_SYS_REDUNDAND_ENVIRONMENT
# and libubootenv's fw_printenv/fw_setenv read and write. U-Boot itself is
# built without a redundant environment (ENV_IS_NOWHERE is fine), so this
# script moves the flags byte aside before "env import -c" and back after
# "env export -c". Every save goes to the older copy: a power cut in the
# middle leaves the newer one in force.

setenv cbx_envsec 2000
setenv cbx_envsec2 2020
setenv cbx_envcnt 20

# Scratch for the two copies and the import/export buffer (48 KiB).
setexpr cbx_c1 ${pxefile_addr_r} + 0
setexpr cbx_c2 ${cbx_c1} + 4000
setexpr cbx_w ${cbx_c1} + 8000
setexpr cbx_w4 ${cbx_w} + 4
setexpr cbx_f1 ${cbx_c1} + 4
setexpr cbx_f2 ${cbx_c2} + 4

${cbx_dev} dev ${cbx_devnum}
${cbx_dev} read ${cbx_c1} ${cbx_envsec} 40

# cbx_try imports the copy at ${cbx_src}: CRC and data side by side at
# ${cbx_w}, as env import -c wants them.
setenv cbx_try 'cp.b ${cbx_src} ${cbx_w} 4; setexpr cbx_s5 ${cbx_src} + 5; cp.b ${cbx_s5} ${cbx_w4} 3ffb; if env import -c ${cbx_w} 3fff; then setenv cbx_cur ${cbx_src}; fi'

# The newer copy first (flags count up and wrap), the other if its CRC fails.
setenv cbx_first ${cbx_c1}
setenv cbx_second ${cbx_c2}
if itest.b *${cbx_f2} > *${cbx_f1}; then setenv cbx_first ${cbx_c2}; setenv cbx_second ${cbx_c1}; fi
if itest.b *${cbx_f1} == ff && itest.b *${cbx_f2} == 0; then setenv cbx_first ${cbx_c2}; setenv cbx_second ${cbx_c1}; fi
if itest.b *${cbx_f2} == ff && itest.b *${cbx_f1} == 0; then setenv cbx_first ${cbx_c1}; setenv cbx_second ${cbx_c2}; fi
setenv cbx_cur
setenv cbx_src ${cbx_first}
run cbx_try
if test -z "${cbx_cur}"; then setenv cbx_src ${cbx_second}; run cbx_try; fi

# cbx_save writes the environment over the copy that is not current, with
# flags one higher (mw.b keeps the low byte: ff wraps to 0).
setenv cbx_save 'env export -c -s 3fff ${cbx_w}; setenv cbx_t ${cbx_c2}; setenv cbx_sec ${cbx_envsec2}; setenv cbx_nf 1; if test "${cbx_cur}" = "${cbx_c2}"; then setenv cbx_t ${cbx_c1}; setenv cbx_sec ${cbx_envsec}; fi; if test -n "${cbx_cur}"; then setexpr cbx_cf ${cbx_cur} + 4; setexpr.b cbx_nf *${cbx_cf} + 1; fi; cp.b ${cbx_w} ${cbx_t} 4; setexpr cbx_tf ${cbx_t} + 4; mw.b ${cbx_tf} ${cbx_nf} 1; setexpr cbx_t5 ${cbx_t} + 5; cp.b ${cbx_w4} ${cbx_t5} 3ffb; ${cbx_dev} write ${cbx_t} ${cbx_sec} ${cbx_envcnt}; setenv cbx_cur ${cbx_t}'

test -n "${BOOT_ORDER}" || setenv BOOT_ORDER "A B"
test -n "${BOOT_A_LEFT}" || setenv BOOT_A_LEFT 3
test -n "${BOOT_B_LEFT}" || setenv BOOT_B_LEFT 3

setenv cbx_slot
for s in ${BOOT_ORDER}; do
  if test -n "${cbx_slot}"; then
    true
  elif test "${s}" = "A" && test ${BOOT_A_LEFT} -gt 0; then
    setexpr BOOT_A_LEFT ${BOOT_A_LEFT} - 1
    setenv cbx_slot A
    setenv cbx_part 2
  elif test "${s}" = "B" && test ${BOOT_B_LEFT} -gt 0; then
    setexpr BOOT_B_LEFT ${BOOT_B_LEFT} - 1
    setenv cbx_slot B
    setenv cbx_part 3
  fi
done

if test -z "${cbx_slot}"; then
  echo "callbox: no slot has attempts left; all counts back to 3 and resetting"
  setenv BOOT_A_LEFT 3
  setenv BOOT_B_LEFT 3
  run cbx_save
  reset
fi

echo "callbox: booting slot ${cbx_slot} (attempts left: A ${BOOT_A_LEFT}, B ${BOOT_B_LEFT})"
run cbx_save

setenv bootargs "${cbx_console} root=${cbx_root}${cbx_part} rootfstype=ext4 rootwait ro panic=5 callbox.board=${cbx_board} callbox.slot=${cbx_slot} ${cbx_args}"
load ${cbx_dev} ${cbx_devnum}:${cbx_part} ${kernel_addr_r} /boot/zImage
setenv cbx_rd -
if load ${cbx_dev} ${cbx_devnum}:${cbx_part} ${ramdisk_addr_r} /boot/initrd.img; then
  setenv cbx_rd ${ramdisk_addr_r}:${filesize}
fi
if test -n "${cbx_fdt}"; then
  load ${cbx_dev} ${cbx_devnum}:${cbx_part} ${fdt_addr_r} /boot/${cbx_fdt}
  bootz ${kernel_addr_r} ${cbx_rd} ${fdt_addr_r}
else
  bootz ${kernel_addr_r} ${cbx_rd} ${fdt_addr}
fi
echo "callbox: slot ${cbx_slot} did not boot; resetting"
reset
