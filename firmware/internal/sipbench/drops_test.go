package main

import (
	"strings"
	"testing"
)

func TestReadUDPSockets(t *testing.T) {
	const table = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
 3237: 0100007F:4E20 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1058870 2 00000000cbac73dc 0
 3238: 0200007F:9C40 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1058871 2 0000000020a65a6c 17
 bad line
`
	got := readUDPSockets(strings.NewReader(table))
	if len(got) != 2 {
		t.Fatalf("%d sockets: %v", len(got), got)
	}
	want := map[string]uint64{"127.0.0.1:20000": 0, "127.0.0.2:40000": 17}
	for _, s := range got {
		d, ok := want[s.String()]
		if !ok || d != s.drops {
			t.Errorf("socket %v drops %d", s, s.drops)
		}
	}
}
