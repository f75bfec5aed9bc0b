package imagetest

import (
	"fmt"
	"io"
	"strings"
)

// cpioEntry is one file of an initramfs (newc format), written without
// root rights: device nodes and ownership are in the archive, not on disk.
type cpioEntry struct {
	name         string
	mode         uint32 // type and permission bits
	data         []byte
	major, minor uint32 // device nodes
}

const (
	sIFDIR = 0o040000
	sIFREG = 0o100000
	sIFLNK = 0o120000
	sIFCHR = 0o020000
)

func writeCPIO(w io.Writer, entries []cpioEntry) error {
	ino := uint32(1)
	write := func(e cpioEntry) error {
		name := e.name + "\x00"
		hdr := fmt.Sprintf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
			ino, e.mode, 0, 0, 1, 0, len(e.data), 0, 0, e.major, e.minor, len(name), 0)
		ino++
		pad := func(n int) string { return strings.Repeat("\x00", (4-n%4)%4) }
		if _, err := io.WriteString(w, hdr+name+pad(len(hdr)+len(name))); err != nil {
			return err
		}
		if _, err := w.Write(e.data); err != nil {
			return err
		}
		_, err := io.WriteString(w, pad(len(e.data)))
		return err
	}
	for _, e := range entries {
		if err := write(e); err != nil {
			return err
		}
	}
	return write(cpioEntry{name: "TRAILER!!!"})
}
