package flash

import (
	"bufio"
	"encoding/binary"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The buildroot/ tree is checked (Debian's kconfiglib is for its own
// /usr/bin/python3, whatever python3 comes first on PATH) offline against the Go layout, with the
// tools Buildroot itself would run: kconfiglib parses the Config.in files
// and the defconfigs, mkimage compiles each board's boot script,
// mkenvimage makes the first environment, genimage builds each disk image;
// then the image's partition table and environment are read back and
// compared with flash.Layout.

var buildrootBoards = map[string]string{"rpi4-callbox": "rpi4", "qemu-armv7": "qemu-armv7"}

func needTools(t *testing.T, tools map[string]string) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the image tools")
	}
	for tool, pkg := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: install the Debian package %s", tool, pkg)
		}
	}
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestBuildrootKconfig parses the external tree's Config.in with
// kconfiglib under stand-ins for the Buildroot symbols it uses, and loads
// each defconfig: the callbox symbols (and the tree's espeak-ng) must be
// known and set as written.
func TestBuildrootKconfig(t *testing.T) {
	needTools(t, map[string]string{"/usr/bin/python3": "python3"})
	if err := exec.Command("/usr/bin/python3", "-c", "import kconfiglib").Run(); err != nil {
		t.Fatal("python3 cannot import kconfiglib: install the Debian package python3-kconfiglib")
	}
	ext, _ := filepath.Abs("../buildroot")
	for board, dir := range buildrootBoards {
		script := `
import sys, os, kconfiglib
top = sys.argv[1]
with open(top, "w") as f:
    f.write('mainmenu "stand-in"\nconfig BR2_PACKAGE_HOST_GO_TARGET_ARCH_SUPPORTS\n\tdef_bool y\nconfig BR2_PACKAGE_LIBUBOOTENV\n\tbool\nconfig BR2_PACKAGE_E2FSPROGS\n\tbool\nconfig BR2_USE_WCHAR\n\tdef_bool y\nsource "$BR2_EXTERNAL_CALLBOX_PATH/Config.in"\n')
kc = kconfiglib.Kconfig(top, warn_to_stderr=False)
for w in kc.warnings:
    if "CALLBOX" in w:
        sys.exit("kconfig: " + w)
kc.load_config(sys.argv[2])
for w in kc.warnings:
    # The defconfig's Buildroot symbols are unknown here; ours must not be.
    if "CALLBOX" in w:
        sys.exit("defconfig: " + w)
s = kc.syms
print(s["BR2_PACKAGE_CALLBOXD"].str_value, s["BR2_PACKAGE_CALLBOXD_BOARD"].str_value, s["BR2_PACKAGE_LIBUBOOTENV"].str_value,
      s["BR2_PACKAGE_ESPEAK_NG"].str_value)
`
		cmd := exec.Command("/usr/bin/python3", "-c", script, filepath.Join(t.TempDir(), "Kconfig"), filepath.Join(ext, "configs", "callbox_"+strings.ReplaceAll(dir, "-", "_")+"_defconfig"))
		// Buildroot's symbols carry their BR2_ prefix in the name: no
		// CONFIG_ prefix in .config lines.
		cmd.Env = append(os.Environ(), "BR2_EXTERNAL_CALLBOX_PATH="+ext, "CONFIG_=")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", board, err, out)
		}
		// espeak-ng speaks text into prompts at run time.
		if got := strings.TrimSpace(string(out)); got != "y "+board+" y y" {
			t.Fatalf("%s: callboxd, board, libubootenv, espeak-ng = %q", board, got)
		}
	}
}

