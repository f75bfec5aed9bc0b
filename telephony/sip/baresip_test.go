package sip

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"callbox/telephony/sip/digest"
	"callbox/telephony/sip/sdpneg"
)

// baresip starts the baresip softphone (Debian package baresip) registered
// to the box as ext, running the given commands, for at most secs seconds.
func baresip(t *testing.T, box netip.AddrPort, ext, pass string, secs int, cmds ...string) (port int, wait func() []byte) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts baresip and opens sockets")
	}
	bin, err := exec.LookPath("baresip")
	if err != nil {
		t.Fatal("baresip not found: install the Debian package baresip")
	}
	// An 8 kHz prompt as the microphone (ausine only does 48 kHz).
	const prompt = "/usr/share/asterisk/sounds/en/demo-congrats.wav"
	if _, err := os.Stat(prompt); err != nil {
		t.Fatal("no 8 kHz prompt: install the Debian package asterisk-core-sounds-en-wav")
	}
	dir := t.TempDir()
	port = freeUDPPort(t)
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
`, port, filepath.Join(dir, "play.wav"), prompt, filepath.Join(dir, "alert.wav"))
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
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
		if t.Failed() {
			t.Logf("baresip output:\n%s", out.String())
		}
	})
	return port, func() []byte {
		cmd.Process.Signal(os.Interrupt) // baresip unregisters and quits
		cmd.Wait()
		return out.Bytes()
	}
}

func TestBaresipRegistersAndCalls(t *testing.T) {
	box := startBox(t, Config{AuthenticateCalls: true, DigestAlgorithms: []digest.Algorithm{digest.MD5}}, directory{"201": "pw201"}, answering)
	_, wait := baresip(t, box.UDPAddr(), "201", "pw201", 4, "/dial sip:202@"+box.UDPAddr().String())
	// baresip may dial before its REGISTER is through: take both in any order.
	evs := box.rec.all(t, 5*time.Second, "registered", "offered", "answered")
	if reg := evs["registered"]; reg.bind.Extension != "201" || reg.bind.UserAgent == "" {
		t.Errorf("binding %+v", reg.bind)
	}
	l := evs["offered"].leg
	if evs["answered"].leg != l {
		t.Fatal("another leg answered")
	}
	if m, ok := l.Media(); !ok || (m.Codec.Name != "PCMU" && m.Codec.Name != "PCMA") || m.Remote.Port() == 0 {
		t.Errorf("media %+v", m)
	}
	time.Sleep(300 * time.Millisecond)
	if l.State() != StateConfirmed {
		t.Fatalf("call not up: %v", l.State())
	}
	if err := l.Hangup(); err != nil {
		t.Fatal(err)
	}
	if ev := box.rec.next(t, "hungup", time.Second); ev.cause != CauseNormal {
		t.Errorf("cause %v", ev.cause)
	}

	// Called: the box rings baresip, which answers by itself.
	out, err := box.Dial(context.Background(), DialRequest{Extension: "201", From: Party{User: "300", Display: "Queue"}})
	if err != nil {
		t.Fatal(err)
	}
	if ev := box.rec.next(t, "answered", 5*time.Second); ev.leg != out {
		t.Fatal("another leg answered")
	}
	if m, ok := out.Media(); !ok || m.Codec != sdpneg.PCMU || m.Remote.Port() == 0 {
		t.Errorf("outbound media %+v", m)
	}
	time.Sleep(200 * time.Millisecond)
	out.Hangup()
	if ev := box.rec.next(t, "hungup", time.Second); ev.leg != out || ev.cause != CauseNormal {
		t.Errorf("outbound hangup %v", ev.cause)
	}
	log := wait()
	box.rec.next(t, "unregistered:unregistered", 3*time.Second)
	if bytes.Count(log, []byte("Call established")) != 2 || bytes.Count(log, []byte("session closed")) != 2 {
		t.Errorf("baresip did not see two calls established and closed:\n%s", log)
	}
}
