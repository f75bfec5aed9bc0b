package imagetest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"callbox/flash"
)

// Modules the armmp kernel needs as modules before it can mount a slot
// and reach the network, in load order.
var modules = []string{
	"drivers/virtio/virtio_mmio", "drivers/block/virtio_blk",
	"net/core/failover", "drivers/net/net_failover", "drivers/net/virtio_net",
	"lib/crc16", "fs/mbcache", "fs/jbd2/jbd2", "crypto/crc32c_generic", "fs/ext4/ext4",
}

// busybox applets the image's scripts use.
var applets = []string{"sh", "mount", "umount", "sleep", "sed", "mkdir", "cat", "echo", "ifconfig", "route",
	"reboot", "insmod", "switch_root", "test", "[", "ls", "sync", "uname", "dmesg"}

const initramfsInit = `#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
slot=$(sed -n 's/.*callbox\.slot=\([AB]\).*/\1/p' /proc/cmdline)
echo "initramfs: loading modules, mounting slot $slot"
for m in $(cat /etc/modules); do insmod /lib/modules/$m.ko; done
part=2
[ "$slot" = B ] && part=3
i=0
while [ ! -b /dev/vda$part ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
if ! mount -t ext4 -o ro /dev/vda$part /newroot; then
	echo "initramfs: slot $slot does not mount; rebooting"
	sleep 1
	reboot -f
fi
umount /proc /sys
mount --move /dev /newroot/dev
exec switch_root /newroot /sbin/init
`

const rootInit = `#!/bin/sh
export PATH=/bin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
slot=$(sed -n 's/.*callbox\.slot=\([AB]\).*/\1/p' /proc/cmdline)
mount -t ext4 -o noatime /dev/vda4 /var/lib/callbox || echo "init: the data partition did not mount"
ifconfig lo 127.0.0.1 up
ifconfig eth0 10.0.2.15 netmask 255.255.255.0 up
route add default gw 10.0.2.2
echo "init: slot $slot up, starting callboxd"
fails=0
while :; do
	/usr/bin/callboxd --board sim --data /var/lib/callbox --http :80 --sip 10.0.2.15:5060 --console none --no-watchdog \
		--prompts /usr/share/callbox/prompts
	fails=$((fails+1))
	echo "init: callboxd exited ($fails)"
	if [ $fails -ge 3 ]; then
		echo "init: callboxd keeps failing; rebooting"
		sync
		reboot -f
	fi
	sleep 1
done
`

const brokenDaemon = "#!/bin/sh\necho 'callboxd: broken build, exiting'\nexit 1\n"

type image struct {
	t       *testing.T
	dir     string
	debs    string
	kernel  string // extracted armmp kernel package
	busybox string
	uboot   string
	prompts string // the system prompts, as the image build speaks them
	key     ed25519.PrivateKey
}

