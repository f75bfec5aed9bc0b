package installer

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"syscall"
	"time"

	"github.com/beevik/ntp"
)

// SyncState is the clock's last NTP exchange, as the console shows it.
type SyncState struct {
	Server  string        `json:"server,omitempty"`
	At      time.Time     `json:"at,omitzero"`
	Offset  time.Duration `json:"offset"`
	RTT     time.Duration `json:"rtt"`
	Stratum uint8         `json:"stratum"`
	Set     bool          `json:"set"` // the clock was stepped
	Err     string        `json:"error,omitempty"`
}

// Synced reports whether the last exchange succeeded.
func (s SyncState) Synced() bool { return !s.At.IsZero() && s.Err == "" }

// String is the console's line.
func (s SyncState) String() string {
	switch {
	case s.Err != "":
		return "not synced: " + s.Err
	case s.At.IsZero():
		return "not synced (no NTP server set)"
	}
	set := ""
	if s.Set {
		set = ", clock stepped"
	}
	return fmt.Sprintf("synced with %s at %s: offset %v, rtt %v, stratum %d%s",
		s.Server, s.At.Format(time.RFC3339), s.Offset.Round(time.Microsecond), s.RTT.Round(time.Microsecond), s.Stratum, set)
}

// Syncer queries the NTP servers now and then. It is started by its owner
// with Run(ctx) in one goroutine and stops when ctx ends.
type Syncer struct {
	// Servers returns the configured servers (re-read every round).
	Servers func() []string
	// SetClock steps the system clock when it is off by more than
	// StepOver (hardware; never in simulation).
	SetClock bool
	StepOver time.Duration
	Every    time.Duration
	Log      *slog.Logger

	mu    sync.Mutex
	state SyncState
	kick  chan struct{}
	once  sync.Once
}

func (s *Syncer) init() {
	s.once.Do(func() {
		s.kick = make(chan struct{}, 1)
		if s.Every <= 0 {
			s.Every = 17 * time.Minute
		}
		if s.StepOver <= 0 {
			s.StepOver = 500 * time.Millisecond
		}
		if s.Log == nil {
			s.Log = slog.New(slog.DiscardHandler)
		}
	})
}

// State returns the last exchange.
func (s *Syncer) State() SyncState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

// Kick asks Run for a round now (after a change of servers).
func (s *Syncer) Kick() {
	s.init()
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Run syncs at once and then every Every until ctx ends.
func (s *Syncer) Run(ctx context.Context) {
	s.init()
	t := time.NewTicker(s.Every)
	defer t.Stop()
	for {
		s.SyncOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.kick:
		}
	}
}

// SyncOnce asks the servers in turn until one answers well.
func (s *Syncer) SyncOnce(ctx context.Context) SyncState {
	s.init()
	servers := s.Servers()
	st := SyncState{}
	if len(servers) == 0 {
		s.store(st)
		return st
	}
	for _, srv := range servers {
		if ctx.Err() != nil {
			return s.State()
		}
		resp, err := ntp.QueryWithOptions(srv, ntp.QueryOptions{Timeout: 3 * time.Second})
		if err == nil {
			err = resp.Validate()
		}
		if err != nil {
			st = SyncState{Server: srv, Err: fmt.Sprintf("%s: %v", srv, err)}
			continue
		}
		st = SyncState{Server: srv, At: time.Now(), Offset: resp.ClockOffset, RTT: resp.RTT, Stratum: resp.Stratum}
		if s.SetClock && (st.Offset > s.StepOver || st.Offset < -s.StepOver) {
			tv := syscall.NsecToTimeval(time.Now().Add(st.Offset).UnixNano())
			if err := syscall.Settimeofday(&tv); err != nil {
				st.Err = fmt.Sprintf("set the clock: %v", err)
			} else {
				st.Set = true
				s.Log.Warn("clock stepped by NTP", "server", srv, "offset", st.Offset)
			}
		}
		break
	}
	s.store(st)
	return st
}

func (s *Syncer) store(st SyncState) {
	s.mu.Lock()
	s.state = st
	s.mu.Unlock()
}
