package pcm

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// abiLayout is what include/uapi/sound/asound.h gives for one ABI, worked
// out from the header's declarations: unsigned int and int are 4 bytes,
// long (snd_pcm_[us]frames_t) and pointers are 8 bytes on LP64
// (amd64, arm64) and 4 on ILP32 (arm EABI), aligned to their size.
type abiLayout struct {
	sizes   map[string]uintptr
	offsets map[string]uintptr
	ioctls  map[string]uintptr
}

var layouts = map[int]abiLayout{
	64: {
		sizes: map[string]uintptr{"hw_params": 608, "sw_params": 136, "xferi": 24, "interval": 12, "mask": 32},
		offsets: map[string]uintptr{
			"hw.masks": 4, "hw.mres": 100, "hw.intervals": 260, "hw.ires": 404, "hw.rmask": 512, "hw.cmask": 516,
			"hw.info": 520, "hw.msbits": 524, "hw.rate_num": 528, "hw.rate_den": 532, "hw.fifo_size": 536, "hw.reserved": 544,
			"sw.period_step": 4, "sw.sleep_min": 8, "sw.avail_min": 16, "sw.xfer_align": 24, "sw.start_threshold": 32,
			"sw.stop_threshold": 40, "sw.silence_threshold": 48, "sw.silence_size": 56, "sw.boundary": 64,
			"sw.proto": 72, "sw.tstamp_type": 76, "sw.reserved": 80,
			"x.buf": 8, "x.frames": 16,
		},
		ioctls: map[string]uintptr{
			"PVERSION": 0x80044100, "HW_REFINE": 0xc2604110, "HW_PARAMS": 0xc2604111, "SW_PARAMS": 0xc0884113,
			"DELAY": 0x80084121, "PREPARE": 0x4140, "START": 0x4142, "DROP": 0x4143, "WRITEI_FRAMES": 0x40184150, "READI_FRAMES": 0x80184151,
		},
	},
	32: {
		sizes: map[string]uintptr{"hw_params": 604, "sw_params": 104, "xferi": 12, "interval": 12, "mask": 32},
		offsets: map[string]uintptr{
			"hw.masks": 4, "hw.mres": 100, "hw.intervals": 260, "hw.ires": 404, "hw.rmask": 512, "hw.cmask": 516,
			"hw.info": 520, "hw.msbits": 524, "hw.rate_num": 528, "hw.rate_den": 532, "hw.fifo_size": 536, "hw.reserved": 540,
			"sw.period_step": 4, "sw.sleep_min": 8, "sw.avail_min": 12, "sw.xfer_align": 16, "sw.start_threshold": 20,
			"sw.stop_threshold": 24, "sw.silence_threshold": 28, "sw.silence_size": 32, "sw.boundary": 36,
			"sw.proto": 40, "sw.tstamp_type": 44, "sw.reserved": 48,
			"x.buf": 4, "x.frames": 8,
		},
		ioctls: map[string]uintptr{
			"PVERSION": 0x80044100, "HW_REFINE": 0xc25c4110, "HW_PARAMS": 0xc25c4111, "SW_PARAMS": 0xc0684113,
			"DELAY": 0x80044121, "PREPARE": 0x4140, "START": 0x4142, "DROP": 0x4143, "WRITEI_FRAMES": 0x400c4150, "READI_FRAMES": 0x800c4151,
		},
	},
}

