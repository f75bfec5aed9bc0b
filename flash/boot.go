package flash

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// MaxAttempts is how many times the bootloader tries a slot that has not
// been marked good before it falls back to the next one (RAUC's default).
const MaxAttempts = 3

// Slots are the A/B slot names, as BOOT_ORDER spells them.
var Slots = []string{"A", "B"}

// The environment variables of RAUC's U-Boot integration.
const (
	envOrder = "BOOT_ORDER"
	envLeft  = "BOOT_%s_LEFT"
)

// BootState is the slot selection in the U-Boot environment: the order in
// which the boot script tries the slots, and how many attempts each has
// left. The boot script takes the first slot in Order with attempts left
// and decrements its count before booting it; the booted system, once
// healthy, marks it good (attempts back to MaxAttempts). A slot that keeps
// failing runs out of attempts and the next one boots.
type BootState struct {
	Order []string
	Left  map[string]int
}

// DefaultBootState is a new box's: A then B, every slot with all attempts.
func DefaultBootState() BootState {
	s := BootState{Order: slices.Clone(Slots), Left: map[string]int{}}
	for _, sl := range Slots {
		s.Left[sl] = MaxAttempts
	}
	return s
}

// ParseBootState reads the slot variables from env, as the boot script
// does: a missing BOOT_ORDER is "A B", a missing or unreadable count is
// MaxAttempts; unknown slot names in BOOT_ORDER are dropped.
func ParseBootState(env Env) BootState {
	s := BootState{Left: map[string]int{}}
	order, ok := env[envOrder]
	if !ok {
		order = strings.Join(Slots, " ")
	}
	for _, sl := range strings.Fields(order) {
		if slices.Contains(Slots, sl) && !slices.Contains(s.Order, sl) {
			s.Order = append(s.Order, sl)
		}
	}
	for _, sl := range Slots {
		n, err := strconv.Atoi(env[fmt.Sprintf(envLeft, sl)])
		if err != nil || n < 0 {
			n = MaxAttempts
		}
		s.Left[sl] = min(n, MaxAttempts)
	}
	return s
}

// Apply writes the state into env.
func (s BootState) Apply(env Env) {
	env[envOrder] = strings.Join(s.Order, " ")
	for _, sl := range Slots {
		env[fmt.Sprintf(envLeft, sl)] = strconv.Itoa(s.Left[sl])
	}
}

// Choose is the boot script's decision: the first slot in Order with
// attempts left, whose count it decrements. With none left it returns ""
// and resets every count to MaxAttempts (the script then resets the board:
// better to try again than to sit dead).
func (s *BootState) Choose() string {
	for _, sl := range s.Order {
		if s.Left[sl] > 0 {
			s.Left[sl]--
			return sl
		}
	}
	for _, sl := range Slots {
		s.Left[sl] = MaxAttempts
	}
	return ""
}

// MarkGood gives slot all its attempts back: it booted and is healthy.
func (s *BootState) MarkGood(slot string) { s.Left[slot] = MaxAttempts }

// MarkBad takes every attempt from slot, so the bootloader skips it (an
// install in progress or one that failed its hash).
func (s *BootState) MarkBad(slot string) { s.Left[slot] = 0 }

// Activate puts slot first with all its attempts: the next boot tries it,
// and falls back to the others if it does not come up.
func (s *BootState) Activate(slot string) {
	s.Order = append([]string{slot}, slices.DeleteFunc(slices.Clone(s.Order), func(x string) bool { return x == slot })...)
	for _, sl := range Slots {
		if !slices.Contains(s.Order, sl) {
			s.Order = append(s.Order, sl)
		}
	}
	s.Left[slot] = MaxAttempts
}

// Other returns the slot that is not slot.
func Other(slot string) string {
	if slot == Slots[0] {
		return Slots[1]
	}
	return Slots[0]
}

// ValidSlot reports whether name is a slot name.
func ValidSlot(name string) bool { return slices.Contains(Slots, name) }
