package fax

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"callbox/dsp/fax/t4"
)

// Job is a scheduled fax: one document to a list of numbers from a time,
// each number tried again after a failure with a doubling back-off.
type Job struct {
	ID      string    `json:"id"`
	Numbers []string  `json:"numbers"`
	At      time.Time `json:"at"`
	// Retries are the attempts per number after the first; Backoff the
	// wait before the first of them, doubled for each next one.
	Retries int           `json:"retries"`
	Backoff time.Duration `json:"backoff"`
	Pages   int           `json:"pages"`
	Created time.Time     `json:"created"`
	Results []JobResult   `json:"results"`
}

// JobResult is where a job stands for one number.
type JobResult struct {
	Number   string    `json:"number"`
	Status   string    `json:"status"` // JobPending, StatusActive, StatusDone or StatusFailed
	Attempts int       `json:"attempts"`
	Next     time.Time `json:"next,omitzero"`
	// FaxID is the last attempt's fax (its Record); Error why it failed.
	FaxID string `json:"fax_id,omitempty"`
	Error string `json:"error,omitempty"`
}

// JobPending is a number not tried yet, or waiting for its next attempt.
const JobPending = "pending"

// Job bounds.
const (
	MaxJobNumbers  = 500
	MaxJobRetries  = 10
	DefaultBackoff = 5 * time.Minute
)

// JobStore keeps the scheduled jobs (so they survive a restart) and their
// documents.
type JobStore interface {
	// SaveJob stores j; doc, when not nil, is its document (a TIFF).
	SaveJob(ctx context.Context, j Job, doc []byte) error
	Jobs(ctx context.Context) ([]Job, error)
	JobDocument(ctx context.Context, id string) ([]byte, error)
}

