package ports

import (
	"fmt"
	"strings"

	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"
	"periph.io/x/conn/v3/spi/spireg"

	"callbox/board"
	"callbox/board/pcm"
)

// openHardware initialises periph's host drivers, opens the ALSA TDM
// device of each pcm_device (a device that fails is logged and its ports
// run without audio: probes and diagnostics still work), and returns how
// to wire each port: its SPI port by name, and its pins.
func openHardware(bd *Board) (func(board.Port) (wires, error), error) {
	if _, err := initPeriph(); err != nil {
		return nil, fmt.Errorf("ports: periph host drivers: %w", err)
	}
	format, err := bd.desc.ALSAFormat()
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, p := range bd.desc.Ports {
		if seen[p.PCMDevice] {
			continue
		}
		seen[p.PCMDevice] = true
		h := &highway{device: p.PCMDevice}
		card, dev, err := pcm.ParseDevice(p.PCMDevice)
		if err == nil {
			var a *pcm.ALSA
			a, err = pcm.OpenALSA(pcm.ALSAConfig{Card: card, Device: dev, Format: format, Slots: bd.desc.PCMSlots})
			if a != nil {
				h.h = a
			}
		}
		if err != nil {
			h.err = err
			bd.log.Error("pcm highway failed; ports run without audio", "device", p.PCMDevice, "err", err)
		} else {
			bd.log.Info("pcm highway open", "device", p.PCMDevice, "format", format, "slots", bd.desc.PCMSlots)
		}
		bd.highways = append(bd.highways, h)
	}
	return func(p board.Port) (wires, error) {
		var w wires
		sp, err := spireg.Open(p.SPIBus)
		if err != nil {
			return w, spiMissing(p, err)
		}
		bd.mu.Lock()
		bd.closers = append(bd.closers, sp)
		bd.mu.Unlock()
		// Both chips sample on the rising edge with the clock idling high
		// (mode 3), 8-bit words.
		if w.conn, err = sp.Connect(physic.Frequency(p.SPIHz)*physic.Hertz, spi.Mode3, 8); err != nil {
			return w, fmt.Errorf("ports: %s: spi_bus %q: %w", p.Name, p.SPIBus, err)
		}
		if p.ResetGPIO != "" {
			pin := gpioreg.ByName(p.ResetGPIO)
			if pin == nil {
				return w, fmt.Errorf("ports: %s: reset_gpio %q: no such pin", p.Name, p.ResetGPIO)
			}
			w.reset = pin
		}
		if p.IRQGPIO != "" {
			pin := gpioreg.ByName(p.IRQGPIO)
			if pin == nil {
				return w, fmt.Errorf("ports: %s: irq_gpio %q: no such pin", p.Name, p.IRQGPIO)
			}
			w.irq = pin
		}
		return w, nil
	}, nil
}

// spiMissing explains a SPI port that cannot be opened: periph's own
// message suggests calling Init, which Open did, so say what exists instead.
func spiMissing(p board.Port, err error) error {
	var have []string
	for _, r := range spireg.All() {
		have = append(have, r.Name)
	}
	if len(have) == 0 {
		have = []string{"none"}
	}
	for _, name := range have {
		if name == p.SPIBus {
			return fmt.Errorf("ports: %s: spi_bus %q: %w", p.Name, p.SPIBus, err)
		}
	}
	return fmt.Errorf("ports: %s: spi_bus %q: no such SPI port here (have: %s); is it enabled in the device tree (board/README.md)?",
		p.Name, p.SPIBus, strings.Join(have, ", "))
}
