package pcm

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseDevice reads an ALSA hardware device name as a board description
// gives it (board.Port.PCMDevice): "hw:CARD,DEV", "hw:CARD" (device 0) or
// a node name "pcmC<CARD>D<DEV>". Card names ("hw:sndrpii2s") are not
// resolved: give the card's number.
func ParseDevice(name string) (card, device int, err error) {
	num := func(s string) (int, bool) {
		if s == "" || len(s) > 3 || strings.TrimLeft(s, "0123456789") != "" {
			return 0, false
		}
		n, err := strconv.Atoi(s)
		return n, err == nil && n < 256
	}
	var c, d string
	switch {
	case strings.HasPrefix(name, "hw:"):
		c, d, _ = strings.Cut(name[3:], ",")
		if !strings.Contains(name, ",") {
			d = "0"
		}
	case strings.HasPrefix(name, "pcmC"):
		c, d, _ = strings.Cut(name[4:], "D")
	default:
		return 0, 0, fmt.Errorf("pcm: device %q: want hw:CARD,DEV or pcmC<CARD>D<DEV>", name)
	}
	cn, ok1 := num(c)
	dn, ok2 := num(d)
	if !ok1 || !ok2 {
		return 0, 0, fmt.Errorf("pcm: device %q: card and device must be numbers 0..255", name)
	}
	return cn, dn, nil
}
