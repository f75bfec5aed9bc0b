package store

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
)

// checkPages checks the page tree of a bbolt file by reading it with
// ReadAt, before anything dereferences it through the memory map. bbolt
// trusts its pages: a damaged child pointer makes a cursor loop forever or
// a wild key offset faults outside the map, and neither is a recoverable
// panic. Here every page reachable from the meta page of transaction txid
// must be in range, of the right kind, reached once, with its elements'
// keys and values inside it.
//
// The layout is bbolt's on-disk format version 2 (unchanged since boltdb):
// a 16-byte page header (id u64, flags u16, count u16, overflow u32), then
// 16-byte elements; branch {pos, ksize u32, pgid u64}, leaf {flags, pos,
// ksize, vsize u32}, pos counted from the element itself; a bucket value
// is {root pgid, sequence u64} followed, when root is 0, by an inline page.
func checkPages(f io.ReaderAt, txid uint64) error {
	m, err := activeMeta(f, txid)
	if err != nil {
		return err
	}
	c := &pageChecker{f: f, meta: m, seen: make(map[uint64]bool)}
	if err := c.tree(m.root, 0); err != nil {
		return err
	}
	return c.freelist()
}

const (
	pageHeaderSize = 16
	elementSize    = 16
	branchFlag     = 0x01
	leafFlag       = 0x02
	metaFlag       = 0x04
	freelistFlag   = 0x10
	bucketFlag     = 0x01
	noFreelist     = ^uint64(0)
	maxDepth       = 64 // far beyond any real tree; stops runaway recursion
)

var le = binary.NativeEndian // bbolt writes its pages in the machine's order

type metaPage struct {
	pageSize uint64
	root     uint64 // root of the tree of top-level buckets
	freelist uint64
	pgid     uint64 // high-water mark: pages in use are below it
}

// activeMeta finds the meta page (0 or 1) that bbolt opened, by its txid.
func activeMeta(f io.ReaderAt, txid uint64) (metaPage, error) {
	var b [pageHeaderSize + 64]byte
	// Meta pages sit at 0 and at one page size; read 0 first to learn it.
	var pageSize uint64
	for i := range 2 {
		if _, err := f.ReadAt(b[:], int64(uint64(i)*pageSize)); err != nil {
			return metaPage{}, fmt.Errorf("%w: meta page %d: %w", ErrCorrupt, i, err)
		}
		m := b[pageHeaderSize:]
		ps := uint64(le.Uint32(m[8:]))
		if i == 0 {
			pageSize = ps
			if ps < 512 || ps > 1<<20 {
				return metaPage{}, fmt.Errorf("%w: page size %d", ErrCorrupt, ps)
			}
		}
		if le.Uint16(b[8:])&metaFlag == 0 || le.Uint64(m[48:]) != txid {
			continue
		}
		mp := metaPage{pageSize: ps, root: le.Uint64(m[16:]), freelist: le.Uint64(m[32:]), pgid: le.Uint64(m[40:])}
		if mp.pageSize != pageSize {
			return metaPage{}, fmt.Errorf("%w: meta pages disagree on the page size", ErrCorrupt)
		}
		return mp, nil
	}
	return metaPage{}, fmt.Errorf("%w: no meta page for transaction %d", ErrCorrupt, txid)
}

type pageChecker struct {
	f    io.ReaderAt
	meta metaPage
	seen map[uint64]bool
}

// page reads a page's header and element table and checks its id and
// extent. It returns the flags, the element count, the bytes read, and the
// page's size in bytes including overflow.
func (c *pageChecker) page(id uint64) (flags uint16, data []byte, span uint64, err error) {
	if id < 2 || id >= c.meta.pgid {
		return 0, nil, 0, fmt.Errorf("%w: page %d outside 2..%d", ErrCorrupt, id, c.meta.pgid-1)
	}
	if c.seen[id] {
		return 0, nil, 0, fmt.Errorf("%w: page %d reached twice", ErrCorrupt, id)
	}
	var h [pageHeaderSize]byte
	off := int64(id * c.meta.pageSize)
	if _, err := c.f.ReadAt(h[:], off); err != nil {
		return 0, nil, 0, fmt.Errorf("%w: page %d: %w", ErrCorrupt, id, err)
	}
	overflow := uint64(le.Uint32(h[12:]))
	if le.Uint64(h[0:]) != id || id+overflow >= c.meta.pgid {
		return 0, nil, 0, fmt.Errorf("%w: page %d header damaged", ErrCorrupt, id)
	}
	for p := id; p <= id+overflow; p++ {
		if c.seen[p] {
			return 0, nil, 0, fmt.Errorf("%w: page %d overlaps page %d", ErrCorrupt, id, p)
		}
		c.seen[p] = true
	}
	span = (1 + overflow) * c.meta.pageSize
	n := pageHeaderSize + uint64(le.Uint16(h[10:]))*elementSize
	if le.Uint16(h[8:])&freelistFlag != 0 {
		n = pageHeaderSize + 8 // the overflowed count, if any
	}
	if n > span {
		return 0, nil, 0, fmt.Errorf("%w: page %d: %d elements overrun it", ErrCorrupt, id, le.Uint16(h[10:]))
	}
	data = make([]byte, n)
	if _, err := c.f.ReadAt(data, off); err != nil {
		return 0, nil, 0, fmt.Errorf("%w: page %d: %w", ErrCorrupt, id, err)
	}
	return le.Uint16(h[8:]), data, span, nil
}

