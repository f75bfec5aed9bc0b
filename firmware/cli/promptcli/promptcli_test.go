package promptcli

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"callbox/dsp/wav"
	"callbox/firmware/cli"
)

func runCmd(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := Command.Run(context.Background(), args, cli.IO{In: strings.NewReader(""), Out: &out, Err: &errb})
	return code, out.String(), errb.String()
}

func TestSay(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"say", "agent", "1088"}, 0, "num/1-yao num/0 num/8 num/8 agent/serve\n幺零八八号客服代表为您服务。\n"},
		{[]string{"say", "--lang", "en", "position", "3"}, 0, "queue/position num/3 queue/position-end\nYou are number three in the queue.\n"},
		{[]string{"say", "number", "1005", "--lang", "zh"}, 0, "num/1 num/1000 num/0 num/5\n一千零五\n"},
		{[]string{"say", "--lang", "en", "wait", "2"}, 0, "queue/wait num/2 time/minutes\nThe estimated waiting time is two minutes\n"},
		{[]string{"say", "messages", "2"}, 0, "vm/you-have num/2-liang vm/new-messages\n您有两条新留言。\n"},
		{[]string{"say", "number", "x"}, 2, ""},
		{[]string{"say", "--lang", "fr", "number", "1"}, 2, ""},
		{[]string{"say", "sing", "1"}, 2, ""},
		{[]string{"bogus"}, 2, ""},
	}
	for _, tt := range tests {
		code, out, stderr := runCmd(tt.args...)
		if code != tt.code || out != tt.want {
			t.Errorf("%v: exit %d, output %q (%s); want %d, %q", tt.args, code, out, stderr, tt.code, tt.want)
		}
	}
	if code, out, _ := runCmd("help"); code != 0 || !strings.Contains(out, "callboxctl prompts generate") {
		t.Errorf("help: %d %q", code, out)
	}
}

// TestConvert converts a 44.1 kHz stereo 24-bit file as an upload would
// be; sox agrees on what comes out.
func TestConvert(t *testing.T) {
	dir := t.TempDir()
	var data []byte
	for i := range 44100 {
		v := int32(4_000_000 * math.Sin(2*math.Pi*440*float64(i)/44100))
		for range 2 {
			data = append(data, byte(v), byte(v>>8), byte(v>>16))
		}
	}
	le := binary.LittleEndian
	file := le.AppendUint32([]byte("RIFF"), uint32(36+len(data)))
	file = append(file, "WAVEfmt "...)
	file = le.AppendUint32(file, 16)
	for _, v := range []uint16{1, 2} {
		file = le.AppendUint16(file, v)
	}
	file = le.AppendUint32(file, 44100)
	file = le.AppendUint32(file, 44100*6)
	file = le.AppendUint16(file, 6)
	file = le.AppendUint16(file, 24)
	file = append(le.AppendUint32(append(file, "data"...), uint32(len(data))), data...)
	in, out := filepath.Join(dir, "in.wav"), filepath.Join(dir, "out.wav")
	if err := os.WriteFile(in, file, 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCmd("convert", in, out)
	if code != 0 || !strings.Contains(stdout, "PCM, 44100 Hz, 2 channel(s), 24 bits -> ") || !strings.Contains(stdout, "1.00 s") {
		t.Fatalf("exit %d: %s%s", code, stdout, stderr)
	}
	b, _ := os.ReadFile(out)
	if s, err := wav.Decode(b); err != nil || len(s) != 8000 {
		t.Fatalf("output: %d samples, %v", len(s), err)
	}
	if code, _, stderr := runCmd("convert", out+".missing", out); code != 1 || !strings.Contains(stderr, "no such file") {
		t.Fatalf("missing input: %d %s", code, stderr)
	}
	os.WriteFile(in, []byte("ID3 not a wav"), 0o644)
	if code, _, stderr := runCmd("convert", in, out); code != 1 || !strings.Contains(stderr, "not a WAV file") {
		t.Fatalf("bad input: %d %s", code, stderr)
	}
}

// TestGenerateAndList runs what make prompts runs, with the real
// espeak-ng, and lists the result.
func TestGenerateAndList(t *testing.T) {
	if testing.Short() {
		t.Skip("runs espeak-ng")
	}
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		t.Fatalf("espeak-ng not found (apt-get install espeak-ng, or make deps): %v", err)
	}
	data := t.TempDir()
	code, out, stderr := runCmd("list", "--data", data, "--lang", "en")
	if code != 0 || !strings.Contains(out, "missing") {
		t.Fatalf("list before generating: %d %s%s", code, out, stderr)
	}
	code, out, stderr = runCmd("generate", "--data", data)
	if code != 0 || !strings.Contains(out, " made, 0 unchanged, 0 removed in ") || !strings.Contains(out, "-v cmn-latn-pinyin") {
		t.Fatalf("generate: %d %s%s", code, out, stderr)
	}
	code, out, _ = runCmd("generate", "--data", data)
	if code != 0 || !strings.Contains(out, "prompts: 0 made, ") {
		t.Fatalf("generate again: %d %s", code, out)
	}
	code, out, _ = runCmd("list", "--data", data, "--lang", "zh-CN")
	if code != 0 || strings.Contains(out, "missing") || !strings.Contains(out, "您好，欢迎致电。") {
		t.Fatalf("list after generating: %d %s", code, out)
	}
	// The image build's form: into a directory of system prompts.
	image := filepath.Join(t.TempDir(), "usr/share/callbox/prompts")
	code, out, stderr = runCmd("generate", "--out", image)
	if code != 0 || !strings.Contains(out, " 0 unchanged, 0 removed in "+image) {
		t.Fatalf("generate --out: %d %s%s", code, out, stderr)
	}
	code, out, _ = runCmd("list", "--data", t.TempDir(), "--system", image, "--lang", "en")
	if code != 0 || strings.Contains(out, "missing") || !strings.Contains(out, "Hello, and thank you for calling.") {
		t.Fatalf("list of the image's prompts: %d %s", code, out)
	}
	t.Setenv("PATH", t.TempDir())
	if code, _, stderr := runCmd("generate", "--data", data); code != 1 || !strings.Contains(stderr, "install espeak-ng") {
		t.Fatalf("generate without espeak-ng: %d %s", code, stderr)
	}
}
