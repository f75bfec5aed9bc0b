package board

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Kind is what a port offers: FXS ports feed analog phones, FXO ports take
// PSTN lines.
type Kind string

// Port kinds.
const (
	FXS Kind = "fxs"
	FXO Kind = "fxo"
)

// chips maps each supported chip to the port kind it serves.
var chips = map[string]Kind{"si3210": FXS, "si3215": FXS, "si3050": FXO}

// Port describes one analog port: which chip serves it and how it is wired.
type Port struct {
	Name       string `json:"name"`        // "fxs1", shown to installers
	Kind       Kind   `json:"kind"`        // fxs or fxo
	Chip       string `json:"chip"`        // si3210, si3215 or si3050
	SPIBus     string `json:"spi_bus"`     // periph SPI port name, e.g. "SPI0.0"; empty in sim
	ChipSelect int    `json:"chip_select"` // chip select or daisy-chain address
	ResetGPIO  string `json:"reset_gpio"`  // GPIO name of the chip's reset line
	IRQGPIO    string `json:"irq_gpio"`    // GPIO name of the chip's interrupt line
	PCMDevice  string `json:"pcm_device"`  // ALSA device of the PCM highway
	PCMSlot    int    `json:"pcm_slot"`    // timeslot on the highway
	Country    string `json:"country"`     // line preset; empty means the board's
}

// Board is the description of a whole board: data, not code, so a new
// carrier board needs only a JSON file.
type Board struct {
	Name    string `json:"name"`
	Country string `json:"country"` // default country preset, "CN" when empty
	Sim     bool   `json:"sim"`     // chips are emulated, audio is in memory
	Ports   []Port `json:"ports"`
}

// Sim is the built-in simulated board: 4 FXS and 2 FXO ports on emulated chips.
func Sim() Board {
	b := Board{Name: "sim", Country: "CN", Sim: true}
	for i := 1; i <= 4; i++ {
		b.Ports = append(b.Ports, Port{Name: fmt.Sprintf("fxs%d", i), Kind: FXS, Chip: "si3215", ChipSelect: i - 1, PCMSlot: i - 1})
	}
	for i := 1; i <= 2; i++ {
		b.Ports = append(b.Ports, Port{Name: fmt.Sprintf("fxo%d", i), Kind: FXO, Chip: "si3050", ChipSelect: 3 + i, PCMSlot: 3 + i})
	}
	return b
}

// Load returns the built-in board named "sim", or reads and validates a
// board description from a JSON file.
func Load(nameOrPath string) (Board, error) {
	if nameOrPath == "sim" {
		return Sim(), nil
	}
	data, err := os.ReadFile(nameOrPath)
	if err != nil {
		return Board{}, fmt.Errorf("board: %w", err)
	}
	return Parse(data)
}

// Parse decodes and validates a JSON board description.
func Parse(data []byte) (Board, error) {
	var b Board
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return Board{}, fmt.Errorf("board: parse: %w", err)
	}
	if err := b.Validate(); err != nil {
		return Board{}, err
	}
	return b, nil
}

// Validate checks the description; each error names the port and the field.
func (b Board) Validate() error {
	var errs []error
	if b.Name == "" {
		errs = append(errs, errors.New("board: name: missing"))
	}
	if len(b.Ports) == 0 {
		errs = append(errs, errors.New("board: ports: none described"))
	}
	names := map[string]bool{}
	slots := map[string]string{}
	for i, p := range b.Ports {
		where := fmt.Sprintf("board: port %d (%q)", i+1, p.Name)
		if p.Name == "" {
			errs = append(errs, fmt.Errorf("%s: name: missing", where))
		} else if names[p.Name] {
			errs = append(errs, fmt.Errorf("%s: name: used twice", where))
		}
		names[p.Name] = true
		kind, ok := chips[p.Chip]
		switch {
		case p.Kind != FXS && p.Kind != FXO:
			errs = append(errs, fmt.Errorf("%s: kind: %q is not fxs or fxo", where, p.Kind))
		case !ok:
			errs = append(errs, fmt.Errorf("%s: chip: %q is not one of si3210, si3215, si3050", where, p.Chip))
		case kind != p.Kind:
			errs = append(errs, fmt.Errorf("%s: chip: %s serves %s ports, not %s", where, p.Chip, kind, p.Kind))
		}
		if !b.Sim && p.SPIBus == "" {
			errs = append(errs, fmt.Errorf("%s: spi_bus: missing", where))
		}
		if p.PCMSlot < 0 || p.PCMSlot > 127 {
			errs = append(errs, fmt.Errorf("%s: pcm_slot: %d is outside 0-127", where, p.PCMSlot))
		}
		key := fmt.Sprintf("%s/%d", p.PCMDevice, p.PCMSlot)
		if other, dup := slots[key]; dup {
			errs = append(errs, fmt.Errorf("%s: pcm_slot: %d is already used by %q", where, p.PCMSlot, other))
		}
		slots[key] = p.Name
	}
	return errors.Join(errs...)
}

// Count returns the number of ports of a kind.
func (b Board) Count(k Kind) int {
	n := 0
	for _, p := range b.Ports {
		if p.Kind == k {
			n++
		}
	}
	return n
}
