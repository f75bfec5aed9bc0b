package ivr

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// HTTPRequest is one lookup against an external business system.
type HTTPRequest struct {
	// Method is "GET" or "POST".
	Method string
	// URL is the full URL, variables already expanded and escaped.
	URL string
	// Body is the JSON body of a POST, nil for a GET.
	Body []byte
}

// Fetcher performs HTTP lookups for http nodes. It returns the body of a
// 2xx answer; any other status is an error. The context carries the
// node's timeout.
type Fetcher interface {
	Fetch(ctx context.Context, req HTTPRequest) ([]byte, error)
}

// DefaultMaxBody is the largest answer NetHTTP reads.
const DefaultMaxBody = 64 << 10

// errTooLarge is returned for an answer over the size limit.
var errTooLarge = errors.New("ivr: http: answer too large")

// NetHTTP is a Fetcher over net/http.
type NetHTTP struct {
	// Client sends the requests; nil is http.DefaultClient. The node's
	// timeout comes through the context either way.
	Client *http.Client
	// MaxBody caps the answer read; 0 is DefaultMaxBody.
	MaxBody int64
}

// Fetch sends the request and returns the body of a 2xx answer.
func (h NetHTTP) Fetch(ctx context.Context, req HTTPRequest) ([]byte, error) {
	var body io.Reader
	if req.Body != nil {
		body = bytes.NewReader(req.Body)
	}
	hr, err := http.NewRequestWithContext(ctx, req.Method, req.URL, body)
	if err != nil {
		return nil, fmt.Errorf("ivr: http: %w", err)
	}
	hr.Header.Set("Accept", "application/json")
	if req.Body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	client := h.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(hr)
	if err != nil {
		return nil, fmt.Errorf("ivr: http: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10)) // let the connection be reused
		return nil, fmt.Errorf("ivr: http: status %s", resp.Status)
	}
	limit := h.MaxBody
	if limit <= 0 {
		limit = DefaultMaxBody
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("ivr: http: read answer: %w", err)
	}
	if int64(len(data)) > limit {
		return nil, errTooLarge
	}
	return data, nil
}
