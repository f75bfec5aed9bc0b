package store

import (
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
)

// Settings are string key/value pairs with typed getters. Keys are
// dotted names such as "console.require_password".

// Limits on settings.
const (
	MaxSettingKeyLen   = 64
	MaxSettingValueLen = 64 << 10
)

// validKey: 1-64 of a-z 0-9 . _ - so keys read the same in every log
// and sort predictably.
func validKey(key string) error {
	if !validName(key, MaxSettingKeyLen) {
		return invalid("setting", "key", "must be 1-64 of a-z 0-9 . _ -")
	}
	return nil
}

// Setting returns the value stored under key, or an error wrapping
// ErrNotFound.
func (t *Tx) Setting(key string) (string, error) {
	if err := validKey(key); err != nil {
		return "", err
	}
	b, err := t.bucket(bucketSettings)
	if err != nil {
		return "", err
	}
	v := b.Get([]byte(key))
	if v == nil {
		return "", fmt.Errorf("store: setting %q: %w", key, ErrNotFound)
	}
	return string(v), nil
}

// SetSetting stores value under key. The value must be valid UTF-8 of at
// most 64 KiB.
func (t *Tx) SetSetting(key, value string) error {
	if err := validKey(key); err != nil {
		return err
	}
	if len(value) > MaxSettingValueLen || !utf8.ValidString(value) {
		return invalid("setting", key, "value must be UTF-8 of at most 64 KiB")
	}
	b, err := t.bucket(bucketSettings)
	if err != nil {
		return err
	}
	return put(b, "setting "+key, []byte(key), []byte(value))
}

// DeleteSetting removes key; deleting a missing key is not an error, so
// "reset to default" is idempotent.
func (t *Tx) DeleteSetting(key string) error {
	if err := validKey(key); err != nil {
		return err
	}
	b, err := t.bucket(bucketSettings)
	if err != nil {
		return err
	}
	if err := b.Delete([]byte(key)); err != nil {
		return fmt.Errorf("store: delete setting %q: %w", key, err)
	}
	return nil
}

// Settings returns every stored setting.
func (t *Tx) Settings() (map[string]string, error) {
	b, err := t.bucket(bucketSettings)
	if err != nil {
		return nil, err
	}
	m := make(map[string]string)
	err = b.ForEach(func(k, v []byte) error {
		m[string(k)] = string(v)
		return nil
	})
	return m, err
}

// lookup returns the stored value and whether there is one.
func (t *Tx) lookup(key string) (string, bool, error) {
	v, err := t.Setting(key)
	if err == nil {
		return v, true, nil
	}
	if errors.Is(err, ErrNotFound) {
		return "", false, nil
	}
	return "", false, err
}

// String returns the setting, or def when it is not set.
func (t *Tx) String(key, def string) (string, error) {
	v, ok, err := t.lookup(key)
	if err != nil || !ok {
		return def, err
	}
	return v, nil
}

// Int returns the setting as a decimal integer, or def when it is not
// set. A stored value that is not an integer is an error wrapping
// ErrInvalid and naming the key, never a silent default.
func (t *Tx) Int(key string, def int) (int, error) {
	return typed(t, key, def, "must be a decimal integer", strconv.Atoi)
}

// Bool returns the setting as a boolean (true/false, 1/0, t/f), or def
// when it is not set; a malformed value is an ErrInvalid error.
func (t *Tx) Bool(key string, def bool) (bool, error) {
	return typed(t, key, def, "must be true or false", strconv.ParseBool)
}

// Duration returns the setting as a Go duration ("90s", "1h30m"), or def
// when it is not set; a malformed value is an ErrInvalid error.
func (t *Tx) Duration(key string, def time.Duration) (time.Duration, error) {
	return typed(t, key, def, "must be a duration such as 90s or 1h30m", time.ParseDuration)
}

func typed[T any](t *Tx, key string, def T, want string, parse func(string) (T, error)) (T, error) {
	v, ok, err := t.lookup(key)
	if err != nil || !ok {
		return def, err
	}
	x, err := parse(v)
	if err != nil {
		return def, invalid("setting", key, fmt.Sprintf("%s, have %q", want, v))
	}
	return x, nil
}

// SetInt stores an integer setting in the form Int reads.
func (t *Tx) SetInt(key string, v int) error { return t.SetSetting(key, strconv.Itoa(v)) }

// SetBool stores a boolean setting in the form Bool reads.
func (t *Tx) SetBool(key string, v bool) error { return t.SetSetting(key, strconv.FormatBool(v)) }

// SetDuration stores a duration setting in the form Duration reads.
func (t *Tx) SetDuration(key string, v time.Duration) error {
	return t.SetSetting(key, v.String())
}
