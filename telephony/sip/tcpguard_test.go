package sip

import (
	"bytes"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestFrameLen(t *testing.T) {
	const head = "BYE sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n"
	tests := []struct {
		name string
		in   string
		max  int
		want int
		err  bool
	}{
		{"no body", head + "Content-Length: 0\r\n\r\nNEXT", 1000, len(head) + 21, false},
		{"body", head + "Content-Length: 4\r\n\r\nabcdNEXT", 1000, len(head) + 25, false},
		{"compact l, odd spacing", head + "l :  4 \r\n\r\nabcd", 1000, len(head) + 15, false},
		{"no content-length means none", head + "\r\nNEXT", 1000, len(head) + 2, false},
		{"bare LF lines", "BYE sip:a@b SIP/2.0\nl: 2\n\nab", 1000, 28, false},
		{"body not all here", head + "Content-Length: 10\r\n\r\nabc", 1000, 0, false},
		{"head not all here", head + "Content-Len", 1000, 0, false},
		{"head over the limit", head + strings.Repeat("X", 200), 100, 0, true},
		{"body over the limit", head + "Content-Length: 500\r\n\r\n", 200, 0, true},
		{"negative length", head + "Content-Length: -1\r\n\r\n", 1000, 0, true},
		{"garbage length", head + "Content-Length: 1x\r\n\r\n", 1000, 0, true},
		{"huge length", head + "Content-Length: 99999999999\r\n\r\n", 1000, 0, true},
	}
	for _, tt := range tests {
		n, err := frameLen([]byte(tt.in), tt.max)
		if n != tt.want || (err != nil) != tt.err {
			t.Errorf("%s: %d, %v; want %d, error %v", tt.name, n, err, tt.want, tt.err)
		}
	}
}

func FuzzFrameLen(f *testing.F) {
	f.Add([]byte("BYE sip:a@b SIP/2.0\r\nContent-Length: 3\r\n\r\nabc"), 100)
	f.Add([]byte("INVITE x SIP/2.0\nl: 1\n\nzINVITE"), 20)
	f.Add([]byte("\r\n\r\n"), 10)
	f.Fuzz(func(t *testing.T, b []byte, max int) {
		n, err := frameLen(b, max)
		if err != nil {
			if n != 0 || !strings.HasPrefix(err.Error(), "sip: ") {
				t.Fatalf("%d with error %v", n, err)
			}
			return
		}
		limit := max
		if limit <= 0 {
			limit = 1 << 16
		}
		if n < 0 || n > len(b) || n > limit {
			t.Fatalf("frame of %d in %d bytes, limit %d", n, len(b), max)
		}
		// A frame is whole: a longer buffer frames the same message.
		if n > 0 {
			if m, err := frameLen(append(bytes.Clone(b), "EXTRA"...), max); err != nil || m != n {
				t.Fatalf("framed %d, with more bytes after it %d, %v", n, m, err)
			}
		}
	})
}

// TestGuardConnFraming writes a pipelined stream (two requests with
// bodies, CRLF keepalives between them) in chunks of every size: sipgo must
// read exactly the requests, whatever the chunking.
func TestGuardConnFraming(t *testing.T) {
	box := startBox(t, Config{}, directory{}, nil)
	msg := func(method, id, body string) string {
		return method + " sip:202@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bK-" + id + "\r\n" +
			"From: <sip:201@127.0.0.1>;tag=a\r\nTo: <sip:202@127.0.0.1>;tag=b\r\nCall-ID: " + id + "\r\nCSeq: 1 " + method + "\r\n" +
			"Content-Type: text/plain\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
	}
	a, b := msg("BYE", "f1", ""), msg("INFO", "f2", "Signal=5\r\nDuration=160\r\n")
	stream := "\r\n\r\n" + a + "\r\n\r\n" + b
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for _, chunk := range []int{1, 2, 7, 64, len(stream)} {
		client, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		server, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		gc := box.admitConn(server)
		if gc == nil {
			t.Fatal("connection refused")
		}
		go func() {
			for i := 0; i < len(stream); i += chunk {
				client.Write([]byte(stream[i:min(i+chunk, len(stream))]))
				time.Sleep(time.Millisecond)
			}
		}()
		got := make([]byte, len(a)+len(b))
		if _, err := io.ReadFull(gc, got); err != nil {
			t.Fatalf("chunks of %d: %v after %q", chunk, err, got)
		}
		if string(got) != a+b {
			t.Errorf("chunks of %d: read %q", chunk, got)
		}
		// Each double CRLF was answered with CRLF (RFC 5626 keepalive).
		pong := make([]byte, 4)
		client.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, err := io.ReadFull(client, pong); err != nil || string(pong) != "\r\n\r\n" {
			t.Errorf("chunks of %d: pongs %q, %v", chunk, pong, err)
		}
		client.Close()
		gc.Close()
	}
}