// goLayout is the same facts measured on the Go declarations.
func goLayout() abiLayout {
	var hw hwParams
	var sw swParams
	var x xferi
	return abiLayout{
		sizes: map[string]uintptr{
			"hw_params": unsafe.Sizeof(hw), "sw_params": unsafe.Sizeof(sw), "xferi": unsafe.Sizeof(x),
			"interval": unsafe.Sizeof(sndInterval{}), "mask": unsafe.Sizeof(sndMask{}),
		},
		offsets: map[string]uintptr{
			"hw.masks": unsafe.Offsetof(hw.masks), "hw.mres": unsafe.Offsetof(hw.mres), "hw.intervals": unsafe.Offsetof(hw.intervals),
			"hw.ires": unsafe.Offsetof(hw.ires), "hw.rmask": unsafe.Offsetof(hw.rmask), "hw.cmask": unsafe.Offsetof(hw.cmask),
			"hw.info": unsafe.Offsetof(hw.info), "hw.msbits": unsafe.Offsetof(hw.msbits), "hw.rate_num": unsafe.Offsetof(hw.rateNum),
			"hw.rate_den": unsafe.Offsetof(hw.rateDen), "hw.fifo_size": unsafe.Offsetof(hw.fifoSize), "hw.reserved": unsafe.Offsetof(hw.reserved),
			"sw.period_step": unsafe.Offsetof(sw.periodStep), "sw.sleep_min": unsafe.Offsetof(sw.sleepMin), "sw.avail_min": unsafe.Offsetof(sw.availMin),
			"sw.xfer_align": unsafe.Offsetof(sw.xferAlign), "sw.start_threshold": unsafe.Offsetof(sw.startThreshold),
			"sw.stop_threshold": unsafe.Offsetof(sw.stopThreshold), "sw.silence_threshold": unsafe.Offsetof(sw.silenceThreshold),
			"sw.silence_size": unsafe.Offsetof(sw.silenceSize), "sw.boundary": unsafe.Offsetof(sw.boundary),
			"sw.proto": unsafe.Offsetof(sw.proto), "sw.tstamp_type": unsafe.Offsetof(sw.tstampType), "sw.reserved": unsafe.Offsetof(sw.reserved),
			"x.buf": unsafe.Offsetof(x.buf), "x.frames": unsafe.Offsetof(x.frames),
		},
		ioctls: map[string]uintptr{
			"PVERSION": ioctlPVersion, "HW_REFINE": ioctlHWRefine, "HW_PARAMS": ioctlHWParams, "SW_PARAMS": ioctlSWParams,
			"DELAY": ioctlDelay, "PREPARE": ioctlPrepare, "START": ioctlStart, "DROP": ioctlDrop, "WRITEI_FRAMES": ioctlWriteIFrames, "READI_FRAMES": ioctlReadIFrames,
		},
	}
}

func compareLayout(t *testing.T, what string, want, got abiLayout) {
	t.Helper()
	for _, c := range []struct {
		kind       string
		want, have map[string]uintptr
	}{{"size", want.sizes, got.sizes}, {"offset", want.offsets, got.offsets}, {"ioctl", want.ioctls, got.ioctls}} {
		for k, w := range c.want {
			if h, ok := c.have[k]; !ok || h != w {
				t.Errorf("%s %s %s: Go has %#x, %s says %#x", runtime.GOARCH, c.kind, k, h, what, w)
			}
		}
		if len(c.want) != len(c.have) {
			t.Errorf("%s: %d %ss checked, Go declares %d", what, len(c.want), c.kind, len(c.have))
		}
	}
}

// TestLayoutPerArch checks the Go structs against the header's layout for
// the GOARCH being tested: run it natively (amd64), under qemu-arm-static
// (arm) and qemu-aarch64-static (arm64).
func TestLayoutPerArch(t *testing.T) {
	var bits int
	switch runtime.GOARCH {
	case "amd64", "arm64":
		bits = 64
	case "arm":
		bits = 32
	default:
		t.Skipf("no asound.h layout table for GOARCH=%s", runtime.GOARCH)
	}
	compareLayout(t, "asound.h ("+strconv.Itoa(bits)+"-bit)", layouts[bits], goLayout())
}

