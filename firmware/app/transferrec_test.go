package app

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"callbox/board/sim/si3050sim"
	"callbox/firmware/backup"
	"callbox/telephony/acd"
	"callbox/telephony/cc"
	"callbox/telephony/recording"
)

// One recording across a transfer to a plain extension, in the running
// box: the caller on the line fxo1 (500 Hz) reaches agent 1088 on the
// analog phone 202 (1300 Hz) through the menu of a group that records;
// the agent transfers the caller to extension 203, which is no agent
// (blind, or after a consultation), and 203 (900 Hz) talks with the
// caller until the caller hangs up. The service has one record: its
// caller's channel carries the caller, its other channel the agent first
// and then 203, and the call's fact row names it. Before, a blind
// transfer handed the caller to the switch and the recording stopped with
// the agent: 203's part was nowhere.
func TestRecordingFollowsTransferToExtension(t *testing.T) {
	if testing.Short() {
		t.Skip("app: opens sockets and runs sox")
	}
	sox, err := exec.LookPath("sox")
	if err != nil {
		t.Fatalf("sox not found (apt-get install sox): %v", err)
	}
	for _, tc := range []struct {
		name    string
		rtp     int
		consult bool
	}{
		{"blind", 31600, false},
		{"attended", 32000, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := bootCC(t, tc.rtp, ccTestPBX(), ccTestConfig(t))
			svc, co, agent := lineCallFor1088(t, a)
			other := a.livePorts().Sim().Phone("fxs3")
			eventually(t, 15*time.Second, "the box answering the line", co.Answered)
			waitMenu(t, co)
			if err := co.SendDTMF("1"); err != nil {
				t.Fatal(err)
			}
			eventually(t, 20*time.Second, "202 ringing", agent.Ringing)
			agent.OffHook()
			eventually(t, 10*time.Second, "1088 talking", func() bool {
				st, err := svc.ACD().Agent("1088")
				return err == nil && st.State == acd.Talking
			})
			rec := a.mediaServices().rec
			// The emulated lines run slower than the wall clock under load:
			// wait for the file to hold the seconds (two A-law channels).
			recorded := func(what string, secs int) recording.Record {
				t.Helper()
				var r recording.Record
				eventually(t, 30*time.Second, what, func() bool {
					list, err := rec.Search(recording.Query{Agent: "1088"})
					if err != nil || len(list) != 1 {
						return false
					}
					r = list[0]
					st, err := os.Stat(filepath.Join(a.cfg.DataDir, backup.RecordingDir, r.File))
					return err == nil && st.Size() >= int64(44+secs*2*8000)
				})
				return r
			}
			co.Play(sine8k(500, 8000*2))
			agent.Speak(sine8k(1300, 8000*2))
			recorded("the agent's two seconds recorded", 2)

			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := svc.Transfer(ctx, "1088", cc.Target{Kind: cc.ToExtension, Number: "203"}, tc.consult); err != nil {
				t.Fatal(err)
			}
			if tc.consult {
				eventually(t, 15*time.Second, "203 ringing", other.Ringing)
			} else {
				eventually(t, 15*time.Second, "203 ringing with the customer's number", func() bool {
					cid := other.CallerID()
					return other.Ringing() && len(cid) > 0 && strings.HasSuffix(cid[len(cid)-1].Number, "88886666")
				})
			}
			other.OffHook()
			if tc.consult {
				eventually(t, 10*time.Second, "the consultation answered", func() bool {
					err := svc.CompleteTransfer(ctx, "1088")
					return err == nil
				})
			}
			eventually(t, 10*time.Second, "1088 out of the call", func() bool {
				st, err := svc.ACD().Agent("1088")
				return err == nil && st.State != acd.Talking
			})
			agent.OnHook()
			other.ClearHeard()
			co.Play(sine8k(500, 8000*3))
			other.Speak(sine8k(900, 8000*3))
			eventually(t, 20*time.Second, "203 to hear 1.5 s", func() bool { return len(other.Heard()) >= 12000 })
			if x := other.Heard(); !hearsTone(x[4000:12000], 500) {
				t.Errorf("203 did not hear the caller after the transfer")
			}
			// 2 s with the agent, the consultation's or the ringing's hold,
			// then 3 s with 203.
			recorded("203's three seconds recorded", 6)
			if err := co.Hangup(si3050sim.BusyTone, 0); err != nil {
				t.Fatal(err)
			}
			var r recording.Record
			eventually(t, 15*time.Second, "the recording finished", func() bool {
				all, err := rec.Search(recording.Query{Agent: "1088"})
				if err != nil || len(all) != 1 || all[0].State != recording.Done {
					return false
				}
				r = all[0]
				return true
			})
			other.OnHook()
			if same, err := rec.Search(recording.Query{Service: r.ServiceID}); err != nil || len(same) != 1 {
				t.Fatalf("the service's records: %+v %v", same, err)
			}
			if r.Kind != "service" || r.Customer != "02588886666" || r.Duration < 5*time.Second {
				t.Fatalf("the record: %+v", r)
			}
			path := filepath.Join(a.cfg.DataDir, backup.RecordingDir, r.File)
			caller, heard := soxSamples(t, sox, path, "1"), soxSamples(t, sox, path, "2")
			if !containsTone(caller, 500) || containsTone(caller, 900) || containsTone(caller, 1300) {
				t.Errorf("the caller's channel: 500 Hz %v, 900 Hz %v, 1300 Hz %v",
					containsTone(caller, 500), containsTone(caller, 900), containsTone(caller, 1300))
			}
			if !containsTone(heard, 1300) || !containsTone(heard, 900) {
				t.Errorf("the other channel: the agent (1300 Hz) %v, 203 (900 Hz) %v", containsTone(heard, 1300), containsTone(heard, 900))
			}
			if i900, i1300 := toneAt(heard, 900), toneAt(heard, 1300); i900 < i1300 {
				t.Errorf("203 heard at %d before the agent at %d", i900, i1300)
			}
			eventually(t, 10*time.Second, "the fact row naming the recording", func() bool {
				f := storedFacts(t, a)
				return len(f) == 1 && f[0].Recording == r.ID && len(f[0].Transfers) == 1
			})
		})
	}
}

// waitMenu waits, half a second at a time, until the caller on a line
// hears the call centre's menu.
func waitMenu(t *testing.T, co *si3050sim.CO) {
	t.Helper()
	for try := 0; ; try++ {
		co.Record(4000)
		eventually(t, 15*time.Second, "half a second heard", func() bool { return len(co.Heard()) >= 4000 })
		if containsTone(co.Heard(), ccMenuHz) {
			return
		}
		if try == 40 {
			t.Fatal("the caller never heard the menu")
		}
	}
}

// toneAt is the first sample of x in a quarter second that holds hz, or
// len(x).
func toneAt(x []int16, hz float64) int {
	for i := 0; i+2000 <= len(x); i += 1000 {
		if hearsTone(x[i:i+2000], hz) {
			return i
		}
	}
	return len(x)
}
