package app

import (
	"bytes"
	"encoding/binary"
	"math"
	"mime/multipart"
	"net/http"
	"testing"
	"time"

	"callbox/board/sim/si3050sim"
	"callbox/webui"
)

// wav16kStereo is a WAV file as a person might upload it: 16 kHz, two
// channels, 16 bits, a tone of hz on both for n samples.
func wav16kStereo(hz float64, n int) []byte {
	var b bytes.Buffer
	data := n * 4
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(36+data))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(2), uint32(16000), uint32(16000 * 4), uint16(4), uint16(16)} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(data))
	for i := range n {
		v := int16(6000 * math.Sin(2*math.Pi*hz*float64(i)/16000))
		binary.Write(&b, binary.LittleEndian, []int16{v, v})
	}
	return b.Bytes()
}

// TestUploadedPromptIsHeard: a prompt uploaded as the web admin's prompts
// page sends it (a 16 kHz stereo WAV of 1900 Hz, multipart PUT to the
// prompt API) and named as the consent prompt on the retention page (PUT
// /api/v1/recording-settings) is what a caller on the line then hears
// before the agent's phone rings, converted to the box's 8 kHz.
func TestUploadedPromptIsHeard(t *testing.T) {
	if testing.Short() {
		t.Skip("app: opens sockets")
	}
	a := bootCC(t, 27900, ccTestPBX(), ccTestConfig(t))
	boss := newWebAdmin(t, a)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", "beep.wav")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(wav16kStereo(1900, 16000))
	mw.Close()
	var info webui.PromptInfo
	boss.do("PUT", "/api/v1/prompts/zh-CN/uploaded/consent", mw.FormDataContentType(), &body, http.StatusCreated, &info)
	if info.Kind != "upload" || info.DurationMS != 1000 {
		t.Fatalf("the upload: %+v", info)
	}
	var set webui.RecordingSettings
	boss.do("GET", "/api/v1/recording-settings", "", nil, http.StatusOK, &set)
	set.Consent = "uploaded/consent"
	boss.doJSON("PUT", "/api/v1/recording-settings", set, http.StatusOK)

	if !hearsBeforeAgent(t, a, 1900) {
		t.Fatal("the caller did not hear the uploaded prompt before the agent's phone rang")
	}
}

// hearsBeforeAgent rings the box on the line for agent 1088 (logged in on
// 202), waits for the menu, keys 1 for the sales group and reports
// whether the caller heard a tone of hz between the key and 202's ring.
func hearsBeforeAgent(t *testing.T, a *App, hz float64) bool {
	t.Helper()
	_, co, phone := lineCallFor1088(t, a)
	eventually(t, 15*time.Second, "the box answering the line", co.Answered)
	for try := 0; ; try++ { // the menu, half a second at a time
		co.Record(4000)
		eventually(t, 15*time.Second, "half a second heard", func() bool { return len(co.Heard()) >= 4000 })
		if containsTone(co.Heard(), ccMenuHz) {
			break
		}
		if try == 40 {
			t.Fatal("the caller never heard the menu")
		}
	}
	co.Record(8000 * 20)
	if err := co.SendDTMF("1"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "202 ringing", phone.Ringing)
	heard := containsTone(co.Heard(), hz)
	if err := co.Hangup(si3050sim.BusyTone, 0); err != nil {
		t.Fatal(err)
	}
	return heard
}
