package prompt

import (
	"errors"
	"fmt"
	"slices"

	"callbox/telephony/ivr"
)

// Errors callers branch on.
var (
	// ErrMissing: no audio for the name in either language. It wraps
	// ivr.ErrPromptMissing, so an IVR flow falls back to the node's text.
	ErrMissing = fmt.Errorf("prompt: not in the catalogue: %w", ivr.ErrPromptMissing)
	// ErrInvalid: bad input (a name, a language, an upload, a text); the
	// error is an *Error with a reason code.
	ErrInvalid = errors.New("prompt: invalid")
	// ErrReadOnly: system prompts cannot be deleted or changed in place
	// (an admin prompt of the same name replaces one).
	ErrReadOnly = errors.New("prompt: system prompts are read-only")
	// ErrNoSpeech: no speech engine is installed, so text cannot be
	// played or saved as a prompt.
	ErrNoSpeech = errors.New("prompt: no speech engine (install espeak-ng)")
)

// Error is a refusal: a reason code the web admin translates
// ("prompt.too_large" is "reason.prompt.too_large" in its catalogues), its
// arguments, and the cause. It matches ErrInvalid, or ErrReadOnly for the
// reason "prompt.system".
type Error struct {
	Code string
	Args []any
	Err  error // the cause, or nil
}

func (e *Error) Error() string {
	msg := "prompt: " + fmt.Sprintf(reasonText[e.Code], e.Args...)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is matches the sentinel the reason belongs to.
func (e *Error) Is(target error) bool {
	if e.Code == codeSystem {
		return target == ErrReadOnly
	}
	return target == ErrInvalid
}

// ReasonCode returns the reason code and its arguments, for the web
// admin's translated message.
func (e *Error) ReasonCode() (string, []any) { return e.Code, e.Args }

// Reason codes.
const (
	codeName     = "prompt.name"
	codeLang     = "prompt.lang"
	codeTooLarge = "prompt.too_large"
	codeTooLong  = "prompt.too_long"
	codeNotWAV   = "prompt.not_wav"
	codeEncoding = "prompt.encoding"
	codeChannels = "prompt.channels"
	codeRate     = "prompt.rate"
	codeEmpty    = "prompt.empty"
	codeText     = "prompt.text"
	codeSystem   = "prompt.system"
)

// reasonText is each reason in English, for logs and errors.
var reasonText = map[string]string{
	codeName:     "a prompt name is 1 to 64 letters, digits, '-', '_' or '.', with '/' between parts",
	codeLang:     "the language is zh-CN or en",
	codeTooLarge: "the file is larger than %d MiB",
	codeTooLong:  "the audio lasts longer than %d minutes",
	codeNotWAV:   "not a WAV file",
	codeEncoding: "the audio encoding is not supported (PCM of 8, 16, 24 or 32 bits, float, A-law or mu-law are)",
	codeChannels: "the file has %d channels; use mono or stereo",
	codeRate:     "the sample rate %d Hz is not supported; use 8000 to 48000 Hz",
	codeEmpty:    "the file holds no audio",
	codeText:     "the text must have 1 to %d characters",
	codeSystem:   "system prompts are read-only",
}

func refuse(code string, cause error, args ...any) *Error {
	return &Error{Code: code, Args: args, Err: cause}
}

// Reasons lists every reason code an *Error can carry, sorted, for the
// web admin's catalogues.
func Reasons() []string {
	out := make([]string, 0, len(reasonText))
	for c := range reasonText {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}
