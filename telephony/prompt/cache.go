package prompt

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"callbox/dsp/wav"
)

// DefaultCacheBytes is the decoded-audio cache's default bound: about 35
// minutes of 8 kHz audio, several times the system prompts.
const DefaultCacheBytes = 32 << 20

// cache keeps decoded prompt files in memory, least recently used first
// out, within a byte bound. Entries are shared read-only: a player holds
// its slices, so an entry evicted while playing stays valid until the
// player drops it. A file changed on disk (by size or time) is read again.
type cache struct {
	mu      sync.Mutex
	max     int64
	size    int64
	entries map[string]*entry
	head    entry // sentinel of the recency list: head.next is the newest
	loading map[string]*loading
	hits    uint64
	misses  uint64
}

type entry struct {
	path       string
	mod        time.Time
	fileSize   int64
	samples    []int16
	prev, next *entry
}

// loading is a read in flight that other callers wait for.
type loading struct {
	done    chan struct{}
	samples []int16
	err     error
}

func newCache(maxBytes int64) *cache {
	if maxBytes <= 0 {
		maxBytes = DefaultCacheBytes
	}
	c := &cache{max: maxBytes, entries: map[string]*entry{}, loading: map[string]*loading{}}
	c.head.prev, c.head.next = &c.head, &c.head
	return c
}

// get returns the decoded samples of the prompt file at path; a file that
// does not exist gives an error matching os.ErrNotExist.
func (c *cache) get(path string) ([]int16, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if e := c.entries[path]; e != nil && e.mod.Equal(st.ModTime()) && e.fileSize == st.Size() {
		c.unlink(e)
		c.pushFront(e)
		c.hits++
		c.mu.Unlock()
		return e.samples, nil
	}
	if l := c.loading[path]; l != nil {
		c.mu.Unlock()
		<-l.done
		return l.samples, l.err
	}
	l := &loading{done: make(chan struct{})}
	c.loading[path] = l
	c.misses++
	c.mu.Unlock()

	l.samples, l.err = readPrompt(path)

	c.mu.Lock()
	delete(c.loading, path)
	if l.err == nil {
		c.put(&entry{path: path, mod: st.ModTime(), fileSize: st.Size(), samples: l.samples})
	}
	c.mu.Unlock()
	close(l.done)
	return l.samples, l.err
}

// readPrompt reads a prompt file: 8 kHz mono as the catalogue writes it,
// or any WAV Convert takes (a file an installer copied in by hand).
func readPrompt(path string) ([]int16, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	file, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("prompt: %w", err)
	}
	if s, err := wav.Decode(file); err == nil {
		return s, nil
	}
	up, err := Convert(file)
	if err != nil {
		return nil, fmt.Errorf("prompt: %s: %w", path, err)
	}
	return up.Samples, nil
}

// put adds e, evicting the least recently used entries beyond the bound;
// an entry larger than the whole bound is not kept. c.mu held.
func (c *cache) put(e *entry) {
	if old := c.entries[e.path]; old != nil {
		c.remove(old)
	}
	n := int64(2 * len(e.samples))
	if n > c.max {
		return
	}
	for c.size+n > c.max && c.head.prev != &c.head {
		c.remove(c.head.prev)
	}
	c.entries[e.path] = e
	c.pushFront(e)
	c.size += n
}

// add keeps samples as the decoding of the file just written at path.
func (c *cache) add(path string, samples []int16) {
	st, err := os.Stat(path)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		if e := c.entries[path]; e != nil {
			c.remove(e)
		}
		return
	}
	c.put(&entry{path: path, mod: st.ModTime(), fileSize: st.Size(), samples: samples})
}

// drop forgets path (a prompt written or deleted).
func (c *cache) drop(path string) {
	c.mu.Lock()
	if e := c.entries[path]; e != nil {
		c.remove(e)
	}
	c.mu.Unlock()
}

func (c *cache) remove(e *entry) {
	c.unlink(e)
	delete(c.entries, e.path)
	c.size -= int64(2 * len(e.samples))
}

func (c *cache) unlink(e *entry) {
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = nil, nil
}

func (c *cache) pushFront(e *entry) {
	e.prev, e.next = &c.head, c.head.next
	c.head.next.prev = e
	c.head.next = e
}

// CacheStats are the decoded-audio cache's counters.
type CacheStats struct {
	Entries      int
	Bytes, Max   int64
	Hits, Misses uint64
}

func (c *cache) stats() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return CacheStats{Entries: len(c.entries), Bytes: c.size, Max: c.max, Hits: c.hits, Misses: c.misses}
}
