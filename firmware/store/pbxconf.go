package store

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// The PBX configuration (schema version 3) is one JSON document, the
// format of telephony/pbxconf, kept whole under one key: a configuration
// is imported, exported and validated as a unit, and replacing it in one
// transaction means a refused or interrupted change leaves the old one
// intact. The store checks only that it is JSON; firmware/app validates
// it.
var (
	bucketPBX    = []byte("pbx_config")
	keyPBXConfig = []byte("config")
)

// MaxPBXConfig bounds the document (far above a 30-seat box).
const MaxPBXConfig = 4 << 20

// PBXConfig returns a copy of the stored PBX configuration document, or an
// error wrapping ErrNotFound when none has been stored yet.
func (t *Tx) PBXConfig() ([]byte, error) {
	b, err := t.bucket(bucketPBX)
	if err != nil {
		return nil, err
	}
	v := b.Get(keyPBXConfig)
	if v == nil {
		return nil, fmt.Errorf("store: pbx config: %w", ErrNotFound)
	}
	return append([]byte{}, v...), nil
}

// SetPBXConfig replaces the stored PBX configuration document, which must
// be a JSON object of at most MaxPBXConfig bytes. The store copies it.
func (t *Tx) SetPBXConfig(doc []byte) error {
	b, err := t.bucket(bucketPBX)
	if err != nil {
		return err
	}
	if len(doc) > MaxPBXConfig {
		return invalid("pbx config", "document", fmt.Sprintf("larger than %d bytes", MaxPBXConfig))
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(doc, &obj); err != nil || obj == nil {
		return invalid("pbx config", "document", "not a JSON object")
	}
	return put(b, "pbx config", bytes.Clone(keyPBXConfig), append([]byte{}, doc...))
}
