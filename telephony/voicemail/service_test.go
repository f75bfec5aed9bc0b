package voicemail

import (
	"encoding/binary"
	"errors"
	"math"
	"testing"
	"time"

	"callbox/dsp/wav"
)

func wavOf(t testing.TB, d time.Duration) []byte {
	t.Helper()
	s := make([]int16, int(d/time.Millisecond)*8)
	for i := range s {
		s[i] = int16(i%50*100 - 2500)
	}
	b, err := wav.Encode(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPutBox validates boxes, naming the field, and keeps the PIN hashed.
func TestPutBox(t *testing.T) {
	s := newService(t, Config{})
	for _, tc := range []struct {
		in    BoxInput
		field string
	}{
		{BoxInput{Box: Box{Number: "80a1", Kind: KindAgent}, PIN: "1234"}, "number"},
		{BoxInput{Box: Box{Number: "../x", Kind: KindAgent}, PIN: "1234"}, "number"},
		{BoxInput{Box: Box{Number: "8001", Kind: "boss"}, PIN: "1234"}, "kind"},
		{BoxInput{Box: Box{Number: "8001", Kind: KindAgent}}, "pin"},
		{BoxInput{Box: Box{Number: "8001", Kind: KindAgent}, PIN: "12"}, "pin"},
		{BoxInput{Box: Box{Number: "8001", Kind: KindAgent, MaxMessage: time.Hour}, PIN: "1234"}, "max_message"},
		{BoxInput{Box: Box{Number: "8001", Kind: KindAgent, MaxMessages: -1}, PIN: "1234"}, "max_messages"},
		{BoxInput{Box: Box{Number: "8001", Kind: KindAgent, NotifyNumber: "13x"}, PIN: "1234"}, "notify_number"},
		{BoxInput{Box: Box{Number: "8001", Kind: KindAgent, Email: "not mail"}, PIN: "1234"}, "email"},
		{BoxInput{Box: Box{Number: "8001", Kind: KindAgent, Extensions: []string{"20 1"}}, PIN: "1234"}, "extensions"},
	} {
		_, err := s.PutBox(tc.in)
		if !errors.Is(err, ErrInvalid) || !containsField(err, tc.field) {
			t.Errorf("%+v: %v, want the field %s", tc.in, err, tc.field)
		}
	}
	b, err := s.PutBox(BoxInput{Box: Box{Number: "8001", Kind: KindGroup, Email: "a@b.example"}, PIN: "1234"})
	if err != nil || b.MaxMessage != DefaultMaxMessage || b.MaxMessages != DefaultMaxMessages || b.PINHash == "" || b.PINHash == "1234" {
		t.Fatalf("box %+v %v", b, err)
	}
	// A change without a PIN keeps the old one.
	if _, err := s.PutBox(BoxInput{Box: Box{Number: "8001", Kind: KindGroup, Name: "Sales"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.login("8001", "1234"); err != nil {
		t.Fatalf("the PIN after a change: %v", err)
	}
	if err := s.DeleteBox("8001"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Box("8001"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a deleted box: %v", err)
	}
}

func containsField(err error, field string) bool {
	return err != nil && len(field) > 0 && errorsContain(err.Error(), ": "+field+": ")
}

func errorsContain(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// TestUploadGreeting refuses what is not a usable greeting and keeps the
// one the box had; a CD-quality stereo file is converted.
func TestUploadGreeting(t *testing.T) {
	s := newService(t, Config{})
	addBox(t, s, Box{Number: "8001"})
	good := wavOf(t, 3*time.Second)
	fast := append([]byte(nil), good...)
	fast[24], fast[25], fast[26] = 0x00, 0x77, 0x01 // 96 kHz
	for name, file := range map[string][]byte{
		"not audio": []byte("MZ\x90\x00 this is an executable"),
		"too long":  wavOf(t, 2*MaxGreeting),
		"too short": wavOf(t, 100*time.Millisecond),
		"96 kHz":    fast,
		"empty":     nil,
	} {
		if err := s.UploadGreeting("8001", file); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if b, _ := s.Box("8001"); b.Greeting {
		t.Fatal("a refused upload set a greeting")
	}
	if err := s.UploadGreeting("8001", good); err != nil {
		t.Fatal(err)
	}
	if err := s.UploadGreeting("8001", stereo44k(t, 2*time.Second)); err != nil {
		t.Fatalf("a 44.1 kHz stereo file: %v", err)
	}
	if err := s.UploadGreeting("8001", []byte("junk")); !errors.Is(err, ErrInvalid) {
		t.Fatal(err)
	}
	if b, _ := s.Box("8001"); !b.Greeting {
		t.Fatal("a refused upload lost the greeting")
	}
	if err := s.UploadGreeting("9999", good); !errors.Is(err, ErrNotFound) {
		t.Fatalf("no such box: %v", err)
	}
}

// stereo44k is a 16-bit stereo WAV at 44.1 kHz.
func stereo44k(t testing.TB, d time.Duration) []byte {
	t.Helper()
	n := int(d.Seconds() * 44100)
	b := []byte("RIFF\x00\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x02\x00\x44\xac\x00\x00\x10\xb1\x02\x00\x04\x00\x10\x00data")
	b = binary.LittleEndian.AppendUint32(b, uint32(4*n))
	for i := range n {
		v := uint16(int16(3000 * math.Sin(2*math.Pi*440*float64(i)/44100)))
		b = binary.LittleEndian.AppendUint16(b, v)
		b = binary.LittleEndian.AppendUint16(b, v)
	}
	binary.LittleEndian.PutUint32(b[4:], uint32(len(b)-8))
	return b
}
