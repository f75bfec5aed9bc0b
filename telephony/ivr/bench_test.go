package ivr

import (
	"context"
	"os"
	"testing"
	"time"
)

// quietCall is a Call that answers at once and records nothing, so a
// benchmark measures the engine alone: every menu gets "1", every
// collect "123456", every queue is served.
type quietCall struct{}

func (quietCall) Play(ctx context.Context, p Prompt) error { return nil }
func (quietCall) Collect(ctx context.Context, req CollectRequest) (string, error) {
	if req.Max == 1 {
		return "1", nil
	}
	return "123456", nil
}
func (quietCall) Record(ctx context.Context, req RecordRequest) (Recording, error) {
	return Recording{ID: "r"}, nil
}
func (quietCall) Transfer(ctx context.Context, req TransferRequest) error { return nil }
func (quietCall) Queue(ctx context.Context, req QueueRequest) (QueueOutcome, error) {
	return QueueOutcome{Served: true}, nil
}
func (quietCall) Voicemail(ctx context.Context, req VoicemailRequest) error { return nil }
func (quietCall) Hangup(ctx context.Context) error                          { return nil }
func (quietCall) ReturnToAgent(ctx context.Context, agent string) error     { return nil }

func BenchmarkParseValidate(b *testing.B) {
	data, err := os.ReadFile("testdata/daynight.json")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	nodes := 0
	for b.Loop() {
		f, err := ParseFlow(data)
		if err != nil {
			b.Fatal(err)
		}
		if err := Validate(f, ValidateOptions{}); err != nil {
			b.Fatal(err)
		}
		nodes += len(f.Nodes)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(nodes), "ns/node")
}

// BenchmarkRunDayCall runs the day path of the example flow: time branch,
// failed CRM lookup, welcome, menu, queue.
func BenchmarkRunDayCall(b *testing.B) {
	repo := &Repository{}
	if _, err := repo.Save(loadExample(b, "daynight.json")); err != nil {
		b.Fatal(err)
	}
	e := &Engine{Flows: repo, HTTP: &fakeFetcher{}, Clock: fixedClock(time.Date(2026, 11, 18, 2, 0, 0, 0, time.UTC))}
	ctx := context.Background()
	b.ReportAllocs()
	steps := 0
	for b.Loop() {
		res, _ := e.Run(ctx, quietCall{}, Request{Flow: "daynight", Caller: "13900000000"})
		if res.End != EndQueued {
			b.Fatalf("end %v", res.End)
		}
		steps += len(res.Trace)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(steps), "ns/node")
}
