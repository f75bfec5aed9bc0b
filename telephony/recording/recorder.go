package recording

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"callbox/telephony/media"
)

// Settings are the administrator's choices; they are kept in the Store
// and can change while the box runs (SetSettings).
type Settings struct {
	// Encoding of new recordings (default A-law).
	Encoding Encoding `json:"encoding"`
	// MaxAge purges recordings older than this; 0 keeps them.
	MaxAge time.Duration `json:"max_age"`
	// Quota caps the bytes all recordings take; 0 sets no cap.
	Quota int64 `json:"quota"`
	// MinFree is the free space kept on the data partition (which the
	// store shares): the oldest recordings go first to keep it. Recording
	// stops (and an alarm is raised) when less than half of it is left and
	// nothing more can be purged. 0 keeps none beyond FullMargin.
	MinFree int64 `json:"min_free"`
	// Consent names a prompt the call-centre service plays to the customer
	// before an agent connects ("this call may be recorded"); empty plays
	// none.
	Consent string `json:"consent,omitempty"`
}

// MarshalText implements encoding.TextMarshaler.
func (e Encoding) MarshalText() ([]byte, error) {
	if e < ALaw || e > PCM16 {
		return nil, fmt.Errorf("recording: %v", e)
	}
	return []byte(e.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (e *Encoding) UnmarshalText(b []byte) error {
	v, err := ParseEncoding(string(b))
	*e = v
	return err
}

// FullMargin is the free space below which no recording starts whatever
// MinFree says: a minute of two-channel PCM.
const FullMargin = 2 << 20

// Config sets up a Recorder.
type Config struct {
	// Dir is the recording directory (DataDir/recordings). Start creates it
	// if its parent exists; once started, a missing Dir stops recording
	// rather than writing to whatever file system lies beneath.
	Dir      string
	Store    Store
	Settings Settings
	Log      *slog.Logger
	// Now is the wall clock (start times, ages); nil is time.Now.
	Now func() time.Time
	// FreeSpace reports the bytes available to the box on the file system
	// holding dir; nil uses statfs.
	FreeSpace func(dir string) (int64, error)
	// TapFrames is the length of each recording's tap ring in 10 ms frames
	// (default 300: three seconds of a stalled disk).
	TapFrames int
	// FlushFrames is how many frames are gathered before a write and a
	// header update (default 100: a crash loses at most a second).
	FlushFrames int
	// SyncEvery commits the file to storage every this many flushes
	// (default 10; a power cut loses at most that many seconds).
	SyncEvery int
	// PurgeEvery is the period of the retention pass (default 5 min).
	PurgeEvery time.Duration
}

// Alarm is a condition an administrator must see: recording has stopped
// or is about to.
type Alarm struct {
	// Code is "recording_full" (no space: nothing is recorded),
	// "recording_low" (below the free-space floor and nothing left to
	// purge) or "recording_dir" (the directory is missing).
	Code   string
	Detail string
	Since  time.Time
}

// Alarm codes.
const (
	AlarmFull = "recording_full"
	AlarmLow  = "recording_low"
	AlarmDir  = "recording_dir"
)

// Recorder records calls to WAV files in a directory, keeps their index
// and enforces the retention settings. Start it before use and Close it to
// stop its retention goroutine and wait for every recording's writer.
type Recorder struct {
	cfg Config
	log *slog.Logger
	idx index

	mu     sync.Mutex
	set    Settings
	active map[string]*Session
	total  int64 // bytes of the finished recordings in the index
	// purgeLogged counts the purge log's entries (usage.go).
	purgeLogged int
	alarm       *Alarm
	started     bool
	closed      bool
	purgeNow    chan struct{}
	purgeMu     sync.Mutex // one retention pass at a time
	cancel      context.CancelFunc
	wg          sync.WaitGroup // the retention goroutine and the writers
}

// New checks cfg; nothing happens until Start.
func New(cfg Config) (*Recorder, error) {
	if cfg.Dir == "" || cfg.Store == nil {
		return nil, errors.New("recording: a directory and a store are required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.FreeSpace == nil {
		cfg.FreeSpace = statfsFree
	}
	if cfg.TapFrames <= 0 {
		cfg.TapFrames = 300
	}
	if cfg.FlushFrames <= 0 {
		cfg.FlushFrames = 100
	}
	if cfg.SyncEvery <= 0 {
		cfg.SyncEvery = 10
	}
	if cfg.PurgeEvery <= 0 {
		cfg.PurgeEvery = 5 * time.Minute
	}
	if err := cfg.Settings.check(); err != nil {
		return nil, err
	}
	return &Recorder{cfg: cfg, log: cfg.Log, idx: index{cfg.Store}, set: cfg.Settings.withDefaults(),
		active: map[string]*Session{}, purgeNow: make(chan struct{}, 1)}, nil
}

func (s Settings) withDefaults() Settings {
	if s.Encoding == 0 {
		s.Encoding = ALaw
	}
	return s
}

func (s Settings) check() error {
	switch {
	case s.Encoding != 0 && (s.Encoding < ALaw || s.Encoding > PCM16):
		return fmt.Errorf("recording: settings: %v", s.Encoding)
	case s.MaxAge < 0, s.Quota < 0, s.MinFree < 0:
		return errors.New("recording: settings: a negative limit")
	case len(s.Consent) > 200:
		return errors.New("recording: settings: consent prompt name longer than 200 bytes")
	}
	return nil
}

// statfsFree is the space available to an unprivileged writer.
func statfsFree(dir string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}

// Start creates the directory if needed, repairs the recordings a crash
// or power cut interrupted (their files get valid headers, their entries
// the duration and size found), and starts the retention goroutine, which
// first adds up the index for the quota.
func (r *Recorder) Start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		return errors.New("recording: already started")
	}
	if err := os.MkdirAll(r.cfg.Dir, 0o750); err != nil {
		// The box works on without recordings: Begin reports why.
		r.raise(AlarmDir, err.Error())
		r.log.Error("recording directory unusable; calls will not be recorded", "dir", r.cfg.Dir, "err", err)
	}
	set, ok, err := r.idx.settings()
	if err != nil {
		// Unreadable settings must not stop the box: the defaults apply
		// and an administrator saves new ones.
		r.log.Error("recording settings unreadable; the defaults apply", "err", err)
	} else if ok && set.check() == nil {
		r.set = set.withDefaults()
	}
	if err := r.recover(); err != nil {
		return err
	}
	total, err := r.idx.totalSize()
	if err != nil {
		return err
	}
	r.total = total
	r.purgeLogged = r.trimPurgeLog()
	ctx, r.cancel = context.WithCancel(ctx)
	r.started = true
	r.wg.Add(1)
	go r.retain(ctx)
	return nil
}

// recover repairs the recordings left in progress by the last run.
func (r *Recorder) recover() error {
	ids, err := r.idx.inProgress()
	if err != nil {
		return err
	}
	for _, id := range ids {
		rec, err := r.idx.get(id)
		if errors.Is(err, ErrNotFound) {
			_ = r.idx.markProgress(id, false)
			continue
		}
		if err != nil {
			return err
		}
		info, rerr := Repair(filepath.Join(r.cfg.Dir, rec.File))
		switch {
		case rerr != nil:
			rec.State, rec.Error = Failed, rerr.Error()
			rec.Size, rec.Duration = 0, 0
		default:
			rec.State = Repaired
			rec.Size = info.DataOffset + info.DataBytes
			rec.Duration = info.Duration
		}
		if err := r.idx.put(rec); err != nil {
			return err
		}
		if err := r.idx.putSize(id, rec.Size); err != nil {
			return err
		}
		if err := r.idx.markProgress(id, false); err != nil {
			return err
		}
		r.log.Warn("recording interrupted by a restart, repaired", "id", id, "call", rec.CallID, "duration", rec.Duration, "err", rerr)
	}
	return nil
}

// Close stops the retention goroutine and every recording in progress
// (their files are finished as by Stop) and waits for them.
func (r *Recorder) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	cancel := r.cancel
	var sessions []*Session
	for _, s := range r.active {
		sessions = append(sessions, s)
	}
	r.mu.Unlock()
	var errs []error
	for _, s := range sessions {
		if _, err := s.Stop(); err != nil {
			errs = append(errs, err)
		}
	}
	if cancel != nil {
		cancel()
	}
	r.wg.Wait()
	return errors.Join(errs...)
}

