package ports

import (
	"runtime"
	"slices"
	"testing"
)

// TestPeriphDrivers: the narrowed driver set still holds what the rpi4
// board descriptor needs (BCM283x and character-device GPIO for its
// GPIOnn pins, spidev for SPI0.n) and no longer the other SoCs'. periph
// registers SoC drivers only in ARM builds, so those halves of the check
// run under qemu-arm-static (make test-arm); a driver whose chip is absent
// is skipped, not missing.
func TestPeriphDrivers(t *testing.T) {
	st, err := initPeriph()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range st.Loaded {
		names = append(names, d.String())
	}
	for _, f := range st.Skipped {
		names = append(names, f.D.String())
	}
	for _, f := range st.Failed {
		names = append(names, f.D.String())
	}
	want, gone := []string{"ioctl-gpio", "sysfs-spi", "sysfs-gpio"}, []string{}
	if runtime.GOARCH == "arm" || runtime.GOARCH == "arm64" {
		want = append(want, "bcm283x-gpio", "rpi")
		gone = []string{"allwinner-gpio", "am335x", "beaglebone", "chip", "odroid-c1", "pine64", "netlink-onewire"}
	}
	for _, want := range want {
		if !slices.Contains(names, want) {
			t.Errorf("driver %s is not registered (have %q)", want, names)
		}
	}
	for _, gone := range gone {
		if slices.Contains(names, gone) {
			t.Errorf("driver %s is still registered", gone)
		}
	}
}
