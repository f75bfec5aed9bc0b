package flash

import "slices"

// Policy is what a box accepts: its board, the version it runs, and the
// oldest version it may go back to.
type Policy struct {
	// Board is this box's board name; the manifest must list it.
	Board string
	// Running is the version the box runs now. A version that does not
	// parse (a development build) counts as 0, so only bundles without a
	// min_version above 0 install on it.
	Running string
	// Floor, when set, is the oldest version the box may install
	// (rollback protection): older bundles are refused.
	Floor string
}

// Check refuses, wrapping ErrRefused, a manifest this box must not
// install: another board, a version older than the floor, or a
// min_version newer than what runs.
func (p Policy) Check(m Manifest) error {
	if !slices.Contains(m.Compatible, p.Board) {
		return refused("made for %v, this box is %q", m.Compatible, p.Board)
	}
	v, _ := ParseVersion(m.Version) // Validate checked it
	if p.Floor != "" {
		floor, err := ParseVersion(p.Floor)
		if err != nil {
			return refused("this box's version floor: %v", err)
		}
		if v.Compare(floor) < 0 {
			return refused("version %s is older than %s, the oldest this box may install", m.Version, p.Floor)
		}
	}
	if m.MinVersion != "" {
		minv, _ := ParseVersion(m.MinVersion)
		running, err := ParseVersion(p.Running)
		if err != nil {
			running, _ = ParseVersion("0")
		}
		if running.Compare(minv) < 0 {
			return refused("version %s installs only over %s or newer; this box runs %s", m.Version, m.MinVersion, p.Running)
		}
	}
	return nil
}