func TestImage(t *testing.T) {
	if os.Getenv("CALLBOX_IMAGE_TEST") != "1" {
		t.Skip("the qemu boot test runs with make test-image")
	}
	debs := os.Getenv("CALLBOX_IMAGE_DEBS")
	for tool, pkg := range map[string]string{"qemu-system-arm": "qemu-system-arm", "genimage": "genimage", "mkimage": "u-boot-tools",
		"mkenvimage": "u-boot-tools", "mkfs.ext4": "e2fsprogs", "mkfs.vfat": "dosfstools", "mcopy": "mtools", "dpkg-deb": "dpkg",
		"espeak-ng": "espeak-ng"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: install the Debian package %s", tool, pkg)
		}
	}
	uboot := "/usr/lib/u-boot/qemu_arm/u-boot.bin"
	if _, err := os.Stat(uboot); err != nil {
		t.Fatal("no U-Boot for qemu: install the Debian package u-boot-qemu")
	}
	img := &image{t: t, dir: t.TempDir(), debs: debs, uboot: uboot}
	_, img.key, _ = ed25519.GenerateKey(rand.Reader)
	img.extract()
	t0 := time.Now()
	img.speakPrompts()
	good1 := img.rootfs("1.0.0", false)
	good2 := img.rootfs("1.1.0", false)
	broken := img.rootfs("1.2.0", true)
	good3 := img.rootfs("1.3.0", false)
	disk := img.disk(good1)
	t.Logf("images built in %v (slot image %s)", time.Since(t0).Round(time.Second), sizeOf(good1))

	vm := img.boot(disk)
	bootStart := time.Now()
	vm.waitWeb(bootLimit)
	t.Logf("first boot to web ready: %v", time.Since(bootStart).Round(time.Second))
	vm.checkSIP()
	web := vm.setupAdmin()
	st := web.waitGood(goodLimit)
	t.Logf("first boot: %s", vm.phases())
	if st.Booted != "A" || st.Version != "1.0.0" {
		t.Fatalf("first boot: %+v", st)
	}
	web.createExtension("209")
	web.checkPrompts()

	// update installs b through the web API, applies it, and once the box
	// answers again checks which slot and version run, marked good, with
	// the data in place.
	update := func(what string, b []byte, slot, version string, wait time.Duration) time.Duration {
		t.Helper()
		t1 := time.Now()
		web.upload(b, http.StatusOK)
		took := time.Since(t1)
		t.Logf("%s: %.1f MiB uploaded and installed in %v", what, float64(len(b))/(1<<20), took.Round(time.Second))
		boots := vm.boots()
		web.apply()
		t2 := time.Now()
		vm.waitWebAfterReboot(boots, wait)
		web = vm.login()
		st := web.waitGood(goodLimit)
		t.Logf("%s: rebooted and slot %s %s marked good after %v (last boot: %s)", what, st.Booted, st.Version, time.Since(t2).Round(time.Second), vm.phases())
		if st.Booted != slot || st.Version != version {
			t.Fatalf("%s: running %+v, want slot %s %s", what, st, slot, version)
		}
		web.checkExtension("209")
		return took
	}
	installTime := update("good update into B", img.bundle(good2, "1.1.0"), "B", "1.1.0", bootLimit)
	// Its callboxd exits at start: the box must come back on B by itself.
	update("broken update into A", img.bundle(broken, "1.2.0"), "B", "1.1.0", (flash.MaxAttempts+1)*bootLimit)
	if n := strings.Count(vm.log(), "callboxd: broken build"); n < flash.MaxAttempts*3 {
		t.Fatalf("the broken slot ran %d times, want %d boots of 3 tries", n, flash.MaxAttempts)
	}
	vm.stop()

	// Power cuts at random moments of an install (and its apply).
	cuts := 20
	if s := os.Getenv("CALLBOX_IMAGE_CUTS"); s != "" {
		fmt.Sscan(s, &cuts)
	}
	b3 := img.bundle(good3, "1.3.0")
	versions := map[string]bool{"1.1.0": true, "1.3.0": true}
	vm = img.boot(disk)
	vm.waitWeb(bootLimit)
	web = vm.login()
	before := web.waitGood(goodLimit)
	for i := range cuts {
		// Anywhere in the upload, the install, the apply and the reboot
		// that follows it.
		delay := randDuration(installTime + 20*time.Second)
		var stage atomic.Value
		stage.Store("during the upload and install")
		done := make(chan struct{})
		go func() {
			defer close(done)
			web.tryInstallAndApply(b3, &stage)
		}()
		time.Sleep(delay)
		vm.kill()
		<-done
		vm = img.boot(disk)
		t4 := time.Now()
		vm.waitWeb(bootLimit)
		ready := time.Since(t4)
		web = vm.login()
		after := web.waitGood(goodLimit)
		if !versions[after.Version] {
			t.Fatalf("cut %d: booted version %q", i+1, after.Version)
		}
		web.checkExtension("209")
		t.Logf("cut %d at %v, %s (running slot %s %s): booted slot %s %s, web ready in %v, marked good after %v, data intact (%s)",
			i+1, delay.Round(100*time.Millisecond), stage.Load(), before.Booted, before.Version, after.Booted, after.Version,
			ready.Round(time.Second), time.Since(t4).Round(time.Second), vm.phases())
		before = after
	}
	vm.stop()
}

