package voicemail

import (
	"errors"
	"os"
	"testing"
	"time"
)

// TestDeposit: the greeting (the default, then the box's own), the message
// after the beep, saved as new with the caller, the lamps lit.
func TestDeposit(t *testing.T) {
	l := &lamps{}
	s := newService(t, Config{MWI: l})
	addBox(t, s, Box{Number: "8001", Extensions: []string{"201"}})
	c := &caller{t: t, takes: []take{{dur: 3 * time.Second, spoken: true, key: '#'}}}
	if err := s.Deposit(c, "8001", Caller{Number: "13800138000", Name: "ZHANG"}); err != nil {
		t.Fatal(err)
	}
	if got := said(c); got != "vm/greeting record vm/saved hangup" {
		t.Fatalf("the caller heard %q", got)
	}
	msgs, err := s.Messages("8001")
	if err != nil || len(msgs) != 1 {
		t.Fatalf("messages %v %v", msgs, err)
	}
	m := msgs[0]
	if m.State != StateNew || m.Caller != "13800138000" || m.CallerName != "ZHANG" || m.Duration != 3*time.Second {
		t.Fatalf("message %+v", m)
	}
	if l.get("8001") != [2]int{1, 0} {
		t.Fatalf("lamp %v", l.get("8001"))
	}
	// The box's own greeting.
	if err := s.UploadGreeting("8001", wavOf(t, 2*time.Second)); err != nil {
		t.Fatal(err)
	}
	c = &caller{t: t, takes: []take{{dur: 2 * time.Second, spoken: true}}}
	if err := s.Deposit(c, "8001", Caller{}); err != nil {
		t.Fatal(err)
	}
	if got := said(c); got != "file:greeting.wav record vm/saved hangup" {
		t.Fatalf("with a greeting the caller heard %q", got)
	}
	if l.get("8001") != [2]int{2, 0} {
		t.Fatalf("lamp %v", l.get("8001"))
	}
}

// TestDepositEdges: hang-ups, silence, a full box, an unknown box.
func TestDepositEdges(t *testing.T) {
	s := newService(t, Config{})
	addBox(t, s, Box{Number: "8001", MaxMessages: 2})
	count := func() int {
		msgs, _ := s.Messages("8001")
		return len(msgs)
	}
	// Hanging up after speaking keeps the message.
	c := &caller{t: t, takes: []take{{dur: 4 * time.Second, spoken: true, hangup: true}}}
	if err := s.Deposit(c, "8001", Caller{Number: "1"}); err != nil || count() != 1 {
		t.Fatalf("hang-up after speaking: %v, %d messages", err, count())
	}
	// Hanging up at the beep keeps nothing; neither does silence.
	c = &caller{t: t, takes: []take{{dur: 300 * time.Millisecond, spoken: true, hangup: true}}}
	if err := s.Deposit(c, "8001", Caller{}); err != nil || count() != 1 {
		t.Fatalf("hang-up at the beep: %v, %d messages", err, count())
	}
	c = &caller{t: t, takes: []take{{dur: 6 * time.Second}}}
	if err := s.Deposit(c, "8001", Caller{}); err != nil || count() != 1 || said(c) != "vm/greeting record vm/nothing-recorded vm/goodbye hangup" {
		t.Fatalf("silence: %v, %d messages, heard %q", err, count(), said(c))
	}
	entries, _ := os.ReadDir(s.boxDir("8001"))
	if len(entries) != 1 {
		t.Fatalf("files left: %v", entries)
	}
	// A full box.
	c = &caller{t: t, takes: []take{{dur: 2 * time.Second, spoken: true}}}
	s.Deposit(c, "8001", Caller{})
	c = &caller{t: t}
	if err := s.Deposit(c, "8001", Caller{}); !errors.Is(err, ErrFull) || said(c) != "vm/mailbox-full hangup" {
		t.Fatalf("a full box: %v, heard %q", err, said(c))
	}
	c = &caller{t: t}
	if err := s.Deposit(c, "9999", Caller{}); !errors.Is(err, ErrNotFound) || said(c) != "vm/unavailable hangup" {
		t.Fatalf("an unknown box: %v, heard %q", err, said(c))
	}
}