// AddJob schedules doc (TIFF, PNG or JPEG) to numbers from at (zero:
// now) with retries attempts more per number, backoff apart and doubling
// (zero: DefaultBackoff).
func (s *Service) AddJob(ctx context.Context, numbers []string, doc []byte, at time.Time, retries int, backoff time.Duration) (Job, error) {
	if s.opts.Jobs == nil {
		return Job{}, fmt.Errorf("fax: no job store")
	}
	if len(numbers) == 0 || len(numbers) > MaxJobNumbers {
		return Job{}, fmt.Errorf("%w: %d numbers (1 to %d)", ErrInvalid, len(numbers), MaxJobNumbers)
	}
	for _, n := range numbers {
		if err := checkNumber(n); err != nil {
			return Job{}, err
		}
	}
	if retries < 0 || retries > MaxJobRetries {
		return Job{}, fmt.Errorf("%w: retries %d (0 to %d)", ErrInvalid, retries, MaxJobRetries)
	}
	if backoff < 0 || backoff > 24*time.Hour {
		return Job{}, fmt.Errorf("%w: backoff %v (up to a day)", ErrInvalid, backoff)
	}
	if backoff == 0 {
		backoff = DefaultBackoff
	}
	pages, err := Pages(doc, t4.YResFine)
	if err != nil {
		return Job{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	tf, err := encodeDocument(pages)
	if err != nil {
		return Job{}, err
	}
	now := s.opts.Now()
	if at.IsZero() || at.Before(now) {
		at = now
	}
	j := Job{ID: now.UTC().Format("20060102T150405") + "-job" + strconv.FormatUint(s.seq.Add(1), 10),
		Numbers: slices.Clone(numbers), At: at, Retries: retries, Backoff: backoff, Pages: len(pages), Created: now}
	for _, n := range numbers {
		j.Results = append(j.Results, JobResult{Number: n, Status: JobPending, Next: at})
	}
	if err := s.opts.Jobs.SaveJob(ctx, j, tf); err != nil {
		return Job{}, err
	}
	s.jobMu.Lock()
	s.jobs[j.ID] = &j
	s.jobMu.Unlock()
	return j, nil
}

// Jobs returns the scheduled jobs as they stand.
func (s *Service) Jobs() []Job {
	s.jobMu.Lock()
	defer s.jobMu.Unlock()
	out := make([]Job, 0, len(s.jobs))
	for _, j := range s.jobs {
		out = append(out, j.snapshot())
	}
	slices.SortFunc(out, func(a, b Job) int { return a.Created.Compare(b.Created) })
	return out
}

// loadJobs reads the stored jobs; an attempt the box was stopped in the
// middle of counts as failed.
func (s *Service) loadJobs(ctx context.Context) error {
	if s.opts.Jobs == nil {
		return nil
	}
	js, err := s.opts.Jobs.Jobs(ctx)
	if err != nil {
		return fmt.Errorf("fax: jobs: %w", err)
	}
	s.jobMu.Lock()
	defer s.jobMu.Unlock()
	for i := range js {
		j := js[i]
		for k := range j.Results {
			if r := &j.Results[k]; r.Status == StatusActive {
				s.attemptOver(&j, r, "the box stopped during the call")
			}
		}
		s.jobs[j.ID] = &j
	}
	return nil
}

// attemptOver records a failed attempt: another after the back-off, or
// failed for good (under jobMu).
func (s *Service) attemptOver(j *Job, r *JobResult, why string) {
	r.Error = why
	if r.Attempts > j.Retries {
		r.Status, r.Next = StatusFailed, time.Time{}
		return
	}
	r.Status = JobPending
	r.Next = s.opts.Now().Add(j.Backoff << (r.Attempts - 1))
}

// RunJobs starts the attempts that are due, as many as MaxActive allows
// (the service's scheduler calls it every JobPoll; tests on a virtual
// clock call it themselves).
func (s *Service) RunJobs(ctx context.Context) {
	if s.opts.Jobs == nil || s.ctx == nil || s.ctx.Err() != nil {
		return
	}
	now := s.opts.Now()
	s.jobMu.Lock()
	var due []*Job
	for _, j := range s.jobs {
		for k := range j.Results {
			if r := j.Results[k]; r.Status == JobPending && !r.Next.After(now) {
				due = append(due, j)
				break
			}
		}
	}
	s.jobMu.Unlock()
	slices.SortFunc(due, func(a, b *Job) int { return a.Created.Compare(b.Created) })
	for _, j := range due {
		doc, err := s.opts.Jobs.JobDocument(ctx, j.ID)
		if err != nil {
			s.opts.Logger.Error("fax: a job's document", "job", j.ID, "err", err)
			continue
		}
		s.jobMu.Lock()
		numbers := []int{}
		for k, r := range j.Results {
			if r.Status == JobPending && !r.Next.After(now) {
				numbers = append(numbers, k)
			}
		}
		s.jobMu.Unlock()
		for _, k := range numbers {
			if !s.attempt(ctx, j, k, doc) {
				return // MaxActive reached: the rest on the next run
			}
		}
	}
}

// attempt sends the job's document to its k-th number; false when no
// fax could be started for want of room.
func (s *Service) attempt(ctx context.Context, j *Job, k int, doc []byte) bool {
	s.jobMu.Lock()
	r := &j.Results[k]
	number := r.Number
	r.Attempts++
	r.Status, r.Next = StatusActive, time.Time{}
	s.jobMu.Unlock()
	rec, err := s.send(ctx, number, doc, func(done Record) {
		s.jobMu.Lock()
		r.FaxID = done.ID
		if done.Status == StatusDone {
			r.Status, r.Error = StatusDone, ""
		} else {
			s.attemptOver(j, r, done.Error)
		}
		c := j.snapshot()
		s.jobMu.Unlock()
		s.saveJob(c)
	})
	s.jobMu.Lock()
	switch {
	case errors.Is(err, ErrBusy):
		r.Attempts--
		r.Status, r.Next = JobPending, s.opts.Now()
		s.jobMu.Unlock()
		return false
	case err != nil:
		r.Status, r.Error = StatusFailed, err.Error()
	case r.Status == StatusActive:
		r.FaxID = rec.ID
	}
	c := j.snapshot()
	s.jobMu.Unlock()
	s.saveJob(c)
	return true
}

// snapshot copies a job (under jobMu).
func (j *Job) snapshot() Job {
	c := *j
	c.Numbers = slices.Clone(j.Numbers)
	c.Results = slices.Clone(j.Results)
	return c
}

func (s *Service) saveJob(j Job) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.opts.Jobs.SaveJob(ctx, j, nil); err != nil {
		s.opts.Logger.Error("fax: keeping a job", "job", j.ID, "err", err)
	}
}

// scheduler runs RunJobs every JobPoll until the service stops.
func (s *Service) scheduler() {
	defer s.wg.Done()
	t := time.NewTicker(s.opts.JobPoll)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
			s.RunJobs(s.ctx)
		}
	}
}
