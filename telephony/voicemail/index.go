package voicemail

import (
	"errors"

	"callbox/telephony/internal/jsonkv"
)

// Store holds the boxes, the messages' entries and the settings as ordered
// key/value pairs (firmware/app backs it with a bucket of the box's
// store); the contract is jsonkv's.
type Store = jsonkv.Store

// Keys: "b" + number for a box, "m" + number + 0 + id for a message (a
// box's messages are one range, in the order they came: ids sort by time),
// "c" for the mail settings older versions kept (MoveLegacySMTP).
const keySettings = "c"

func msgPrefix(box string) []byte { return append(append([]byte{'m'}, box...), 0) }

// index is voicemail's view of its Store.
type index struct{ st Store }

func (x index) boxTable() jsonkv.Table[Box] {
	return jsonkv.Table[Box]{St: x.st, Prefix: []byte{'b'}, Name: "voicemail: box", NotFound: ErrNotFound}
}

// msgTable is one box's messages.
func (x index) msgTable(box string) jsonkv.Table[Message] {
	return jsonkv.Table[Message]{St: x.st, Prefix: msgPrefix(box), Name: "voicemail: message of " + box, NotFound: ErrNotFound}
}

func (x index) box(n string) (Box, error)              { return x.boxTable().Get(n) }
func (x index) boxes() ([]Box, error)                  { return x.boxTable().List() }
func (x index) putBox(n string, b Box) error           { return x.boxTable().Put(n, b) }
func (x index) delBox(n string) error                  { return x.boxTable().Delete(n) }
func (x index) messages(box string) ([]Message, error) { return x.msgTable(box).List() }
func (x index) message(box, id string) (Message, error) {
	return x.msgTable(box).Get(id)
}
func (x index) putMessage(box, id string, m Message) error {
	return x.msgTable(box).Put(id, m)
}
func (x index) delMessage(box, id string) error { return x.msgTable(box).Delete(id) }

// legacy is the settings older versions kept under "c".
func (x index) legacy() (legacySettings, bool, error) {
	t := jsonkv.Table[legacySettings]{St: x.st, Prefix: []byte(keySettings), Name: "voicemail: settings", NotFound: ErrNotFound}
	set, err := t.Get("")
	if errors.Is(err, ErrNotFound) {
		return set, false, nil
	}
	return set, err == nil, err
}

func (x index) delLegacy() error {
	return jsonkv.Table[legacySettings]{St: x.st, Prefix: []byte(keySettings), Name: "voicemail: settings"}.Delete("")
}
