package sdpneg

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

var box = Local{Addr: netip.MustParseAddrPort("127.0.0.1:20000"), DTMFPT: DefaultDTMFPT, SessionID: 7, Version: 1}

func sdpOf(lines ...string) []byte {
	return []byte(strings.Join(lines, "\r\n") + "\r\n")
}

func head(c string) []string {
	return []string{"v=0", "o=- 1 1 IN IP4 " + c, "s=-", "c=IN IP4 " + c, "t=0 0"}
}

func TestAnswer(t *testing.T) {
	tests := []struct {
		name    string
		offer   []byte
		local   Local
		err     error
		codec   Codec
		dtmf    uint8
		ptime   int
		dir     Direction
		remote  string
		mlines  int
		inReply []string
	}{
		{name: "sipp default", offer: sdpOf(append(head("10.0.0.2"), "m=audio 6000 RTP/AVP 0", "a=rtpmap:0 PCMU/8000")...),
			codec: PCMU, ptime: 20, dir: SendRecv, remote: "10.0.0.2:6000", mlines: 1, inReply: []string{"m=audio 20000 RTP/AVP 0\r\n", "a=ptime:20", "a=sendrecv"}},
		{name: "pcma preferred by offerer", offer: sdpOf(append(head("10.0.0.2"), "m=audio 6000 RTP/AVP 8 0 96", "a=rtpmap:96 telephone-event/8000", "a=ptime:30")...),
			codec: PCMA, dtmf: 96, ptime: 30, dir: SendRecv, remote: "10.0.0.2:6000", mlines: 1, inReply: []string{"RTP/AVP 8 96\r\n", "a=rtpmap:96 telephone-event/8000", "a=ptime:30"}},
		{name: "unsupported ptime falls back to ours", offer: sdpOf(append(head("10.0.0.2"), "m=audio 6000 RTP/AVP 0", "a=ptime:40")...),
			codec: PCMU, ptime: 20, dir: SendRecv, remote: "10.0.0.2:6000", mlines: 1},
		{name: "ptime 10", offer: sdpOf(append(head("10.0.0.2"), "m=audio 6000 RTP/AVP 0", "a=ptime:10")...),
			codec: PCMU, ptime: 10, dir: SendRecv, remote: "10.0.0.2:6000", mlines: 1},
		{name: "only g729", offer: sdpOf(append(head("10.0.0.2"), "m=audio 6000 RTP/AVP 18", "a=rtpmap:18 G729/8000")...), err: ErrNoCodec},
		{name: "video only", offer: sdpOf(append(head("10.0.0.2"), "m=video 6002 RTP/AVP 96", "a=rtpmap:96 H264/90000")...), err: ErrNoCodec},
		{name: "srtp audio is not ours", offer: sdpOf(append(head("10.0.0.2"), "m=audio 6000 RTP/SAVP 0")...), err: ErrNoCodec},
		{name: "box restricted to pcma", offer: sdpOf(append(head("10.0.0.2"), "m=audio 6000 RTP/AVP 0")...), local: Local{Codecs: []Codec{PCMA}}, err: ErrNoCodec},
		{name: "video rejected, audio second", offer: sdpOf(append(head("10.0.0.2"), "m=video 6002 RTP/AVP 96", "m=audio 6000 RTP/AVP 0 101", "c=IN IP4 10.0.0.9", "a=rtpmap:101 telephone-event/8000")...),
			codec: PCMU, dtmf: 101, ptime: 20, dir: SendRecv, remote: "10.0.0.9:6000", mlines: 2, inReply: []string{"m=video 0 RTP/AVP 96\r\nm=audio 20000"}},
		{name: "held sendonly", offer: sdpOf(append(head("10.0.0.2"), "m=audio 6000 RTP/AVP 0", "a=sendonly")...),
			codec: PCMU, ptime: 20, dir: RecvOnly, remote: "10.0.0.2:6000", mlines: 1, inReply: []string{"a=recvonly"}},
		{name: "held inactive at session level", offer: sdpOf(append(head("10.0.0.2"), "a=inactive", "m=audio 6000 RTP/AVP 0")...),
			codec: PCMU, ptime: 20, dir: Inactive, remote: "10.0.0.2:6000", mlines: 1, inReply: []string{"a=inactive"}},
		{name: "rfc2543 hold", offer: sdpOf(append(head("0.0.0.0"), "m=audio 6000 RTP/AVP 0")...),
			codec: PCMU, ptime: 20, dir: RecvOnly, remote: "0.0.0.0:6000", mlines: 1},
		{name: "we hold, peer sendrecv", offer: sdpOf(append(head("10.0.0.2"), "m=audio 6000 RTP/AVP 0")...), local: Local{Direction: SendOnly},
			codec: PCMU, ptime: 20, dir: SendOnly, remote: "10.0.0.2:6000", mlines: 1},
		{name: "no connection", offer: sdpOf("v=0", "o=- 1 1 IN IP4 1.2.3.4", "s=-", "t=0 0", "m=audio 6000 RTP/AVP 0"), err: ErrSyntax},
		{name: "garbage", offer: []byte("hello"), err: ErrSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := box
			if tt.local.Codecs != nil {
				l.Codecs = tt.local.Codecs
			}
			if tt.local.Direction != "" {
				l.Direction = tt.local.Direction
			}
			ans, m, err := Answer(tt.offer, l)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Codec != tt.codec || m.DTMFPT != tt.dtmf || m.Ptime != tt.ptime || m.Direction != tt.dir || m.Remote.String() != tt.remote {
				t.Fatalf("media %+v", m)
			}
			if n := strings.Count(string(ans), "m="); n != tt.mlines {
				t.Errorf("answer has %d m-lines, want %d:\n%s", n, tt.mlines, ans)
			}
			for _, s := range tt.inReply {
				if !strings.Contains(string(ans), s) {
					t.Errorf("answer lacks %q:\n%s", s, ans)
				}
			}
		})
	}
}

