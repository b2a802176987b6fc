package sync

import "context"

// page is one page read ahead: its items, the URL of the next page ("" for
// the last), or the error that ended the reading.
type page[T any] struct {
	items   []T
	nextURL string
	err     error
}

// pager reads pages one ahead of its consumer.
type pager[T any] struct {
	ch     chan page[T]
	cancel context.CancelFunc
}

// readAhead starts reading pages with fetch (next "" is the first page)
// and keeps up to ahead pages ready ahead of next's caller. Reading stops
// after the last page, an error, stop, or limit pages (when limit > 0: a
// caller that will take no more does not pay for pages it drops).
func readAhead[T any](ctx context.Context, ahead, limit int, fetch func(ctx context.Context, next string) ([]T, string, error)) *pager[T] {
	ctx, cancel := context.WithCancel(ctx)
	p := &pager[T]{ch: make(chan page[T], max(ahead, 1)), cancel: cancel}
	go func() {
		defer close(p.ch)
		next := ""
		for n := 1; ; n++ {
			items, nextURL, err := fetch(ctx, next)
			select {
			case p.ch <- page[T]{items: items, nextURL: nextURL, err: err}:
			case <-ctx.Done():
				return
			}
			if err != nil || nextURL == "" || n == limit {
				return
			}
			next = nextURL
		}
	}()
	return p
}

// next returns the next page, and false when reading has stopped.
func (p *pager[T]) next() (page[T], bool) {
	pg, ok := <-p.ch
	return pg, ok
}

// stop ends the reading and waits for the reader to finish.
func (p *pager[T]) stop() {
	p.cancel()
	for range p.ch {
	}
}
