// Package siptest runs real SIP peers for tests: the baresip softphone
// (Debian package baresip) registered to the box under test.
package siptest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"callbox/dsp/wav/wavtest"
)

// Baresip is a running baresip softphone.
type Baresip struct {
	t       testing.TB
	dir     string
	cmd     *exec.Cmd
	cancel  context.CancelFunc
	out     bytes.Buffer
	stopped bool
}

// StartBaresip runs baresip listening on 127.0.0.1:port, registered to box
// ("host:port") as ext with password pass, answering calls by itself,
// running cmds (such as "/dial sip:202@box") at start, for at most secs
// seconds. It skips under -short and fails naming the Debian package when
// baresip or the prompts are missing. The test's cleanup stops it and logs
// its output if the test failed.
func StartBaresip(t testing.TB, box string, port int, ext, pass string, secs int, cmds ...string) *Baresip {
	t.Helper()
	if testing.Short() {
		t.Skip("siptest: starts baresip and opens sockets")
	}
	// An 8 kHz recording is baresip's microphone (its ausine source only
	// does 48 kHz).
	return StartBaresipAudio(t, box, port, ext, pass, secs, wavtest.Prompt(t, "demo-congrats"), cmds...)
}

// StartBaresipAudio is StartBaresip with source, an 8 kHz mono WAV file,
// as the microphone; what the phone hears is written to Played.
func StartBaresipAudio(t testing.TB, box string, port int, ext, pass string, secs int, source string, cmds ...string) *Baresip {
	t.Helper()
	if testing.Short() {
		t.Skip("siptest: starts baresip and opens sockets")
	}
	bin, err := exec.LookPath("baresip")
	if err != nil {
		t.Fatal("siptest: baresip not found: install the Debian package baresip")
	}
	prompt := source
	dir := t.TempDir()
	config := fmt.Sprintf(`poll_method epoll
sip_listen 127.0.0.1:%d
net_interface 127.0.0.1
sip_trans_def udp
audio_player aufile,%s
audio_source aufile,%s
audio_alert aufile,%s
audio_srate 8000
audio_channels 1
module_path /usr/lib/baresip/modules
module g711.so
module aufile.so
module sndfile.so
snd_path %s
module_app account.so
module_app menu.so
`, port, filepath.Join(dir, "play.wav"), prompt, filepath.Join(dir, "alert.wav"), dir)
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
	b := &Baresip{t: t, dir: dir, cmd: exec.CommandContext(ctx, bin, args...), cancel: cancel}
	b.cmd.Stdout, b.cmd.Stderr = &b.out, &b.out
	if err := b.cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		b.Stop()
		if t.Failed() {
			t.Logf("baresip output:\n%s", b.out.String())
		}
	})
	return b
}

// Played is the WAV file of what the phone heard in its last call, as
// baresip's sndfile module dumps it (complete once Stop returned; "" when
// there is none).
func (b *Baresip) Played() string {
	m, _ := filepath.Glob(filepath.Join(b.dir, "*dec.wav"))
	if len(m) == 0 {
		return ""
	}
	return m[len(m)-1]
}

// Stop ends baresip (it unregisters and quits on an interrupt), waits for
// it and returns its output. Calling it again returns the same output.
func (b *Baresip) Stop() []byte {
	if !b.stopped {
		b.stopped = true
		_ = b.cmd.Process.Signal(os.Interrupt)
		_ = b.cmd.Wait()
		b.cancel()
	}
	return b.out.Bytes()
}