// Limits of the waits, generous because qemu emulates the whole board in
// software on a host that may be busy with other tests: a boot to web
// ready takes about a minute idle, marking the slot good a few seconds.
// They only bound a box that never comes up; every wait ends as soon as
// the box answers.
const (
	bootLimit = 20 * time.Minute
	goodLimit = 10 * time.Minute
)

func randDuration(max time.Duration) time.Duration {
	n, _ := rand.Int(rand.Reader, big.NewInt(int64(max)))
	return time.Duration(n.Int64())
}

func sizeOf(path string) string {
	st, err := os.Stat(path)
	if err != nil {
		return "?"
	}
	return fmt.Sprintf("%.1f MiB", float64(st.Size())/(1<<20))
}

func (img *image) run(name string, args ...string) {
	img.t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		img.t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// extract unpacks the armhf packages.
func (img *image) extract() {
	find := func(glob string) string {
		m, _ := filepath.Glob(filepath.Join(img.debs, glob))
		if len(m) == 0 {
			img.t.Fatalf("no %s in %s (make test-image downloads it)", glob, img.debs)
		}
		return m[len(m)-1]
	}
	img.kernel = filepath.Join(img.dir, "kernel")
	img.busybox = filepath.Join(img.dir, "busybox")
	img.run("dpkg-deb", "-x", find("linux-image-*-armmp_*_armhf.deb"), img.kernel)
	img.run("dpkg-deb", "-x", find("busybox-static_*_armhf.deb"), img.busybox)
}

// build cross-compiles callboxd for ARMv7 with the test key and version.
func (img *image) build(version, out string) {
	root, _ := filepath.Abs("../../..")
	cmd := exec.Command("go", "build", "-tags", "nomsgpack", "-trimpath", "-ldflags",
		"-s -w -X callbox/firmware/version.Version="+version+" -X callbox/firmware/ota.BuildKey="+
			base64.StdEncoding.EncodeToString([]byte(base64.StdEncoding.EncodeToString(img.key.Public().(ed25519.PublicKey)))),
		"-o", out, "./firmware/cmd/callboxd")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm", "GOARM=7", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		img.t.Fatalf("build callboxd %s: %v\n%s", version, err, b)
	}
}

// speakPrompts makes the system prompts as the Buildroot package does:
// callboxctl prompts generate with the build machine's espeak-ng.
func (img *image) speakPrompts() {
	root, _ := filepath.Abs("../../..")
	img.prompts = filepath.Join(img.dir, "prompts")
	if dir := os.Getenv("CALLBOX_IMAGE_PROMPTS"); dir != "" {
		// A directory kept between runs: the generator speaks only the
		// prompts whose text or voice changed, minutes saved per run.
		img.prompts = dir
	}
	cmd := exec.Command("go", "run", "./firmware/cmd/callboxctl", "prompts", "generate", "--out", img.prompts)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		img.t.Fatalf("prompts generate: %v\n%s", err, b)
	}
}

