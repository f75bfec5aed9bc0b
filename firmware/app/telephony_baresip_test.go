package app

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"callbox/dsp/tone"
)

// startBaresip runs the baresip softphone (Debian package baresip)
// registered to the box as ext with auto-answer, its microphone an 8 kHz
// prompt, running cmds at start, for at most secs seconds. stop ends it
// (it unregisters) and returns its output.
func startBaresip(t *testing.T, box, ext, pass string, secs int, cmds ...string) (stop func() []byte) {
	t.Helper()
	if testing.Short() {
		t.Skip("app: starts baresip and opens sockets")
	}
	bin, err := exec.LookPath("baresip")
	if err != nil {
		t.Fatal("baresip not found: install the Debian package baresip")
	}
	const prompt = "/usr/share/asterisk/sounds/en/demo-congrats.wav"
	if _, err := os.Stat(prompt); err != nil {
		t.Fatal("no 8 kHz prompt: install the Debian package asterisk-core-sounds-en-wav")
	}
	dir := t.TempDir()
	config := fmt.Sprintf(`poll_method epoll
sip_listen 127.0.0.1:%d
sip_trans_def udp
audio_player aufile,%s
audio_source aufile,%s
audio_alert aufile,%s
audio_srate 8000
audio_channels 1
module_path /usr/lib/baresip/modules
module g711.so
module aufile.so
module_app account.so
module_app menu.so
`, freeUDP(t), filepath.Join(dir, "play.wav"), prompt, filepath.Join(dir, "alert.wav"))
	account := fmt.Sprintf("<sip:%s@%s>;auth_pass=%s;regint=60;answermode=auto;audio_codecs=PCMU,PCMA\n", ext, box, pass)
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "accounts"), []byte(account), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"-f", dir, "-t", strconv.Itoa(secs)}
	for _, c := range cmds {
		args = append(args, "-e", c)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(secs+5)*time.Second)
	cmd := exec.CommandContext(ctx, bin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	stopped := false
	stop = func() []byte {
		if !stopped {
			stopped = true
			_ = cmd.Process.Signal(os.Interrupt) // baresip unregisters and quits
			_ = cmd.Wait()
			cancel()
		}
		return out.Bytes()
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("baresip output:\n%s", out.String())
		}
	})
	return stop
}

// baresip registered as extension 301 calls analog 202, then analog 201
// calls it (it answers by itself); both calls are answered, carry RTP both
// ways and leave answered CDRs.
func TestBaresipCallsAndIsCalled(t *testing.T) {
	if testing.Short() {
		t.Skip("app: starts baresip and opens sockets")
	}
	t.Parallel() // each test has its own daemon, ports and RTP range
	a := bootTelephony(t, 23000)
	tel := a.telephony()
	box := tel.sipAddr(true)
	sb := a.livePorts().Sim()
	stop := startBaresip(t, box, "301", "secret-301-pw", 30, "/dial sip:202@"+box)

	p202 := sb.Phone("fxs2")
	eventually(t, 12*time.Second, "202 ringing with caller ID 301", func() bool {
		cid := p202.CallerID()
		return len(cid) > 0 && p202.Ringing()
	})
	if cid := p202.CallerID(); cid[0].Number != "301" {
		t.Errorf("202 read caller ID %+v", cid)
	}
	p202.OffHook()
	time.Sleep(1500 * time.Millisecond)
	p202.OnHook()
	c := cdrFrom(t, a, "301")
	if c.Disposition != "answered" || c.To != "202" || c.Legs[0].Kind != "sip" {
		t.Fatalf("CDR of 301 -> 202: %+v", c)
	}

	eventually(t, 5*time.Second, "301 registered", func() bool { return len(tel.ep.Contacts("301")) == 1 })
	p201 := sb.Phone("fxs1")
	p201.OffHook()
	eventually(t, 3*time.Second, "dial tone at 201", func() bool {
		tones, err := p201.HeardTones("CN")
		return err == nil && slices.Contains(tones, tone.Dial)
	})
	if err := p201.Dial("301"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "baresip answering 201", func() bool {
		s := a.TelephonyStatus()
		return s.ActiveCalls == 1 && s.RTPInUse == 1
	})
	time.Sleep(1500 * time.Millisecond)
	p201.OnHook()
	c = cdrFrom(t, a, "201")
	if c.Disposition != "answered" || c.To != "301" || c.Legs[1].Kind != "sip" {
		t.Fatalf("CDR of 201 -> 301: %+v", c)
	}
	eventually(t, 3*time.Second, "both SIP streams closed", func() bool { return len(tel.rtp.endedStats()) == 2 })
	for i, s := range tel.rtp.endedStats() {
		if s.PacketsSent < 40 || s.PacketsReceived < 40 {
			t.Errorf("call %d: %d RTP packets out, %d in; want audio both ways", i+1, s.PacketsSent, s.PacketsReceived)
		}
	}
	log := stop()
	if n := bytes.Count(log, []byte("Call established")); n != 2 {
		t.Errorf("baresip saw %d calls established, want 2:\n%s", n, log)
	}
}
