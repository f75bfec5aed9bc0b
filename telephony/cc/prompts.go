package cc

import (
	"context"
	"time"

	"callbox/telephony/ivr"
	callswitch "callbox/telephony/switch"
)

// Prompts is the audio the service plays: prompts from the catalogue (or
// their text spoken) and phrases composed of small prompts. firmware/app
// implements it over telephony/prompt.
type Prompts interface {
	// Source returns a source playing p in lang ("zh-CN", "en"): its file,
	// else its text spoken. A prompt that cannot be played gives an error
	// wrapping ivr.ErrPromptMissing (no such file and no text) or naming
	// why (no speech engine).
	Source(ctx context.Context, p ivr.Prompt, lang string) (callswitch.Source, error)
	// Say returns a source saying a phrase.
	Say(ctx context.Context, ph Phrase, lang string) (callswitch.Source, error)
}

// PhraseKind says what a phrase says.
type PhraseKind uint8

// Phrases.
const (
	// PhraseAgent: "agent 1088 at your service" (Digits is the work number).
	PhraseAgent PhraseKind = iota + 1
	// PhrasePosition: "you are number N in the queue" (N).
	PhrasePosition
	// PhraseWait: "the estimated wait is N minutes" (D).
	PhraseWait
	// PhraseDigits: the digits of Digits, one by one.
	PhraseDigits
)

// Phrase is something said with numbers in it.
type Phrase struct {
	Kind   PhraseKind
	N      int
	D      time.Duration
	Digits string
}

// Sequence plays sources one after another.
func Sequence(srcs ...callswitch.Source) callswitch.Source {
	return &sequence{srcs: srcs}
}

type sequence struct {
	srcs []callswitch.Source
	i    int
}

// ReadFrame implements callswitch.Source.
func (q *sequence) ReadFrame(f []int16) {
	for q.i < len(q.srcs) && q.srcs[q.i].Done() {
		q.i++
	}
	if q.i == len(q.srcs) {
		clear(f)
		return
	}
	q.srcs[q.i].ReadFrame(f)
}

// Done implements callswitch.Source.
func (q *sequence) Done() bool {
	for q.i < len(q.srcs) && q.srcs[q.i].Done() {
		q.i++
	}
	return q.i == len(q.srcs)
}
