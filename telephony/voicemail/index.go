package voicemail

import (
	"encoding/json"
	"fmt"
)

// Store holds the boxes, the messages' entries and the settings as ordered
// key/value pairs (firmware/app backs it with a bucket of the box's
// store). Range calls fn for from <= key < to in ascending order; fn must
// not write. Get reports a missing key with found false and no error.
type Store interface {
	Put(key, value []byte) error
	Get(key []byte) (value []byte, found bool, err error)
	Delete(key []byte) error
	Range(from, to []byte, fn func(key, value []byte) error) error
}

// Keys: "b" + number for a box, "m" + number + 0 + id for a message (a
// box's messages are one range, in the order they came: ids sort by time),
// "c" for the mail settings older versions kept (MoveLegacySMTP).
const keySettings = "c"

func boxKey(n string) []byte { return append([]byte{'b'}, n...) }

func msgPrefix(box string) []byte { return append(append([]byte{'m'}, box...), 0) }

func msgKey(box, id string) []byte { return append(msgPrefix(box), id...) }

type index struct{ st Store }

func (x index) get(key []byte, v any) (bool, error) {
	b, ok, err := x.st.Get(key)
	if err != nil || !ok {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("voicemail: stored %q: %w", key, err)
	}
	return true, nil
}

func (x index) put(key []byte, v any) error {
	b, err := json.Marshal(v)
	if err == nil {
		err = x.st.Put(key, b)
	}
	if err != nil {
		return fmt.Errorf("voicemail: store %q: %w", key, err)
	}
	return nil
}

func (x index) box(n string) (Box, error) {
	var b Box
	ok, err := x.get(boxKey(n), &b)
	if err == nil && !ok {
		err = fmt.Errorf("%w: box %s", ErrNotFound, n)
	}
	return b, err
}

func (x index) boxes() ([]Box, error) {
	var out []Box
	err := x.st.Range([]byte{'b'}, []byte{'c'}, func(_, v []byte) error {
		var b Box
		if json.Unmarshal(v, &b) == nil {
			out = append(out, b)
		}
		return nil
	})
	return out, err
}

// messages returns a box's messages, oldest first.
func (x index) messages(box string) ([]Message, error) {
	p := msgPrefix(box)
	end := append(p[:len(p)-1:len(p)-1], 1)
	var out []Message
	err := x.st.Range(p, end, func(_, v []byte) error {
		var m Message
		if json.Unmarshal(v, &m) == nil {
			out = append(out, m)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("voicemail: messages of %s: %w", box, err)
	}
	return out, nil
}

func (x index) message(box, id string) (Message, error) {
	var m Message
	ok, err := x.get(msgKey(box, id), &m)
	if err == nil && !ok {
		err = fmt.Errorf("%w: message %s/%s", ErrNotFound, box, id)
	}
	return m, err
}

func (x index) del(key []byte) error {
	if err := x.st.Delete(key); err != nil {
		return fmt.Errorf("voicemail: delete %q: %w", key, err)
	}
	return nil
}