// initramfs packs busybox, the modules and the init that mounts the slot.
func (img *image) initramfs(out string) {
	bb, err := os.ReadFile(filepath.Join(img.busybox, "bin", "busybox"))
	if err != nil {
		img.t.Fatal(err)
	}
	kmods, _ := filepath.Glob(filepath.Join(img.kernel, "lib", "modules", "*"))
	es := []cpioEntry{{name: "bin", mode: sIFDIR | 0o755}, {name: "bin/busybox", mode: sIFREG | 0o755, data: bb},
		{name: "dev", mode: sIFDIR | 0o755}, {name: "dev/console", mode: sIFCHR | 0o600, major: 5, minor: 1},
		{name: "proc", mode: sIFDIR | 0o755}, {name: "sys", mode: sIFDIR | 0o755}, {name: "newroot", mode: sIFDIR | 0o755},
		{name: "etc", mode: sIFDIR | 0o755}, {name: "lib", mode: sIFDIR | 0o755}, {name: "lib/modules", mode: sIFDIR | 0o755},
		{name: "init", mode: sIFREG | 0o755, data: []byte(initramfsInit)}}
	var list []string
	for _, m := range modules {
		b, err := os.ReadFile(filepath.Join(kmods[0], "kernel", m+".ko"))
		if err != nil {
			img.t.Fatal(err)
		}
		name := filepath.Base(m)
		es = append(es, cpioEntry{name: "lib/modules/" + name + ".ko", mode: sIFREG | 0o644, data: b})
		list = append(list, name)
	}
	es = append(es, cpioEntry{name: "etc/modules", mode: sIFREG | 0o644, data: []byte(strings.Join(list, "\n") + "\n")})
	for _, a := range applets {
		es = append(es, cpioEntry{name: "bin/" + a, mode: sIFLNK | 0o777, data: []byte("busybox")})
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := writeCPIO(zw, es); err != nil {
		img.t.Fatal(err)
	}
	zw.Close()
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		img.t.Fatal(err)
	}
}

// rootfs makes one slot's ext4 image: kernel and initramfs in /boot,
// busybox, the init, and callboxd of the version (or one that exits).
func (img *image) rootfs(version string, broken bool) string {
	d := filepath.Join(img.dir, "root-"+version)
	for _, sub := range []string{"bin", "usr/bin", "sbin", "boot", "dev", "proc", "sys", "tmp", "run", "var/lib/callbox", "etc"} {
		os.MkdirAll(filepath.Join(d, sub), 0o755)
	}
	kz, _ := filepath.Glob(filepath.Join(img.kernel, "boot", "vmlinuz-*"))
	copyFile(img.t, kz[0], filepath.Join(d, "boot", "zImage"), 0o644)
	img.initramfs(filepath.Join(d, "boot", "initrd.img"))
	copyFile(img.t, filepath.Join(img.busybox, "bin", "busybox"), filepath.Join(d, "bin", "busybox"), 0o755)
	for _, a := range applets {
		os.Symlink("busybox", filepath.Join(d, "bin", a))
	}
	os.WriteFile(filepath.Join(d, "sbin", "init"), []byte(rootInit), 0o755)
	copyTree(img.t, img.prompts, filepath.Join(d, "usr", "share", "callbox", "prompts"))
	os.WriteFile(filepath.Join(d, "etc", "callbox-version"), []byte(version+"\n"), 0o644)
	if broken {
		os.WriteFile(filepath.Join(d, "usr", "bin", "callboxd"), []byte(brokenDaemon), 0o755)
	} else {
		img.build(version, filepath.Join(d, "usr", "bin", "callboxd"))
	}
	// Sized to the content and some room: the bundle carries the whole
	// filesystem image. The room is a quarter of the content and 16 MiB:
	// ext4's journal, inode tables and the blocks of the many small prompt
	// files took more than the 8 MiB allowed before, once the prompts grew.
	var used int64
	filepath.Walk(d, func(_ string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			used += info.Size()
		}
		return nil
	})
	out := filepath.Join(img.dir, "rootfs-"+version+".ext4")
	img.run("mkfs.ext4", "-q", "-F", "-L", "rootfs", "-d", d, out, fmt.Sprintf("%dM", used>>20+used>>22+16))
	return out
}

