package t4

// bitWriter appends bits to a byte slice, most significant bit first.
type bitWriter struct {
	buf  []byte
	acc  uint64 // pending bits, right-aligned
	nacc uint   // how many
	bits int    // bits written in the current row (for fill)
}

func (w *bitWriter) put(c code) {
	w.acc = w.acc<<c.n | uint64(c.bits)
	w.nacc += uint(c.n)
	w.bits += int(c.n)
	for w.nacc >= 8 {
		w.nacc -= 8
		w.buf = append(w.buf, byte(w.acc>>w.nacc))
	}
}

// zeros writes n zero bits.
func (w *bitWriter) zeros(n int) {
	for n > 0 {
		k := min(n, 24)
		w.put(code{0, uint8(k)})
		n -= k
	}
}

// align pads with zeros to a byte boundary.
func (w *bitWriter) align() {
	if w.nacc > 0 {
		w.zeros(8 - int(w.nacc))
	}
}

// alignBefore pads with zeros so that a code of n bits written next ends on
// a byte boundary (T.4's byte-aligned EOL).
func (w *bitWriter) alignBefore(n int) {
	if pad := (8 - (int(w.nacc)+n)%8) % 8; pad > 0 {
		w.zeros(pad)
	}
}

// flush writes out the last partial byte, padded with zeros.
func (w *bitWriter) flush() []byte {
	w.align()
	return w.buf
}

// bitReader reads bits most significant first from a buffer; past its end
// it reads zeros and reports the overrun.
type bitReader struct {
	data []byte
	pos  int    // next byte to load
	acc  uint64 // bits loaded, left-aligned
	nacc uint
	used int // bits consumed
}

func (r *bitReader) reset(data []byte) { *r = bitReader{data: data} }

// fill loads bytes until at least 32 bits are buffered (or data runs out).
func (r *bitReader) fill() {
	for r.nacc <= 56 && r.pos < len(r.data) {
		r.acc |= uint64(r.data[r.pos]) << (56 - r.nacc)
		r.pos++
		r.nacc += 8
	}
}

// peek returns the next n (at most 32) bits, right-aligned.
func (r *bitReader) peek(n uint) uint32 {
	if r.nacc < n {
		r.fill()
	}
	return uint32(r.acc >> (64 - n))
}

func (r *bitReader) skip(n uint) {
	if r.nacc < n {
		r.fill()
	}
	if r.nacc < n {
		// Reading past the end: count it, so callers see the overrun.
		r.used += int(n)
		r.acc, r.nacc = 0, 0
		return
	}
	r.acc <<= n
	r.nacc -= n
	r.used += int(n)
}

// bitsLeft is how many bits remain.
func (r *bitReader) bitsLeft() int { return 8*len(r.data) - r.used }

// alignByte skips to the next byte boundary.
func (r *bitReader) alignByte() {
	if k := r.used % 8; k != 0 {
		r.skip(uint(8 - k))
	}
}