// Settings returns the settings in force.
func (r *Recorder) Settings() Settings {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.set
}

// SetSettings changes the settings and stores them; a tighter retention
// applies at once.
func (r *Recorder) SetSettings(s Settings) error {
	if err := s.check(); err != nil {
		return err
	}
	if err := r.idx.putSettings(s.withDefaults()); err != nil {
		return err
	}
	r.mu.Lock()
	r.set = s.withDefaults()
	r.mu.Unlock()
	r.pokePurge()
	return nil
}

// Alarm returns the raised alarm, if any.
func (r *Recorder) Alarm() (Alarm, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.alarm == nil {
		return Alarm{}, false
	}
	return *r.alarm, true
}

// raise sets the alarm (r.mu held); the first raising is logged.
func (r *Recorder) raise(code, detail string) {
	if r.alarm != nil && r.alarm.Code == code {
		return
	}
	r.alarm = &Alarm{Code: code, Detail: detail, Since: r.cfg.Now()}
	r.log.Error("recording alarm", "alarm", code, "detail", detail)
}

// clear drops the alarm (r.mu held).
func (r *Recorder) clear() {
	if r.alarm != nil {
		r.log.Info("recording alarm cleared", "alarm", r.alarm.Code)
		r.alarm = nil
	}
}

// Session is one recording in progress. Its tap goes on the recorded leg
// (media.Engine.SetTap); its writer drains the tap into the file on its own
// goroutine, so the media clock only hands frames over. Stop it once the
// tap is off the leg.
type Session struct {
	r    *Recorder
	tap  *media.Tap
	rec  Record
	w    *wavWriter
	stop chan struct{}
	done chan struct{}

	// Written by the writer goroutine, read after done.
	werr error

	once   sync.Once
	result Record
	err    error
}

