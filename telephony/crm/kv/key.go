package kv

import (
	"encoding/binary"
	"errors"
	"strings"
	"time"
)

// Key builds a composite key whose byte order is the order of its parts:
// numbers and times are fixed-width big-endian, strings end with a 0x00
// byte. Strings put in keys must hold no 0x00 (Str drops it), which every
// keyed string of these packages (numbers, logins, grams) satisfies.
type Key []byte

// Str appends s and its terminator.
func (k Key) Str(s string) Key {
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	return append(append(k, s...), 0)
}

// U64 appends v as 8 big-endian bytes.
func (k Key) U64(v uint64) Key { return binary.BigEndian.AppendUint64(k, v) }

// Time appends t as Unix nanoseconds with the sign bit flipped (8 bytes),
// so earlier times sort first; instants before 1678 or after 2262 clamp.
func (k Key) Time(t time.Time) Key { return k.U64(uint64(t.UnixNano()) ^ 1<<63) }

// errKey reports a key that does not decode.
var errKey = errors.New("kv: malformed key")

// CutStr decodes a string appended by Str.
func CutStr(k []byte) (string, []byte, error) {
	for i, c := range k {
		if c == 0 {
			return string(k[:i]), k[i+1:], nil
		}
	}
	return "", nil, errKey
}

// CutU64 decodes a number appended by U64.
func CutU64(k []byte) (uint64, []byte, error) {
	if len(k) < 8 {
		return 0, nil, errKey
	}
	return binary.BigEndian.Uint64(k), k[8:], nil
}

// CutTime decodes a time appended by Time, in UTC.
func CutTime(k []byte) (time.Time, []byte, error) {
	v, rest, err := CutU64(k)
	if err != nil {
		return time.Time{}, nil, err
	}
	return time.Unix(0, int64(v^1<<63)).UTC(), rest, nil
}