// TestBuildrootImages builds each board's disk image with genimage from
// stand-in inputs and checks it against the Go layout: the MBR entries,
// the environment copies (made by mkenvimage, read by EnvStore), and the
// fw_env.config the root filesystem carries.
func TestBuildrootImages(t *testing.T) {
	needTools(t, map[string]string{"genimage": "genimage", "mkimage": "u-boot-tools", "mkenvimage": "u-boot-tools",
		"mkfs.vfat": "dosfstools", "mcopy": "mtools", "mke2fs": "e2fsprogs"})
	for board, dir := range buildrootBoards {
		t.Run(board, func(t *testing.T) {
			l, err := LayoutFor(board)
			if err != nil {
				t.Fatal(err)
			}
			bdir := filepath.Join("..", "buildroot", "board", "callbox", dir)
			common := filepath.Join("..", "buildroot", "board", "callbox", "common")
			tmp := t.TempDir()
			in := filepath.Join(tmp, "images")
			root := filepath.Join(tmp, "root")
			for _, d := range []string{in, filepath.Join(in, "rpi-firmware", "overlays"), filepath.Join(root, "var", "lib", "callbox")} {
				if err := os.MkdirAll(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			// The boot script as post-image.sh makes it.
			board1, _ := os.ReadFile(filepath.Join(bdir, "boot-board.cmd"))
			common1, _ := os.ReadFile(filepath.Join(common, "boot.cmd"))
			os.WriteFile(filepath.Join(in, "boot.cmd"), append(board1, common1...), 0o644)
			run(t, "mkimage", "-A", "arm", "-O", "linux", "-T", "script", "-C", "none", "-n", "callbox", "-d", filepath.Join(in, "boot.cmd"), filepath.Join(in, "boot.scr"))
			run(t, "mkenvimage", "-r", "-s", "0x4000", "-o", filepath.Join(in, "copy.bin"), filepath.Join(common, "uboot-env.txt"))
			cp, _ := os.ReadFile(filepath.Join(in, "copy.bin"))
			os.WriteFile(filepath.Join(in, "uboot-env.bin"), append(cp, make([]byte, 16<<10)...), 0o644)
			// Stand-ins for what Buildroot builds.
			for _, f := range []string{"bcm2711-rpi-4-b.dtb", "rpi-firmware/start4.elf", "rpi-firmware/fixup4.dat", "rpi-firmware/config.txt", "rpi-firmware/overlays/README", "u-boot.bin"} {
				os.WriteFile(filepath.Join(in, f), []byte("stand-in "+f), 0o644)
			}
			os.WriteFile(filepath.Join(in, "rootfs.ext4"), []byte("stand-in root filesystem"), 0o644)
			run(t, "genimage", "--rootpath", root, "--tmppath", filepath.Join(tmp, "gtmp"), "--inputpath", in,
				"--outputpath", in, "--config", filepath.Join(bdir, "genimage.cfg"))
			disk := filepath.Join(in, map[string]string{"rpi4": "sdcard.img", "qemu-armv7": "disk.img"}[dir])
			checkMBR(t, disk, l)
			env, err := l.EnvStore(disk).Load()
			if err != nil {
				t.Fatal(err)
			}
			if want := (Env{"BOOT_ORDER": "A B", "BOOT_A_LEFT": "3", "BOOT_B_LEFT": "3"}); !maps.Equal(env, want) {
				t.Fatalf("environment in the image: %v", env)
			}
			checkFWEnvConfig(t, filepath.Join(bdir, "rootfs-overlay", "etc", "fw_env.config"), l)
		})
	}
}

func checkMBR(t *testing.T, disk string, l Layout) {
	t.Helper()
	f, err := os.Open(disk)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	mbr := make([]byte, 512)
	if _, err := f.ReadAt(mbr, 0); err != nil {
		t.Fatal(err)
	}
	if mbr[510] != 0x55 || mbr[511] != 0xaa {
		t.Fatal("no MBR signature")
	}
	for i, p := range l.Parts {
		e := mbr[446+16*i:]
		start := int64(binary.LittleEndian.Uint32(e[8:])) * 512
		size := int64(binary.LittleEndian.Uint32(e[12:])) * 512
		want := p.Size
		if want == 0 {
			want = st.Size() - p.Offset
		}
		if start != p.Offset || size != want {
			t.Errorf("partition %d (%s): at %d, %d bytes; layout says %d, %d", i+1, p.Name, start, size, p.Offset, want)
		}
	}
}

func checkFWEnvConfig(t *testing.T, path string, l Layout) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if s := strings.TrimSpace(sc.Text()); s != "" && !strings.HasPrefix(s, "#") {
			lines = append(lines, s)
		}
	}
	if len(lines) != 2 {
		t.Fatalf("%s: %d copies", path, len(lines))
	}
	for i, line := range lines {
		fs := strings.Fields(line)
		off, _ := strconv.ParseInt(fs[1], 0, 64)
		size, _ := strconv.ParseInt(fs[2], 0, 64)
		if fs[0] != l.Disk || off != l.EnvOffsets[i] || size != l.EnvSize {
			t.Errorf("%s line %d: %q, layout says %s 0x%x 0x%x", path, i+1, line, l.Disk, l.EnvOffsets[i], l.EnvSize)
		}
	}
}
