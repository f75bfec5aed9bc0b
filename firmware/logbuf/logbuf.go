// Package logbuf keeps the last lines the daemon logged, so the serial
// console's "logs" command can show them without a log file on flash.
package logbuf

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
)

// Buffer is a fixed-size ring of formatted log lines. It is safe for
// concurrent use.
type Buffer struct {
	mu    sync.Mutex
	lines []string
	next  int
	full  bool
}

// New returns a Buffer that keeps the last n lines (n >= 1).
func New(n int) *Buffer {
	return &Buffer{lines: make([]string, max(n, 1))}
}

// Write appends p, split into lines; it implements io.Writer so a
// slog.TextHandler can format into it.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		b.lines[b.next] = line
		b.next++
		if b.next == len(b.lines) {
			b.next, b.full = 0, true
		}
	}
	return len(p), nil
}

// Last returns up to n of the most recent lines, oldest first.
func (b *Buffer) Last(n int) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	count := b.next
	if b.full {
		count = len(b.lines)
	}
	n = min(max(n, 0), count)
	out := make([]string, 0, n)
	for i := count - n; i < count; i++ {
		idx := i
		if b.full {
			idx = (b.next + i) % len(b.lines)
		}
		out = append(out, b.lines[idx])
	}
	return out
}

// Tee is a slog.Handler that hands each record to the primary handler and
// also formats it as text into a Buffer.
type Tee struct {
	primary slog.Handler
	text    slog.Handler
}

// NewTee returns a handler logging to primary and, at the same level, into buf.
func NewTee(primary slog.Handler, buf *Buffer, level slog.Leveler) *Tee {
	return &Tee{primary: primary, text: slog.NewTextHandler(lineWriter{buf}, &slog.HandlerOptions{Level: level})}
}

// Enabled reports whether either handler wants the level.
func (t *Tee) Enabled(ctx context.Context, l slog.Level) bool {
	return t.primary.Enabled(ctx, l) || t.text.Enabled(ctx, l)
}

// Handle passes the record to both handlers.
func (t *Tee) Handle(ctx context.Context, r slog.Record) error {
	var err error
	if t.primary.Enabled(ctx, r.Level) {
		err = t.primary.Handle(ctx, r.Clone())
	}
	if t.text.Enabled(ctx, r.Level) {
		_ = t.text.Handle(ctx, r) // the ring cannot fail
	}
	return err
}

// WithAttrs returns a Tee whose handlers both carry attrs.
func (t *Tee) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &Tee{primary: t.primary.WithAttrs(attrs), text: t.text.WithAttrs(attrs)}
}

// WithGroup returns a Tee whose handlers both open the group.
func (t *Tee) WithGroup(name string) slog.Handler {
	return &Tee{primary: t.primary.WithGroup(name), text: t.text.WithGroup(name)}
}

// lineWriter drops the trailing newline slog writes.
type lineWriter struct{ b *Buffer }

func (w lineWriter) Write(p []byte) (int, error) {
	return w.b.Write(bytes.TrimRight(p, "\n"))
}