// TestLayoutAgainstCC compiles a C program against the installed kernel
// header (/usr/include/sound/asound.h) and compares what the C compiler
// lays out with the Go declarations, including the bit-field order of
// struct snd_interval.
func TestLayoutAgainstCC(t *testing.T) {
	if testing.Short() {
		t.Skip("starts cc; skipped under -short")
	}
	cc, err := exec.LookPath("cc")
	if err != nil {
		t.Fatal("cc not found: install the Debian package gcc")
	}
	if _, err := os.Stat("/usr/include/sound/asound.h"); err != nil {
		t.Fatal("no /usr/include/sound/asound.h: install the Debian package linux-libc-dev")
	}
	const prog = `#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sound/asound.h>
#define S(k, v) printf("size %s %zu\n", k, (size_t)(v))
#define O(k, t, m) printf("offset %s %zu\n", k, offsetof(t, m))
#define I(k, v) printf("ioctl %s %lu\n", k, (unsigned long)(v))
int main(void) {
	S("hw_params", sizeof(struct snd_pcm_hw_params)); S("sw_params", sizeof(struct snd_pcm_sw_params));
	S("xferi", sizeof(struct snd_xferi)); S("interval", sizeof(struct snd_interval)); S("mask", sizeof(struct snd_mask));
	S("long", sizeof(long));
	O("hw.masks", struct snd_pcm_hw_params, masks); O("hw.mres", struct snd_pcm_hw_params, mres);
	O("hw.intervals", struct snd_pcm_hw_params, intervals); O("hw.ires", struct snd_pcm_hw_params, ires);
	O("hw.rmask", struct snd_pcm_hw_params, rmask); O("hw.cmask", struct snd_pcm_hw_params, cmask);
	O("hw.info", struct snd_pcm_hw_params, info); O("hw.msbits", struct snd_pcm_hw_params, msbits);
	O("hw.rate_num", struct snd_pcm_hw_params, rate_num); O("hw.rate_den", struct snd_pcm_hw_params, rate_den);
	O("hw.fifo_size", struct snd_pcm_hw_params, fifo_size);
	O("hw.reserved", struct snd_pcm_hw_params, fifo_size); /* patched below: reserved follows fifo_size */
	O("sw.period_step", struct snd_pcm_sw_params, period_step); O("sw.sleep_min", struct snd_pcm_sw_params, sleep_min);
	O("sw.avail_min", struct snd_pcm_sw_params, avail_min); O("sw.xfer_align", struct snd_pcm_sw_params, xfer_align);
	O("sw.start_threshold", struct snd_pcm_sw_params, start_threshold); O("sw.stop_threshold", struct snd_pcm_sw_params, stop_threshold);
	O("sw.silence_threshold", struct snd_pcm_sw_params, silence_threshold); O("sw.silence_size", struct snd_pcm_sw_params, silence_size);
	O("sw.boundary", struct snd_pcm_sw_params, boundary); O("sw.proto", struct snd_pcm_sw_params, proto);
	O("sw.tstamp_type", struct snd_pcm_sw_params, tstamp_type); O("sw.reserved", struct snd_pcm_sw_params, reserved);
	O("x.buf", struct snd_xferi, buf); O("x.frames", struct snd_xferi, frames);
	I("PVERSION", SNDRV_PCM_IOCTL_PVERSION); I("HW_REFINE", SNDRV_PCM_IOCTL_HW_REFINE); I("HW_PARAMS", SNDRV_PCM_IOCTL_HW_PARAMS);
	I("SW_PARAMS", SNDRV_PCM_IOCTL_SW_PARAMS); I("DELAY", SNDRV_PCM_IOCTL_DELAY); I("PREPARE", SNDRV_PCM_IOCTL_PREPARE); I("START", SNDRV_PCM_IOCTL_START);
	I("DROP", SNDRV_PCM_IOCTL_DROP); I("WRITEI_FRAMES", SNDRV_PCM_IOCTL_WRITEI_FRAMES); I("READI_FRAMES", SNDRV_PCM_IOCTL_READI_FRAMES);
	struct snd_interval iv; unsigned int w;
	memset(&iv, 0, sizeof iv); iv.openmin = 1; memcpy(&w, (char *)&iv + 8, 4); printf("bit openmin %u\n", w);
	memset(&iv, 0, sizeof iv); iv.openmax = 1; memcpy(&w, (char *)&iv + 8, 4); printf("bit openmax %u\n", w);
	memset(&iv, 0, sizeof iv); iv.integer = 1; memcpy(&w, (char *)&iv + 8, 4); printf("bit integer %u\n", w);
	memset(&iv, 0, sizeof iv); iv.empty = 1; memcpy(&w, (char *)&iv + 8, 4); printf("bit empty %u\n", w);
	printf("fmt S32_LE %d\n", SNDRV_PCM_FORMAT_S32_LE);
	printf("fmt S16_LE %d\nfmt MU_LAW %d\nfmt A_LAW %d\naccess RW_INTERLEAVED %d\n", SNDRV_PCM_FORMAT_S16_LE, SNDRV_PCM_FORMAT_MU_LAW, SNDRV_PCM_FORMAT_A_LAW, SNDRV_PCM_ACCESS_RW_INTERLEAVED);
	printf("param CHANNELS %d\nparam RATE %d\nparam PERIOD_SIZE %d\nparam PERIODS %d\nparam BUFFER_SIZE %d\n", SNDRV_PCM_HW_PARAM_CHANNELS, SNDRV_PCM_HW_PARAM_RATE, SNDRV_PCM_HW_PARAM_PERIOD_SIZE, SNDRV_PCM_HW_PARAM_PERIODS, SNDRV_PCM_HW_PARAM_BUFFER_SIZE);
	return 0;
}
`
	dir := t.TempDir()
	src, bin := filepath.Join(dir, "layout.c"), filepath.Join(dir, "layout")
	if err := os.WriteFile(src, []byte(prog), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(cc, "-o", bin, src).CombinedOutput(); err != nil {
		t.Fatalf("cc: %v\n%s", err, out)
	}
	out, err := exec.Command(bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	c := abiLayout{sizes: map[string]uintptr{}, offsets: map[string]uintptr{}, ioctls: map[string]uintptr{}}
	other := map[string]uintptr{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		v, err := strconv.ParseUint(f[2], 10, 64)
		if err != nil {
			t.Fatalf("parse %q: %v", sc.Text(), err)
		}
		switch f[0] {
		case "size":
			c.sizes[f[1]] = uintptr(v)
		case "offset":
			c.offsets[f[1]] = uintptr(v)
		case "ioctl":
			c.ioctls[f[1]] = uintptr(v)
		default:
			other[f[0]+" "+f[1]] = uintptr(v)
		}
	}
	if c.sizes["long"] != unsafe.Sizeof(uintptr(0)) {
		t.Skipf("cc targets a %d-byte long, this test binary a %d-byte one", c.sizes["long"], unsafe.Sizeof(uintptr(0)))
	}
	delete(c.sizes, "long")
	// reserved (or sync[16] in newer headers) follows fifo_size.
	c.offsets["hw.reserved"] += unsafe.Sizeof(uintptr(0))
	compareLayout(t, "cc with /usr/include/sound/asound.h", c, goLayout())
	for k, want := range map[string]uintptr{
		"bit openmin": intervalOpenMin, "bit openmax": intervalOpenMax, "bit integer": intervalInteger, "bit empty": intervalEmpty,
		"fmt S16_LE": uintptr(S16LE), "fmt S32_LE": uintptr(S32LE), "fmt MU_LAW": uintptr(MuLaw), "fmt A_LAW": uintptr(ALaw), "access RW_INTERLEAVED": accessRWInterleaved,
		"param CHANNELS": paramChannels, "param RATE": paramRate, "param PERIOD_SIZE": paramPeriodSize,
		"param PERIODS": paramPeriods, "param BUFFER_SIZE": paramBufferSize,
	} {
		if got, ok := other[k]; !ok || got != want {
			t.Errorf("%s: C says %d, Go %d", k, got, want)
		}
	}
}