// Tap returns the tap to put on the recorded leg: Rx is the first channel
// (the customer, on the customer's leg), Tx the second (what the customer
// hears: the agent).
func (s *Session) Tap() *media.Tap { return s.tap }

// ID returns the recording's id.
func (s *Session) ID() string { return s.rec.ID }

// Begin starts a recording: the file is created, the index has its entry
// (state Recording) before any audio is written, and the writer waits for
// the tap's frames. It fails with ErrFull when the data partition has no
// room (after purging what the settings allow) and with ErrNoDirectory when
// the recording directory is missing; the call goes on unrecorded and an
// alarm is raised.
func (r *Recorder) Begin(m Meta) (*Session, error) {
	r.mu.Lock()
	if !r.started || r.closed {
		r.mu.Unlock()
		return nil, errors.New("recording: recorder not running")
	}
	set := r.set
	r.mu.Unlock()
	if m.ServiceID == "" {
		m.ServiceID = m.CallID
	}
	if err := r.checkDir(); err != nil {
		return nil, err
	}
	if err := r.checkSpace(set); err != nil {
		return nil, err
	}
	start := r.cfg.Now()
	rec := Record{ID: newID(start), Meta: m, Start: start, Encoding: set.Encoding.String(), Channels: 2, State: Recording}
	rec.File = filepath.Join(start.UTC().Format("2006/01/02"), rec.ID+".wav")
	path := filepath.Join(r.cfg.Dir, rec.File)
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, r.writeFailed(fmt.Errorf("recording: %w", err))
	}
	w, err := createWAV(path, set.Encoding, 2, r.cfg.FlushFrames*media.FrameSamples)
	if err != nil {
		return nil, r.writeFailed(fmt.Errorf("recording: %w", err))
	}
	rec.Size = w.size()
	// The marker first: a crash between the two leaves a marker without a
	// record, which the next start drops, never a record nobody repairs.
	if err := r.idx.markProgress(rec.ID, true); err != nil {
		w.f.Close()
		os.Remove(path)
		return nil, err
	}
	if err := r.idx.put(rec); err != nil {
		_ = r.idx.markProgress(rec.ID, false)
		w.f.Close()
		os.Remove(path)
		return nil, err
	}
	s := &Session{r: r, tap: media.NewTap(r.cfg.TapFrames), rec: rec, w: w,
		stop: make(chan struct{}), done: make(chan struct{})}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		w.f.Close()
		return nil, errors.New("recording: recorder not running")
	}
	r.active[rec.ID] = s
	if r.alarm != nil && r.alarm.Code != AlarmLow {
		r.clear()
	}
	r.wg.Add(1)
	r.mu.Unlock()
	go s.write()
	r.log.Info("recording started", "id", rec.ID, "call", m.CallID, "service", m.ServiceID, "agent", m.Agent)
	return s, nil
}

