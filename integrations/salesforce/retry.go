package salesforce

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"time"
)

// RetryPolicy says how the client retries transient failures: 502, 503,
// 400/500 UNABLE_TO_LOCK_ROW, and timeouts. It never retries once the
// request's context is done, and never retries a POST after a network error
// or timeout, because the first attempt may have been applied (Salesforce
// has no idempotency keys); a 503 or a lock error means nothing was written,
// so those are retried for every method.
type RetryPolicy struct {
	// MaxAttempts counts the first try; 1 disables retries. 0 means 4.
	MaxAttempts int
	// BaseDelay is the first backoff (doubled each attempt, full jitter);
	// 0 means 250ms. MaxDelay caps it; 0 means 5s.
	BaseDelay time.Duration
	MaxDelay  time.Duration
	// AttemptTimeout bounds one attempt (until the response headers and body
	// are read); an attempt that times out is retried. 0 means no per-attempt
	// timeout (the context and http.Client still apply).
	AttemptTimeout time.Duration
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 4
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = 250 * time.Millisecond
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = 5 * time.Second
	}
	return p
}

// backoff is the capped, fully jittered wait before retry number n (0-based).
func (p RetryPolicy) backoff(n int) time.Duration {
	d := p.BaseDelay << min(n, 20)
	if d <= 0 || d > p.MaxDelay {
		d = p.MaxDelay
	}
	return jitter(d)
}

// jitter returns a random duration in [d/2, d].
func jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2+1)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// retryTransport is the RoundTripper layer that retries transient failures.
// Every attempt gets a fresh body from req.GetBody: reusing a consumed body
// sends an empty request (and breaks outright over HTTP/2).
type retryTransport struct {
	base   http.RoundTripper
	policy RetryPolicy
}

// maxPeek bounds how much of a 4xx/5xx body is read to look for
// UNABLE_TO_LOCK_ROW; error bodies are small.
const maxPeek = 64 << 10

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	for attempt := 0; ; attempt++ {
		r := req
		if attempt > 0 {
			r = req.Clone(ctx)
			if req.Body != nil && req.Body != http.NoBody {
				if req.GetBody == nil {
					return nil, errors.New("salesforce: retry: request body cannot be replayed")
				}
				body, err := req.GetBody()
				if err != nil {
					return nil, err
				}
				r.Body = body
			}
		}
		resp, err := t.attempt(r)
		last := attempt+1 >= t.policy.MaxAttempts
		if err != nil {
			if ctx.Err() != nil || last || !retryableNetErr(req.Method, err) {
				return nil, err
			}
		} else {
			retry, err := t.retryableResponse(resp)
			if err != nil {
				return nil, err
			}
			if !retry || last {
				return resp, nil
			}
			// Drain so the connection can be reused.
			io.Copy(io.Discard, io.LimitReader(resp.Body, maxPeek))
			resp.Body.Close()
		}
		wait := t.policy.backoff(attempt)
		if resp != nil {
			if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
				wait = min(time.Duration(s)*time.Second, t.policy.MaxDelay)
			}
		}
		if err := sleepCtx(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// attempt runs one round trip, bounded by the per-attempt timeout. The
// timeout's context is released when the body is closed, not when RoundTrip
// returns, or reading the body would fail.
func (t *retryTransport) attempt(req *http.Request) (*http.Response, error) {
	if t.policy.AttemptTimeout <= 0 {
		return t.base.RoundTrip(req)
	}
	ctx, cancel := context.WithTimeoutCause(req.Context(), t.policy.AttemptTimeout, errAttemptTimeout)
	resp, err := t.base.RoundTrip(req.WithContext(ctx))
	if err != nil {
		cancel()
		if errors.Is(context.Cause(ctx), errAttemptTimeout) && req.Context().Err() == nil {
			return nil, errAttemptTimeout
		}
		return nil, err
	}
	resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

var errAttemptTimeout = &timeoutError{}

type timeoutError struct{}

func (*timeoutError) Error() string   { return "salesforce: attempt timed out" }
func (*timeoutError) Timeout() bool   { return true }
func (*timeoutError) Temporary() bool { return true }

type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

func retryableNetErr(method string, err error) bool {
	if method == http.MethodPost {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	// A connection refused or reset before any response: for idempotent
	// methods a second try is harmless.
	var oe *net.OpError
	return errors.As(err, &oe) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

// retryableResponse decides whether resp is a transient failure. For 400 and
// 500 answers it reads the (small) body to look for UNABLE_TO_LOCK_ROW and
// puts it back so the caller can still decode it.
func (t *retryTransport) retryableResponse(resp *http.Response) (bool, error) {
	switch resp.StatusCode {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true, nil
	case http.StatusBadRequest, http.StatusInternalServerError, http.StatusConflict:
	default:
		return false, nil
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPeek))
	if err != nil {
		resp.Body.Close()
		return false, err
	}
	rest := resp.Body
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(body), rest), rest}
	return bytes.Contains(body, []byte(`"`+CodeUnableToLockRow+`"`)), nil
}
