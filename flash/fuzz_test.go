package flash

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"maps"
	"testing"
)

// FuzzReadHeader: whatever the bytes, ReadHeader refuses cleanly or
// returns a manifest that validates, whose images the rest of the input
// must then match; a mutated valid bundle never verifies unless it is the
// original.
func FuzzReadHeader(f *testing.F) {
	good := makeBundle(f, testPriv, testManifest("1.2.0"), []byte("rootfs image bytes"))
	f.Add(good)
	f.Add(good[:50])
	f.Add([]byte(Magic + "\x00\x00\x00\x02{}"))
	f.Add([]byte("CBXOTA01\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ReadHeader(bytes.NewReader(b), testPub)
		if err != nil {
			return
		}
		if err := h.Manifest.Validate(); err != nil {
			t.Fatalf("accepted a manifest that does not validate: %v", err)
		}
		if h.Size > int64(len(b)) {
			t.Fatalf("header of %d bytes from %d", h.Size, len(b))
		}
		if _, err := Verify(bytes.NewReader(b), testPub); err == nil && !bytes.Equal(b, good) {
			// Only the original verifies: the signature covers the
			// manifest and the manifest the images.
			t.Fatalf("a changed bundle verified")
		}
	})
}

// FuzzDecodeEnv: a data area that decodes re-encodes to one that decodes
// to the same environment.
func FuzzDecodeEnv(f *testing.F) {
	enc, _ := EncodeEnv(Env{"BOOT_ORDER": "A B", "BOOT_A_LEFT": "3"}, 256)
	f.Add(enc)
	f.Add([]byte("a=b\x00c\x00"))
	f.Add([]byte("=x\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		env, err := DecodeEnv(b)
		if err != nil {
			return
		}
		out, err := EncodeEnv(env, len(b)+2)
		if err != nil {
			t.Fatalf("decoded %v does not encode: %v", env, err)
		}
		again, err := DecodeEnv(out)
		if err != nil || !maps.Equal(env, again) {
			t.Fatalf("round trip: %v then %v (%v)", env, again, err)
		}
	})
}

// FuzzParseEnvCopy: a stored copy is accepted only with a matching CRC.
func FuzzParseEnvCopy(f *testing.F) {
	data, _ := EncodeEnv(Env{"x": "y"}, 64)
	good := binary.LittleEndian.AppendUint32(nil, crc32.ChecksumIEEE(data))
	f.Add(append(append(bytes.Clone(good), 3), data...), true)
	f.Add(append(bytes.Clone(good), data...), false)
	f.Fuzz(func(t *testing.T, b []byte, redundant bool) {
		data, _, err := ParseEnvCopy(b, redundant)
		if err != nil {
			return
		}
		if binary.LittleEndian.Uint32(b) != crc32.ChecksumIEEE(data) {
			t.Fatal("accepted a copy whose CRC does not match")
		}
		_, _ = DecodeEnv(data)
	})
}