// checkDir refuses to record when the directory is gone.
func (r *Recorder) checkDir() error {
	st, err := os.Stat(r.cfg.Dir)
	if err == nil && st.IsDir() {
		return nil
	}
	if err == nil {
		err = errors.New("not a directory")
	}
	err = fmt.Errorf("%w: %s: %w", ErrNoDirectory, r.cfg.Dir, err)
	r.mu.Lock()
	r.raise(AlarmDir, err.Error())
	r.mu.Unlock()
	return err
}

// checkSpace purges what the settings allow when the partition is below
// its floor and refuses when it stays below half of it.
func (r *Recorder) checkSpace(set Settings) error {
	free, err := r.cfg.FreeSpace(r.cfg.Dir)
	if err != nil {
		return fmt.Errorf("recording: free space of %s: %w", r.cfg.Dir, err)
	}
	if free >= set.MinFree {
		return nil
	}
	if _, err := r.Purge(); err != nil {
		r.log.Warn("recording purge failed", "err", err)
	}
	if free, err = r.cfg.FreeSpace(r.cfg.Dir); err != nil {
		return fmt.Errorf("recording: free space of %s: %w", r.cfg.Dir, err)
	}
	if free >= max(set.MinFree/2, FullMargin) {
		return nil
	}
	err = fmt.Errorf("%w: %d bytes free on the data partition", ErrFull, free)
	r.mu.Lock()
	r.raise(AlarmFull, err.Error())
	r.mu.Unlock()
	return err
}

// writeFailed raises the alarm a failed write calls for and returns err.
func (r *Recorder) writeFailed(err error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case isNoSpace(err):
		r.raise(AlarmFull, err.Error())
		return fmt.Errorf("%w: %w", ErrFull, err)
	case errors.Is(err, fs.ErrNotExist):
		r.raise(AlarmDir, err.Error())
		return fmt.Errorf("%w: %w", ErrNoDirectory, err)
	}
	return err
}

func isNoSpace(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}

// write is the session's writer goroutine: it drains the tap into the
// file until Stop. After a write error it keeps draining (and counting) so
// the leg's tap never backs up, and writes nothing more.
func (s *Session) write() {
	defer s.r.wg.Done()
	defer close(s.done)
	flushes := 0
	drainTap(s.tap, s.stop, func(a, b []int16) {
		if s.werr != nil {
			return
		}
		s.w.put(a, b)
		if !s.w.full() {
			return
		}
		if err := s.w.flush(); err != nil {
			s.werr = err
			return
		}
		if flushes++; flushes%s.r.cfg.SyncEvery == 0 {
			if err := s.w.sync(); err != nil {
				s.werr = err
			}
		}
	})
}

// Stop ends the recording: the writer drains what the tap holds, the file
// is finished and synced, and the index entry gets its duration, size and
// state. The tap must be off the leg already. Stop may be called more than
// once; later calls return the first result.
func (s *Session) Stop() (Record, error) {
	s.once.Do(func() { s.result, s.err = s.finish() })
	return s.result, s.err
}

