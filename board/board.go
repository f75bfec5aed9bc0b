package board

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"callbox/board/pcm"
	"callbox/dsp/callerid"
	"callbox/dsp/country"
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

// codecs maps a port's wire codec name to the highway's codec.
var codecs = map[string]pcm.Codec{"alaw": pcm.Alaw, "ulaw": pcm.Ulaw, "linear": pcm.Linear}

// formats maps a PCM device format name to the ALSA format and the number
// of 8-bit timeslots one ALSA channel carries.
var formats = map[string]struct {
	f     pcm.Format
	width int
}{"alaw": {pcm.ALaw, 1}, "ulaw": {pcm.MuLaw, 1}, "s16le": {pcm.S16LE, 2}, "s32le": {pcm.S32LE, 4}}

// Port describes one analog port: which chip serves it and how it is wired.
// Empty settings take the board's defaults (see Resolve).
type Port struct {
	Name string `json:"name"` // "fxs1", shown to installers
	Kind Kind   `json:"kind"` // fxs or fxo
	Chip string `json:"chip"` // si3210, si3215 or si3050
	// SPIBus is the periph.io SPI port name with its chip select, e.g.
	// "SPI0.1" (Linux /dev/spidev0.1); empty on a simulated board.
	SPIBus string `json:"spi_bus"`
	// ChipSelect is the Si3050's daisy-chain address (the low bits of its
	// control byte) when several DAAs share one chip select; 0 for a chip
	// on its own chip select, and always 0 for a ProSLIC (callbox does not
	// daisy-chain them).
	ChipSelect int    `json:"chip_select"`
	SPIHz      int    `json:"spi_hz"`     // SPI clock; 0 means 1 MHz
	ResetGPIO  string `json:"reset_gpio"` // periph GPIO name of the chip's reset line, e.g. "GPIO17"; optional
	IRQGPIO    string `json:"irq_gpio"`   // periph GPIO name of the chip's interrupt line; optional (polling)
	PCMDevice  string `json:"pcm_device"` // ALSA device of the PCM highway, "hw:0,0"; empty in sim
	PCMSlot    int    `json:"pcm_slot"`   // first 8-bit timeslot on the highway
	Codec      string `json:"codec"`      // alaw, ulaw or linear (two timeslots); empty: the country's law
	Country    string `json:"country"`    // a dsp/country code (CN, US, UK, EU, JP; "ETSI" is EU); empty means the board's
	// CallerID is how an FXS port presents caller ID (a dsp/callerid
	// preset: bellcore, etsi-dtas, etsi-reversal, etsi-rpas, dtmf); empty
	// means the country's usual scheme. On an FXO port it is the scheme the
	// line is expected to deliver.
	CallerID string `json:"caller_id"`
	// Ring is the ring preset of an FXS port (a country code: CN, US, UK,
	// EU, JP); empty means the port's country.
	Ring string `json:"ring"`
	// LoopMA is an FXS port's loop current limit, 20-41 mA; 0 means 20.
	LoopMA int `json:"loop_ma"`
}

// Board is the description of a whole board: data, not code, so a new
// carrier board needs only a JSON file.
type Board struct {
	Name    string `json:"name"`
	Country string `json:"country"` // default country (dsp/country code), "CN" when empty
	Sim     bool   `json:"sim"`     // chips are emulated, audio is in memory
	// PCMFormat is the ALSA format the TDM device is opened with (alaw,
	// ulaw: one 8-bit timeslot per channel; s16le, s32le: two or four);
	// empty means alaw. PCMSlots is the number of 8-bit timeslots per
	// frame (32 when 0: a 2.048 MHz bit clock).
	PCMFormat string `json:"pcm_format"`
	PCMSlots  int    `json:"pcm_slots"`
	Ports     []Port `json:"ports"`
}

