package awstest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
)

// Exchange is one recorded HTTP request and its response.
type Exchange struct {
	Method      string
	URL         string
	Path        string
	RawQuery    string
	Host        string
	Header      http.Header
	Body        []byte
	Status      int
	RespHeader  http.Header
	RespBody    []byte
	TransportOK bool
}

// recorder is the exchange log shared by the client- and server-side
// recorders.
type recorder struct {
	mu        sync.Mutex
	exchanges []Exchange
}

func (rt *recorder) add(ex Exchange) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	rt.exchanges = append(rt.exchanges, ex)
}

// Exchanges returns a copy of everything recorded so far.
func (rt *recorder) Exchanges() []Exchange {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return slices.Clone(rt.exchanges)
}

// Last returns the most recent exchange; ok is false when none was recorded.
func (rt *recorder) Last() (Exchange, bool) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if len(rt.exchanges) == 0 {
		return Exchange{}, false
	}
	return rt.exchanges[len(rt.exchanges)-1], true
}

// Reset forgets everything recorded.
func (rt *recorder) Reset() {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	rt.exchanges = nil
}

// RecordingTransport is an http.RoundTripper that keeps a copy of every
// request an SDK client sends and every response it receives, for protocol
// canaries and for feeding responses to the validator. Use it as
// &http.Client{Transport: rec} in the client's HTTPClient option.
type RecordingTransport struct {
	// Base does the real round trip. When nil, the recorder uses its own
	// clone of http.DefaultTransport, so an httptest.Server closing the
	// shared pool's connections cannot cut its responses short.
	Base http.RoundTripper
	recorder

	ownOnce sync.Once
	own     *http.Transport
}

// RoundTrip forwards the request and records both sides.
func (rt *RecordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := rt.Base
	if base == nil {
		rt.ownOnce.Do(func() { rt.own = http.DefaultTransport.(*http.Transport).Clone() })
		base = rt.own
	}
	ex := Exchange{
		Method:   req.Method,
		URL:      req.URL.String(),
		Path:     req.URL.EscapedPath(),
		RawQuery: req.URL.RawQuery,
		Host:     req.Host,
		Header:   req.Header.Clone(),
	}
	if ex.Host == "" {
		ex.Host = req.URL.Host
	}
	if req.Body != nil && req.Body != http.NoBody {
		body, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("recording transport: reading request body: %w", err)
		}
		ex.Body = body
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	resp, err := base.RoundTrip(req)
	if err != nil {
		rt.add(ex)
		return nil, err
	}
	body, rerr := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if rerr != nil {
		rt.add(ex)
		return nil, fmt.Errorf("recording transport: reading response body: %w", rerr)
	}
	ex.Status = resp.StatusCode
	ex.RespHeader = resp.Header.Clone()
	ex.RespBody = body
	ex.TransportOK = true
	rt.add(ex)
	return resp, nil
}

// Client returns an *http.Client using the transport.
func (rt *RecordingTransport) Client() *http.Client { return &http.Client{Transport: rt} }

// RecordingHandler wraps a server's handler and records every exchange it
// serves, whoever the client is (the AWS CLI, moto-style tools, raw HTTP),
// so their responses can be validated too.
type RecordingHandler struct {
	Next http.Handler
	recorder
}

// ServeHTTP serves the request through Next and records both sides.
func (rh *RecordingHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, fmt.Sprintf("recording handler: reading request body: %v", err), http.StatusBadRequest)
		return
	}
	_ = r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(body))
	ex := Exchange{
		Method: r.Method, URL: r.URL.String(), Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery,
		Host: r.Host, Header: r.Header.Clone(), Body: body,
	}
	cw := &capturingWriter{ResponseWriter: w, status: http.StatusOK}
	rh.Next.ServeHTTP(cw, r)
	ex.Status, ex.RespHeader, ex.RespBody, ex.TransportOK = cw.status, w.Header().Clone(), cw.body.Bytes(), true
	rh.add(ex)
}

type capturingWriter struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
	body        bytes.Buffer
}

func (c *capturingWriter) WriteHeader(status int) {
	if !c.wroteHeader {
		c.status, c.wroteHeader = status, true
	}
	c.ResponseWriter.WriteHeader(status)
}

func (c *capturingWriter) Write(b []byte) (int, error) {
	c.wroteHeader = true
	c.body.Write(b)
	return c.ResponseWriter.Write(b)
}