func (s *Session) finish() (Record, error) {
	close(s.stop)
	<-s.done
	r := s.r
	rec := s.rec
	werr := s.werr
	if werr == nil {
		werr = s.w.close()
	} else {
		_ = s.w.f.Close()
	}
	rec.Size, rec.Duration = s.w.size(), s.w.duration()
	rec.Dropped = s.tap.Dropped()
	rec.State = Done
	path := filepath.Join(r.cfg.Dir, rec.File)
	if _, err := os.Stat(path); err != nil && werr == nil {
		// The open file was written to the end, but its directory
		// vanished under it: what it held is gone.
		werr = fmt.Errorf("%w: %s: %w", ErrFileMissing, path, err)
	}
	if werr != nil {
		rec.State, rec.Error = Failed, werr.Error()
		r.log.Error("recording failed", "id", rec.ID, "call", rec.CallID, "err", werr)
		_ = r.writeFailed(werr)
	}
	r.mu.Lock()
	delete(r.active, rec.ID)
	r.total += rec.Size
	r.mu.Unlock()
	err := r.idx.put(rec)
	if err == nil {
		err = r.idx.putSize(rec.ID, rec.Size)
	}
	if err == nil {
		err = r.idx.markProgress(rec.ID, false)
	}
	r.log.Info("recording stopped", "id", rec.ID, "call", rec.CallID, "duration", rec.Duration, "bytes", rec.Size, "dropped", rec.Dropped)
	r.pokePurge()
	if err != nil {
		return rec, err
	}
	if werr != nil {
		return rec, fmt.Errorf("recording: %s kept %v of audio: %w", rec.ID, rec.Duration, werr)
	}
	return rec, nil
}

// Get returns a recording's entry.
func (r *Recorder) Get(id string) (Record, error) {
	if !ValidID(id) {
		return Record{}, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	return r.idx.get(id)
}

// Search returns the recordings q selects, newest first.
func (r *Recorder) Search(q Query) ([]Record, error) {
	return r.idx.search(q, r.cfg.Now())
}

// Legs returns every recording of rec's service (rec included), in start
// order: the consultation, three-way and transfer legs of one
// conversation. They are looked for from a day before rec to a day after.
func (r *Recorder) Legs(rec Record) ([]Record, error) {
	legs, err := r.idx.search(Query{From: rec.Start.Add(-24 * time.Hour), To: rec.Start.Add(24 * time.Hour),
		Service: rec.ServiceID, Limit: MaxLimit}, r.cfg.Now())
	for i, j := 0, len(legs)-1; i < j; i, j = i+1, j-1 {
		legs[i], legs[j] = legs[j], legs[i]
	}
	return legs, err
}

// SetWorkOrder links a recording to a work order.
func (r *Recorder) SetWorkOrder(id, ref string) error {
	rec, err := r.Get(id)
	if err != nil {
		return err
	}
	rec.WorkOrder = ref
	return r.idx.put(rec)
}

// Open opens a recording's file for listening (see OpenPlayback).
func (r *Recorder) Open(id string, asPCM bool) (*Playback, Record, error) {
	rec, err := r.Get(id)
	if err != nil {
		return nil, Record{}, err
	}
	p, err := OpenPlayback(filepath.Join(r.cfg.Dir, rec.File), asPCM)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, rec, fmt.Errorf("%w: %s", ErrFileMissing, rec.ID)
	}
	return p, rec, err
}

// Delete removes a recording and its file (an administrator's decision;
// logged like a purge). A recording in progress cannot be deleted.
func (r *Recorder) Delete(id, by string) error {
	rec, err := r.Get(id)
	if err != nil {
		return err
	}
	r.mu.Lock()
	_, busy := r.active[id]
	r.mu.Unlock()
	if busy {
		return fmt.Errorf("%w: %s", ErrBusy, id)
	}
	return r.remove(rec, PurgeDeleted, "deleted by "+by, by)
}

// Active returns how many recordings are in progress.
func (r *Recorder) Active() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.active)
}