// Sim is the built-in simulated board: 4 FXS and 2 FXO ports on emulated
// chips, one A-law timeslot each.
func Sim() Board {
	b := Board{Name: "sim", Country: "CN", Sim: true}
	for i := 1; i <= 4; i++ {
		b.Ports = append(b.Ports, Port{Name: fmt.Sprintf("fxs%d", i), Kind: FXS, Chip: "si3215", PCMSlot: i - 1})
	}
	for i := 1; i <= 2; i++ {
		b.Ports = append(b.Ports, Port{Name: fmt.Sprintf("fxo%d", i), Kind: FXO, Chip: "si3050", PCMSlot: 3 + i})
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
	b, err := Parse(data)
	if err != nil {
		return Board{}, fmt.Errorf("%s: %w", nameOrPath, err)
	}
	return b, nil
}

// Parse decodes and validates a JSON board description.
func Parse(data []byte) (Board, error) {
	var b Board
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return Board{}, fmt.Errorf("board: parse: %w", err)
	}
	if dec.More() {
		return Board{}, errors.New("board: parse: data after the description")
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
	if _, err := country.Lookup(b.Country); err != nil {
		errs = append(errs, fmt.Errorf("board: country: %q is not one of %s", b.Country, strings.Join(country.Codes(), ", ")))
	}
	format, okFormat := formats[b.resolvedFormat()]
	if !okFormat {
		errs = append(errs, fmt.Errorf("board: pcm_format: %q is not one of alaw, ulaw, s16le, s32le", b.PCMFormat))
	}
	slots := b.resolvedSlots()
	switch {
	case slots < 1 || slots > 128:
		errs = append(errs, fmt.Errorf("board: pcm_slots: %d is outside 1-128", b.PCMSlots))
	case okFormat && slots%format.width != 0:
		errs = append(errs, fmt.Errorf("board: pcm_slots: %d is not a multiple of %d (%s channels carry %d timeslots)", slots, format.width, b.resolvedFormat(), format.width))
	}
	names := map[string]bool{}
	used := map[string]string{}    // device/slot -> port
	selects := map[string]string{} // bus/address -> port
	for i, p := range b.Ports {
		where := fmt.Sprintf("board: port %d (%q)", i+1, p.Name)
		bad := func(field, format string, args ...any) {
			errs = append(errs, fmt.Errorf("%s: %s: %s", where, field, fmt.Sprintf(format, args...)))
		}
		if p.Name == "" {
			bad("name", "missing")
		} else if names[p.Name] {
			bad("name", "used twice")
		} else if strings.ContainsAny(p.Name, " \t\n") {
			bad("name", "%q contains white space", p.Name)
		}
		names[p.Name] = true
		kind, ok := chips[p.Chip]
		switch {
		case p.Kind != FXS && p.Kind != FXO:
			bad("kind", "%q is not fxs or fxo", p.Kind)
		case !ok:
			bad("chip", "%q is not one of si3210, si3215, si3050", p.Chip)
		case kind != p.Kind:
			bad("chip", "%s serves %s ports, not %s", p.Chip, kind, p.Kind)
		}
		if !b.Sim {
			if p.SPIBus == "" {
				bad("spi_bus", "missing")
			}
			if p.PCMDevice == "" {
				bad("pcm_device", "missing")
			} else if _, _, err := pcm.ParseDevice(p.PCMDevice); err != nil {
				bad("pcm_device", "%v", err)
			}
			key := fmt.Sprintf("%s/%d", p.SPIBus, p.ChipSelect)
			if other, dup := selects[key]; dup && p.SPIBus != "" {
				bad("chip_select", "%s address %d is already used by %q", p.SPIBus, p.ChipSelect, other)
			}
			selects[key] = p.Name
		}
		switch {
		case p.ChipSelect < 0 || p.ChipSelect > 31:
			bad("chip_select", "%d is outside 0-31", p.ChipSelect)
		case p.ChipSelect != 0 && p.Kind == FXS:
			bad("chip_select", "%d: ProSLIC ports are not daisy-chained; give each its own spi_bus chip select", p.ChipSelect)
		}
		if p.SPIHz < 0 || p.SPIHz > 16_000_000 {
			bad("spi_hz", "%d is outside 0-16000000", p.SPIHz)
		}
		if _, err := country.Lookup(p.Country); err != nil {
			bad("country", "%q is not one of %s", p.Country, strings.Join(country.Codes(), ", "))
		}
		codec, okCodec := codecs[b.portCodec(p)]
		if !okCodec {
			bad("codec", "%q is not alaw, ulaw or linear", p.Codec)
			codec = pcm.Alaw
		}
		if p.CallerID != "" && callerid.Presets[p.CallerID] == nil {
			bad("caller_id", "%q is not one of %s", p.CallerID, strings.Join(callerIDNames(), ", "))
		}
		if p.Ring != "" {
			if p.Kind != FXS {
				bad("ring", "only FXS ports ring")
			} else if _, err := country.Lookup(p.Ring); err != nil {
				bad("ring", "%q is not one of %s", p.Ring, strings.Join(country.Codes(), ", "))
			}
		}
		if p.LoopMA != 0 && (p.Kind != FXS || p.LoopMA < 20 || p.LoopMA > 41) {
			bad("loop_ma", "%d: only FXS ports take a loop current limit, 20-41 mA", p.LoopMA)
		}
		last := p.PCMSlot + codec.Width() - 1
		if p.PCMSlot < 0 || last >= slots {
			bad("pcm_slot", "%d (%s, %d timeslots) is outside 0-%d", p.PCMSlot, codec, codec.Width(), slots-1)
			continue
		}
		for s := p.PCMSlot; s <= last; s++ {
			key := fmt.Sprintf("%s/%d", p.PCMDevice, s)
			if other, dup := used[key]; dup {
				bad("pcm_slot", "%d is already used by %q", s, other)
				break
			}
			used[key] = p.Name
		}
	}
	return errors.Join(errs...)
}

// Resolve returns the description with every default filled in: the
// board's country, PCM format and slot count, and each port's country,
// codec, caller ID scheme, ring preset and SPI clock. Country codes come
// out in the country table's spelling (dsp/country: "etsi" is EU).
func (b Board) Resolve() Board {
	r := b
	r.Country = b.resolvedCountry()
	r.PCMFormat = b.resolvedFormat()
	r.PCMSlots = b.resolvedSlots()
	r.Ports = make([]Port, len(b.Ports))
	for i, p := range b.Ports {
		if p.Country == "" {
			p.Country = r.Country
		}
		p.Country = canonical(p.Country)
		p.Codec = b.portCodec(p)
		if p.CallerID == "" {
			p.CallerID = lookup(p.Country).CallerID
		}
		if p.Ring == "" && p.Kind == FXS {
			p.Ring = p.Country
		}
		if p.Ring != "" {
			p.Ring = canonical(p.Ring)
		}
		if p.SPIHz == 0 {
			p.SPIHz = 1_000_000
		}
		if p.LoopMA == 0 && p.Kind == FXS {
			p.LoopMA = 20
		}
		r.Ports[i] = p
	}
	return r
}

// PCMCodec returns the highway codec of a port's resolved codec name.
func (p Port) PCMCodec() (pcm.Codec, error) {
	c, ok := codecs[p.Codec]
	if !ok {
		return 0, fmt.Errorf("board: port %q: codec: %q is not alaw, ulaw or linear", p.Name, p.Codec)
	}
	return c, nil
}

// ALSAFormat returns the ALSA format of the board's resolved PCM format.
func (b Board) ALSAFormat() (pcm.Format, error) {
	f, ok := formats[b.resolvedFormat()]
	if !ok {
		return 0, fmt.Errorf("board: pcm_format: %q is not one of alaw, ulaw, s16le, s32le", b.PCMFormat)
	}
	return f.f, nil
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

// Port returns the port named name.
func (b Board) Port(name string) (Port, bool) {
	for _, p := range b.Ports {
		if p.Name == name {
			return p, true
		}
	}
	return Port{}, false
}

func (b Board) resolvedCountry() string { return canonical(b.Country) }

// lookup is the country table's entry of a validated code (CN for a code
// Validate would refuse).
func lookup(code string) country.Country {
	c, err := country.Lookup(code)
	if err != nil {
		c, _ = country.Lookup(country.Default)
	}
	return c
}

// canonical is the table's spelling of a code ("etsi" is EU); a code
// Validate would refuse is kept as it is.
func canonical(code string) string {
	if c, err := country.Canonical(code); err == nil {
		return c
	}
	return strings.ToUpper(code)
}

func (b Board) resolvedFormat() string {
	if b.PCMFormat == "" {
		return "alaw"
	}
	return b.PCMFormat
}

func (b Board) resolvedSlots() int {
	if b.PCMSlots == 0 {
		return 32
	}
	return b.PCMSlots
}

// portCodec is the port's codec name, or its country's G.711 law (mu-law
// in North America and Japan, A-law elsewhere).
func (b Board) portCodec(p Port) string {
	if p.Codec != "" {
		return p.Codec
	}
	c := p.Country
	if c == "" {
		c = b.resolvedCountry()
	}
	return lookup(c).Law.String()
}

func callerIDNames() []string {
	out := make([]string, 0, len(callerid.Presets))
	for n := range callerid.Presets {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