// disk builds the whole disk with buildroot/'s qemu genimage config, boot
// script and first environment, slot A (and B, as the factory does)
// holding rootfs.
func (img *image) disk(rootfs string) string {
	br, _ := filepath.Abs("../../../buildroot/board/callbox")
	in := filepath.Join(img.dir, "images")
	root := filepath.Join(img.dir, "genroot")
	os.MkdirAll(in, 0o755)
	os.MkdirAll(filepath.Join(root, "var", "lib", "callbox"), 0o755)
	bc, _ := os.ReadFile(filepath.Join(br, "qemu-armv7", "boot-board.cmd"))
	cc, _ := os.ReadFile(filepath.Join(br, "common", "boot.cmd"))
	os.WriteFile(filepath.Join(in, "boot.cmd"), append(bc, cc...), 0o644)
	img.run("mkimage", "-A", "arm", "-O", "linux", "-T", "script", "-C", "none", "-n", "callbox", "-d", filepath.Join(in, "boot.cmd"), filepath.Join(in, "boot.scr"))
	img.run("mkenvimage", "-r", "-s", "0x4000", "-o", filepath.Join(in, "copy.bin"), filepath.Join(br, "common", "uboot-env.txt"))
	cp, _ := os.ReadFile(filepath.Join(in, "copy.bin"))
	os.WriteFile(filepath.Join(in, "uboot-env.bin"), append(cp, make([]byte, 16<<10)...), 0o644)
	copyFile(img.t, rootfs, filepath.Join(in, "rootfs.ext4"), 0o644)
	img.run("genimage", "--rootpath", root, "--tmppath", filepath.Join(img.dir, "gtmp"), "--inputpath", in,
		"--outputpath", in, "--config", filepath.Join(br, "qemu-armv7", "genimage.cfg"))
	// The data partition gets the rest of a 1.5 GiB disk.
	disk := filepath.Join(in, "disk.img")
	return disk
}

func (img *image) bundle(rootfs, version string) []byte {
	var buf bytes.Buffer
	src := flash.ImageSource{Name: "rootfs", Open: func() (io.ReadCloser, error) { return os.Open(rootfs) }}
	m := flash.Manifest{Version: version, Compatible: []string{"qemu-armv7"}, Created: time.Now().UTC(), Notes: "image test"}
	if _, err := flash.WriteBundle(&buf, img.key, m, []flash.ImageSource{src}); err != nil {
		img.t.Fatal(err)
	}
	return buf.Bytes()
}

// copyTree copies the regular files under from to to.
func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		copyFile(t, p, filepath.Join(to, rel), 0o644)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, mode); err != nil {
		t.Fatal(err)
	}
}

// vm is one run of qemu on the disk.
type vm struct {
	t        *testing.T
	cmd      *exec.Cmd
	logPath  string
	web, sip string
}

