package crm

import (
	"errors"
	"regexp"

	"callbox/telephony/crm/kv"
)

// Settings are the directory's own settings, kept in its store.
type Settings struct {
	// LocalArea is the box's area code ("025"): local numbers (7 or 8
	// digits without it) are stored and looked up with it. Empty: none.
	LocalArea string `json:"local_area"`
}

var settingsKey = []byte{'s'}

var areaRE = regexp.MustCompile(`^0[1-9][0-9]{1,2}$`)

// Settings returns the directory's settings.
func (d *Directory) Settings() Settings { return Settings{LocalArea: d.LocalArea()} }

// LocalArea is the area code local numbers get (Settings.LocalArea).
func (d *Directory) LocalArea() string {
	if p := d.area.Load(); p != nil {
		return *p
	}
	return ""
}

// SaveSettings changes the settings (administrators). Numbers already
// stored keep the form they were stored in.
func (d *Directory) SaveSettings(a Actor, s Settings) (Settings, error) {
	if !a.Admin() {
		return s, Forbidden(a, "change the customer directory's settings")
	}
	if s.LocalArea != "" && !areaRE.MatchString(s.LocalArea) {
		return s, Invalid("settings", "local_area", "an area code such as 010, 025 or 0755")
	}
	d.wmu.Lock()
	defer d.wmu.Unlock()
	if err := d.st.Update(func(tx kv.Tx) error { return kv.PutJSON(tx, BucketMeta, settingsKey, s) }); err != nil {
		return s, err
	}
	d.area.Store(&s.LocalArea)
	return s, nil
}

// loadSettings reads the stored settings over the options' defaults.
func (d *Directory) loadSettings() error {
	var s Settings
	err := d.st.View(func(tx kv.Tx) error { return Load(tx, BucketMeta, settingsKey, "settings", &s) })
	switch {
	case errors.Is(err, ErrNotFound):
		d.area.Store(&d.opts.LocalArea)
		return nil
	case err != nil:
		return err
	}
	d.area.Store(&s.LocalArea)
	return nil
}
