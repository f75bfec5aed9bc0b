package ports

import (
	"periph.io/x/conn/v3/driver/driverreg"

	// The drivers the boards of board/boards/ use: the Raspberry Pi's
	// BCM283x GPIO and board pins, the GPIO character device, and spidev
	// (sysfs). periph's host.Init would register every SoC periph knows
	// (Allwinner, AM335x, BeagleBone, C.H.I.P., ODROID, Pine64) and the
	// netlink 1-wire bus: 0.25 MiB of the armv7 binary for boards the box
	// is never built for.
	_ "periph.io/x/host/v3/bcm283x"
	_ "periph.io/x/host/v3/gpioioctl"
	_ "periph.io/x/host/v3/rpi"
	_ "periph.io/x/host/v3/sysfs"
)

// initPeriph loads the registered host drivers.
func initPeriph() (*driverreg.State, error) { return driverreg.Init() }