func freePort(t *testing.T, network string) int {
	t.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (img *image) boot(disk string) *vm {
	t := img.t
	wp, sp := freePort(t, "tcp"), freePort(t, "udp")
	v := &vm{t: t, logPath: filepath.Join(img.dir, fmt.Sprintf("serial-%d.log", time.Now().UnixNano())),
		web: fmt.Sprintf("127.0.0.1:%d", wp), sip: fmt.Sprintf("127.0.0.1:%d", sp)}
	logf, err := os.Create(v.logPath)
	if err != nil {
		t.Fatal(err)
	}
	v.cmd = exec.Command("qemu-system-arm", "-M", "virt", "-cpu", "cortex-a15", "-m", "512",
		// Two vCPUs on two TCG threads: Go's runtime (its garbage
		// collector, the web server's handlers) gets the second one; the
		// first requests after a boot answered about ten times faster.
		"-smp", "2", "-accel", "tcg,thread=multi",
		"-display", "none", "-monitor", "none", "-serial", "stdio", "-bios", img.uboot,
		"-drive", "if=none,file="+disk+",format=raw,id=hd", "-device", "virtio-blk-device,drive=hd",
		"-netdev", fmt.Sprintf("user,id=n,hostfwd=tcp:127.0.0.1:%d-:80,hostfwd=udp:127.0.0.1:%d-:5060", wp, sp),
		"-device", "virtio-net-device,netdev=n")
	// The serial console goes to the log with each line stamped with the
	// time since qemu started: the boot's phases can be read off it.
	v.cmd.Stdin = nil
	v.cmd.Stdout = &stampWriter{w: logf, start: time.Now(), bol: true}
	v.cmd.Stderr = v.cmd.Stdout
	if err := v.cmd.Start(); err != nil {
		t.Fatalf("qemu: %v", err)
	}
	t.Cleanup(v.kill)
	t.Cleanup(func() { logf.Close() })
	return v
}

// phaseMarks are the serial console lines that end each phase of a boot.
var phaseMarks = []struct{ name, line string }{
	{"u-boot", bootLine},
	{"kernel", "initramfs: loading modules"},
	{"initramfs and mounts", "init: slot "},
	{"callboxd to store open", `msg="store open"`},
	{"to web ready", `msg="web admin listening"`},
	{"to marked good", `msg="slot marked good"`},
}

var stampRE = regexp.MustCompile(`^\[ *([0-9.]+)\] `)

// phases reads the last boot's phases off the stamped serial console:
// "u-boot 3.9s, kernel 28.0s, ...", each from the end of the one before.
func (v *vm) phases() string {
	log := v.log()
	if i := strings.LastIndex(log, "U-Boot 20"); i >= 0 {
		log = log[strings.LastIndexByte(log[:i], '\n')+1:]
	}
	var out []string
	prev := -1.0
	for _, line := range strings.Split(log, "\n") {
		m := stampRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		var at float64
		fmt.Sscan(m[1], &at)
		if prev < 0 {
			prev = at
		}
		if len(out) < len(phaseMarks) && strings.Contains(line, phaseMarks[len(out)].line) {
			out = append(out, fmt.Sprintf("%s %.1fs", phaseMarks[len(out)].name, at-prev))
			prev = at
		}
	}
	return strings.Join(out, ", ")
}

// stampWriter prefixes every line written through it with the time since
// start ("[  12.345] "), as the serial console's lines arrive.
type stampWriter struct {
	mu    sync.Mutex
	w     io.Writer
	start time.Time
	bol   bool // at the beginning of a line
	buf   []byte
}

func (s *stampWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf = s.buf[:0]
	for _, c := range p {
		if c == '\r' {
			continue
		}
		if s.bol {
			s.buf = fmt.Appendf(s.buf, "[%8.3f] ", time.Since(s.start).Seconds())
			s.bol = false
		}
		s.buf = append(s.buf, c)
		s.bol = c == '\n'
	}
	if _, err := s.w.Write(s.buf); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (v *vm) log() string {
	b, _ := os.ReadFile(v.logPath)
	return string(b)
}

func (v *vm) kill() {
	if v.cmd.Process != nil && v.cmd.ProcessState == nil {
		v.cmd.Process.Kill()
		v.cmd.Wait()
	}
}

// stop powers the board off: the data partition's journal covers it.
func (v *vm) stop() { v.kill() }

func (v *vm) fail(format string, args ...any) {
	v.t.Helper()
	tail := v.log()
	if len(tail) > 6000 {
		tail = tail[len(tail)-6000:]
	}
	v.t.Fatalf(format+"\nserial console (tail):\n%s", append(args, tail)...)
}

func (v *vm) healthy() bool {
	c := http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get("http://" + v.web + "/api/v1/health")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func (v *vm) waitWeb(d time.Duration) {
	v.t.Helper()
	deadline := time.Now().Add(d)
	for !v.healthy() {
		if v.cmd.ProcessState != nil || time.Now().After(deadline) {
			v.fail("the web admin did not answer within %v", d)
		}
		time.Sleep(time.Second)
	}
}

// waitWebAfterReboot waits for the box to boot again, as its serial
// console shows (U-Boot's "callbox: booting slot" line, once more than
// boots were counted before the apply), then for the web admin: a slow or
// loaded host delays both, but neither is judged by the clock alone.
func (v *vm) waitWebAfterReboot(boots int, d time.Duration) {
	v.t.Helper()
	deadline := time.Now().Add(d)
	for v.boots() <= boots {
		if v.cmd.ProcessState != nil || time.Now().After(deadline) {
			v.fail("the box did not reboot within %v", d)
		}
		time.Sleep(time.Second)
	}
	v.waitWeb(time.Until(deadline))
}

// boots counts the boots the serial console has seen, failed ones too.
func (v *vm) boots() int { return strings.Count(v.log(), bootLine) }

// bootLine is what boot.cmd prints as it picks a slot.
const bootLine = "callbox: booting slot "

var optionsRE = regexp.MustCompile(`^SIP/2\.0 \d{3} `)

func (v *vm) checkSIP() {
	v.t.Helper()
	c, err := net.Dial("udp", v.sip)
	if err != nil {
		v.t.Fatal(err)
	}
	defer c.Close()
	local := c.LocalAddr().String()
	msg := "OPTIONS sip:10.0.2.15 SIP/2.0\r\nVia: SIP/2.0/UDP " + local + ";branch=z9hG4bKimagetest1;rport\r\nMax-Forwards: 70\r\n" +
		"From: <sip:test@" + local + ">;tag=1\r\nTo: <sip:10.0.2.15>\r\nCall-ID: imagetest-1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
	// UDP through qemu's user networking may drop the first datagrams
	// while the guest is busy starting up: ask again until it answers.
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); {
		c.Write([]byte(msg))
		c.SetReadDeadline(time.Now().Add(3 * time.Second))
		line, err := bufio.NewReader(c).ReadString('\n')
		if err == nil && optionsRE.MatchString(line) {
			return
		}
	}
	v.fail("SIP did not answer OPTIONS through qemu's user networking")
}

var setupRE = regexp.MustCompile(`setup code (\d{4}-\d{4})`)

// setupAdmin creates the administrator with the first-boot setup code
// from the serial console.
func (v *vm) setupAdmin() *webClient {
	v.t.Helper()
	m := setupRE.FindAllStringSubmatch(v.log(), -1)
	if m == nil {
		v.fail("no setup code on the serial console")
	}
	w := v.client()
	w.session()
	w.call("POST", "/api/v1/setup", "application/json", strings.NewReader(
		`{"code":"`+m[len(m)-1][1]+`","login":"admin","password":"image-test-password"}`), http.StatusOK, nil)
	return v.login()
}

func (v *vm) client() *webClient {
	jar, _ := cookiejar.New(nil)
	return &webClient{v: v, c: &http.Client{Jar: jar, Timeout: 10 * time.Minute}}
}

func (v *vm) login() *webClient {
	v.t.Helper()
	w := v.client()
	w.session()
	var r map[string]any
	w.patient("POST", "/api/v1/login", `{"login":"admin","password":"image-test-password"}`, &r)
	w.csrf, _ = r["csrf_token"].(string)
	return w
}

type webClient struct {
	v    *vm
	c    *http.Client
	csrf string
}

func (w *webClient) session() {
	var r map[string]any
	w.patient("GET", "/api/v1/session", "", &r)
	w.csrf, _ = r["csrf_token"].(string)
}

func (w *webClient) do(method, path, ctype string, body io.Reader) (int, []byte, error) {
	req, err := http.NewRequest(method, "http://"+w.v.web+path, body)
	if err != nil {
		return 0, nil, err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("X-CSRF-Token", w.csrf)
	resp, err := w.c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// patient is call for a request that may be sent again (a JSON body or
// none, wanting 200): a box just booted on a loaded host may drop the
// connection (the password hash of a login can outlast the server's write
// timeout in emulation), so a failed connection is tried again until
// goodLimit; a wrong answer still fails at once.
func (w *webClient) patient(method, path, body string, out any) {
	w.v.t.Helper()
	ctype := ""
	if body != "" {
		ctype = "application/json"
	}
	deadline := time.Now().Add(goodLimit)
	for {
		code, b, err := w.do(method, path, ctype, strings.NewReader(body))
		if err != nil {
			if w.v.cmd.ProcessState != nil || time.Now().After(deadline) {
				w.v.fail("%s %s: %v (for %v)", method, path, err, goodLimit)
			}
			w.v.t.Logf("%s %s: %v; trying again", method, path, err)
			time.Sleep(time.Second)
			continue
		}
		if code != http.StatusOK {
			w.v.fail("%s %s: %d, want 200: %s", method, path, code, b)
		}
		if out != nil {
			if err := json.Unmarshal(b, out); err != nil {
				w.v.fail("%s %s: %v: %s", method, path, err, b)
			}
		}
		return
	}
}

func (w *webClient) call(method, path, ctype string, body io.Reader, want int, out any) {
	w.v.t.Helper()
	code, b, err := w.do(method, path, ctype, body)
	if err != nil {
		w.v.fail("%s %s: %v", method, path, err)
	}
	if code != want {
		w.v.fail("%s %s: %d, want %d: %s", method, path, code, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			w.v.fail("%s %s: %v: %s", method, path, err, b)
		}
	}
}

type status struct {
	Booted     string `json:"booted"`
	Version    string `json:"version"`
	MarkedGood bool   `json:"marked_good"`
	Slots      []struct {
		Name, Version, State string
	} `json:"slots"`
}

func (w *webClient) waitGood(d time.Duration) status {
	w.v.t.Helper()
	deadline := time.Now().Add(d)
	for {
		var st status
		w.patient("GET", "/api/v1/update", "", &st)
		if st.MarkedGood {
			return st
		}
		if time.Now().After(deadline) {
			w.v.fail("the booted slot was not marked good within %v: %+v", d, st)
		}
		time.Sleep(time.Second)
	}
}

func (w *webClient) upload(b []byte, want int) {
	w.v.t.Helper()
	w.call("POST", "/api/v1/update", "application/octet-stream", bytes.NewReader(b), want, nil)
}

func (w *webClient) apply() {
	w.v.t.Helper()
	w.call("POST", "/api/v1/update/apply", "application/json", nil, http.StatusOK, nil)
}

// tryInstallAndApply runs an update that the power may cut at any point:
// its errors are expected. stage tells how far it got.
func (w *webClient) tryInstallAndApply(b []byte, stage *atomic.Value) {
	code, _, err := w.do("POST", "/api/v1/update", "application/octet-stream", bytes.NewReader(b))
	if err != nil || code != http.StatusOK {
		if err == nil {
			stage.Store(fmt.Sprintf("install answered %d", code))
		}
		return
	}
	stage.Store("installed, applying")
	code, _, err = w.do("POST", "/api/v1/update/apply", "application/json", nil)
	if err == nil && code == http.StatusOK {
		stage.Store("applied, rebooting")
	}
}

// checkPrompts asks the box for its prompt catalogue in both languages:
// it must find the system prompts the image ships, none missing.
func (w *webClient) checkPrompts() {
	w.v.t.Helper()
	for _, lang := range []string{"zh-CN", "en"} {
		var list struct {
			Prompts []struct {
				Name    string `json:"name"`
				System  bool   `json:"system"`
				Missing bool   `json:"missing"`
			} `json:"prompts"`
		}
		w.call("GET", "/api/v1/prompts?lang="+lang, "", nil, http.StatusOK, &list)
		found, missing := 0, []string{}
		for _, p := range list.Prompts {
			switch {
			case p.System && p.Missing:
				missing = append(missing, p.Name)
			case p.System:
				found++
			}
		}
		if found == 0 || len(missing) > 0 {
			w.v.fail("%s prompts: %d system prompts found, missing %v", lang, found, missing)
		}
		w.v.t.Logf("%s: the box finds its %d system prompts", lang, found)
	}
}

func (w *webClient) createExtension(number string) {
	w.v.t.Helper()
	w.call("POST", "/api/v1/extensions", "application/json",
		strings.NewReader(`{"number":"`+number+`","name":"image test","kind":"sip","secret":"image-test-secret"}`), http.StatusCreated, nil)
}

func (w *webClient) checkExtension(number string) {
	w.v.t.Helper()
	w.call("GET", "/api/v1/extensions/"+number, "", nil, http.StatusOK, nil)
}