func TestOfferAnswerAccept(t *testing.T) {
	uac := Local{Addr: netip.MustParseAddrPort("192.0.2.1:4000"), Codecs: []Codec{PCMA, PCMU}, DTMFPT: 101, Ptime: 30}
	uas := Local{Addr: netip.MustParseAddrPort("192.0.2.2:5000"), DTMFPT: 101}
	for _, dir := range []Direction{SendRecv, SendOnly, Inactive} {
		uac.Direction = dir
		ans, mAns, err := Answer(Offer(uac), uas)
		if err != nil {
			t.Fatal(err)
		}
		mOff, err := Accept(ans, uac)
		if err != nil {
			t.Fatal(err)
		}
		if mOff.Codec != PCMA || mAns.Codec != PCMA || mOff.Ptime != 30 || mAns.Ptime != 30 || mOff.DTMFPT != 101 || mAns.DTMFPT != 101 {
			t.Fatalf("offerer %+v answerer %+v", mOff, mAns)
		}
		if mOff.Remote != uas.Addr || mAns.Remote != uac.Addr {
			t.Fatalf("addresses: offerer %+v answerer %+v", mOff, mAns)
		}
		if mOff.Direction != dir || mAns.Direction != dir.reverse() {
			t.Fatalf("%s: offerer %s answerer %s", dir, mOff.Direction, mAns.Direction)
		}
	}
	if _, err := Accept(sdpOf(append(head("1.1.1.1"), "m=audio 1 RTP/AVP 18")...), uac); !errors.Is(err, ErrNoCodec) {
		t.Fatalf("accept of g729: %v", err)
	}
}

func FuzzAnswer(f *testing.F) {
	f.Add(string(sdpOf(append(head("10.0.0.2"), "m=audio 6000 RTP/AVP 8 0 96", "a=rtpmap:96 telephone-event/8000", "a=ptime:30")...)))
	f.Add(string(sdpOf(append(head("10.0.0.2"), "m=video 6002 RTP/AVP 96", "m=audio 6000 RTP/AVP 0 101", "a=sendonly")...)))
	f.Add(string(Offer(box)))
	f.Add("v=0\r\nm=audio x RTP/AVP\r\n")
	f.Fuzz(func(t *testing.T, offer string) {
		ans, m, err := Answer([]byte(offer), box)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "sdpneg: ") {
				t.Fatalf("unprefixed error %v", err)
			}
			return
		}
		if m.Codec != PCMU && m.Codec.Name != "PCMU" && m.Codec.Name != "PCMA" {
			t.Fatalf("negotiated %+v", m)
		}
		if m.Ptime != 10 && m.Ptime != 20 && m.Ptime != 30 {
			t.Fatalf("ptime %d", m.Ptime)
		}
		// The answer must be valid SDP that the offerer side can accept with
		// the same codec, payload type and ptime.
		back, err := Accept(ans, Local{Codecs: []Codec{m.Codec}, DTMFPT: m.DTMFPT, Ptime: m.Ptime})
		if err != nil {
			t.Fatalf("answer does not parse back: %v\n%s", err, ans)
		}
		if back.Codec != m.Codec || back.Ptime != m.Ptime || back.Remote != box.Addr {
			t.Fatalf("answer says %+v, negotiated %+v", back, m)
		}
	})
}

func BenchmarkAnswer(b *testing.B) {
	offer := sdpOf(append(head("10.0.0.2"), "m=audio 6000 RTP/AVP 8 0 96", "a=rtpmap:96 telephone-event/8000", "a=ptime:20")...)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Answer(offer, box); err != nil {
			b.Fatal(err)
		}
	}
}