// freelist checks the free pages are in range, listed once, and not in
// use by the tree: bbolt would hand a page in use to the next write,
// overwriting live records, or panic on an id that cannot be allocated.
func (c *pageChecker) freelist() error {
	if c.meta.freelist == noFreelist {
		return nil
	}
	flags, data, span, err := c.page(c.meta.freelist)
	if err != nil {
		return err
	}
	if flags&freelistFlag == 0 {
		return fmt.Errorf("%w: page %d is not the freelist", ErrCorrupt, c.meta.freelist)
	}
	count, first := uint64(le.Uint16(data[10:])), uint64(0)
	if count == 0xFFFF {
		count, first = le.Uint64(data[pageHeaderSize:]), 1
	}
	if count > (span-pageHeaderSize)/8-first {
		return fmt.Errorf("%w: freelist of %d pages overruns its page", ErrCorrupt, count)
	}
	ids := make([]byte, count*8)
	if _, err := c.f.ReadAt(ids, int64(c.meta.freelist*c.meta.pageSize+pageHeaderSize+first*8)); err != nil {
		return fmt.Errorf("%w: freelist: %w", ErrCorrupt, err)
	}
	for i := uint64(0); i < count; i++ {
		id := le.Uint64(ids[i*8:])
		if id < 2 || id >= c.meta.pgid || c.seen[id] {
			return fmt.Errorf("%w: freelist lists page %d, which is in use or out of range", ErrCorrupt, id)
		}
		c.seen[id] = true
	}
	return nil
}

// tree checks the B+tree rooted at page id.
func (c *pageChecker) tree(id uint64, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("%w: tree deeper than %d at page %d", ErrCorrupt, maxDepth, id)
	}
	flags, data, span, err := c.page(id)
	if err != nil {
		return err
	}
	return c.elements(id, flags, data, span, depth, int64(id*c.meta.pageSize))
}

// elements checks one page's elements; data holds its header and element
// table, span its size, base its file offset (-1 for an inline page, whose
// data is the whole page).
func (c *pageChecker) elements(id uint64, flags uint16, data []byte, span uint64, depth int, base int64) error {
	count := int(le.Uint16(data[10:]))
	switch {
	case flags&branchFlag != 0 && base >= 0:
		if count == 0 {
			return fmt.Errorf("%w: branch page %d is empty", ErrCorrupt, id)
		}
		for i := range count {
			e := data[pageHeaderSize+i*elementSize:]
			at := uint64(pageHeaderSize + i*elementSize)
			if at+uint64(le.Uint32(e[0:]))+uint64(le.Uint32(e[4:])) > span {
				return fmt.Errorf("%w: page %d element %d key outside the page", ErrCorrupt, id, i)
			}
			if err := c.tree(le.Uint64(e[8:]), depth+1); err != nil {
				return err
			}
		}
	case flags&leafFlag != 0:
		for i := range count {
			e := data[pageHeaderSize+i*elementSize:]
			at := uint64(pageHeaderSize + i*elementSize)
			kOff := at + uint64(le.Uint32(e[4:]))
			vOff := kOff + uint64(le.Uint32(e[8:]))
			vEnd := vOff + uint64(le.Uint32(e[12:]))
			if vEnd > span {
				return fmt.Errorf("%w: page %d element %d outside the page", ErrCorrupt, id, i)
			}
			if le.Uint32(e[0:])&bucketFlag == 0 {
				continue
			}
			if err := c.bucket(id, data, base, vOff, vEnd, depth); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("%w: page %d has kind %#x, want branch or leaf", ErrCorrupt, id, flags)
	}
	return nil
}

// bucket checks a nested bucket whose header sits at [vOff, vEnd) of the
// page: a tree of its own, or an inline page inside the value.
func (c *pageChecker) bucket(id uint64, data []byte, base int64, vOff, vEnd uint64, depth int) error {
	if vEnd-vOff < 16 {
		return fmt.Errorf("%w: page %d: bucket header too short", ErrCorrupt, id)
	}
	v := make([]byte, vEnd-vOff)
	if base >= 0 {
		if _, err := c.f.ReadAt(v, base+int64(vOff)); err != nil {
			return fmt.Errorf("%w: page %d: %w", ErrCorrupt, id, err)
		}
	} else {
		copy(v, data[vOff:vEnd])
	}
	if root := le.Uint64(v); root != 0 {
		return c.tree(root, depth+1)
	}
	inline := v[16:]
	if len(inline) < pageHeaderSize {
		return fmt.Errorf("%w: page %d: inline bucket too short", ErrCorrupt, id)
	}
	n := le.Uint16(inline[10:])
	if uint64(pageHeaderSize)+uint64(n)*elementSize > uint64(len(inline)) {
		return fmt.Errorf("%w: page %d: inline bucket overruns its value", ErrCorrupt, id)
	}
	if le.Uint16(inline[8:])&leafFlag == 0 {
		return fmt.Errorf("%w: page %d: inline bucket is not a leaf", ErrCorrupt, id)
	}
	return c.elements(id, leafFlag, inline, uint64(len(inline)), depth+1, -1)
}

// checkFile runs checkPages on the file at path.
func checkFile(path string, txid uint64) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer f.Close()
	return checkPages(f, txid)
}