// TestRetrieve walks the retrieval menus by DTMF: login, counts, play,
// delete, save, call back, options (PIN, greeting).
func TestRetrieve(t *testing.T) {
	l := &lamps{}
	clk := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	s := newService(t, Config{MWI: l, Now: func() time.Time { clk = clk.Add(time.Second); return clk }})
	addBox(t, s, Box{Number: "8001"})
	for _, from := range []string{"13800000001", "13800000002", "13800000003"} {
		c := &caller{t: t, takes: []take{{dur: 2 * time.Second, spoken: true}}}
		if err := s.Deposit(c, "8001", Caller{Number: from}); err != nil {
			t.Fatal(err)
		}
	}
	first, _ := s.Messages("8001")
	s.SetState("8001", first[0].ID, StateSaved) // the newest is heard already
	if l.get("8001") != [2]int{2, 1} {
		t.Fatalf("lamp %v", l.get("8001"))
	}

	c := &caller{t: t, keys: []string{
		"8001#", "1234#", // login
		"1", // new messages: 13800000001 first
		"3", // delete it
		"2", // the second is played: save it
		"0", // back at the menu (no more): options
		"3", // change the PIN
		"4321#", "4321#",
		"1", // record a greeting
		"*", // back
		"2", // saved messages: 13800000002, 13800000003
		"4", // call the first back
	}, takes: []take{{dur: 3 * time.Second, spoken: true, key: '#'}}}
	if err := s.Retrieve(c, ""); err != nil {
		t.Fatal(err)
	}
	want := "vm/enter-box vm/password vm/you-have n:2 vm/new-messages n:1 vm/saved-messages vm/main-menu " +
		"vm/message n:1 vm/from d:13800000001 file:" + first[2].ID + ".wav vm/message-menu vm/deleted " +
		"vm/message n:2 vm/from d:13800000002 file:" + first[1].ID + ".wav vm/message-menu vm/message-saved vm/no-more " +
		"vm/main-menu vm/options vm/new-pin vm/new-pin-again vm/pin-changed vm/options vm/record-greeting record " +
		"vm/greeting-saved vm/options vm/main-menu vm/message n:1 vm/from d:13800000002 file:" + first[1].ID + ".wav vm/message-menu"
	if got := said(c); got != want {
		t.Fatalf("the caller heard:\n%s\nwant:\n%s", got, want)
	}
	if c.callback != "13800000002" {
		t.Fatalf("called back %q", c.callback)
	}
	if l.get("8001") != [2]int{0, 2} {
		t.Fatalf("lamp after listening %v", l.get("8001"))
	}
	b, _ := s.Box("8001")
	if !b.Greeting {
		t.Fatal("no greeting after recording one")
	}
	if _, err := s.login("8001", "4321"); err != nil {
		t.Fatalf("the new PIN: %v", err)
	}
	if _, err := s.login("8001", "1234"); err == nil {
		t.Fatal("the old PIN still opens the box")
	}
}

// TestRetrieveWrongPIN: three wrong PINs end the call; a box locks after
// LockAfter wrong PINs in a row, whatever the calls, and an unknown box
// fails exactly like a wrong PIN.
func TestRetrieveWrongPIN(t *testing.T) {
	s := newService(t, Config{LockAfter: 4})
	addBox(t, s, Box{Number: "8001"})
	c := &caller{t: t, keys: []string{"8001#", "0000#", "8001#", "1111#", "7777#", "1234#"}}
	if err := s.Retrieve(c, ""); err != nil {
		t.Fatal(err)
	}
	if got := said(c); got != "vm/enter-box vm/password vm/wrong-pin vm/enter-box vm/password vm/wrong-pin "+
		"vm/enter-box vm/password vm/wrong-pin vm/goodbye hangup" {
		t.Fatalf("three wrong tries: %q", got)
	}
	// Own box (the feature code): only the PIN; two more wrong for 8001
	// (7777 was another box) lock it,
	// and then even the right PIN is refused.
	c = &caller{t: t, keys: []string{"5555#", "6666#", "1234#"}}
	if err := s.Retrieve(c, "8001"); err != nil {
		t.Fatal(err)
	}
	if got := said(c); got != "vm/password vm/wrong-pin vm/password vm/wrong-pin vm/password vm/locked hangup" {
		t.Fatalf("locking: %q", got)
	}
}

// TestRetrieveSilence: a caller who presses nothing hears the menu three
// times, then goodbye.
func TestRetrieveSilence(t *testing.T) {
	s := newService(t, Config{})
	addBox(t, s, Box{Number: "8001"})
	c := &caller{t: t, keys: []string{"1234#", "", "", ""}}
	if err := s.Retrieve(c, "8001"); err != nil {
		t.Fatal(err)
	}
	if got := said(c); got != "vm/password vm/no-messages vm/main-menu vm/main-menu vm/main-menu vm/goodbye hangup" {
		t.Fatalf("silence: %q", got)
	}
}
