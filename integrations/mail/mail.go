// Package mail sends Tandem's email: password resets and team invitations
// today, sync alerts later. A [Sender] is what callers hold; [SMTP] delivers
// through a mail server named by a URL (SMTP_URL), and [Mailbox] keeps every
// message in memory instead, for `tandem dev` and tests, where it is read
// back at the dev-only /dev/mail page.
//
// Like every package under integrations, it imports nothing of the app.
package mail

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"sync"
	"time"
)

// Message is one plain-text email.
type Message struct {
	To      string // one address, e.g. "owner@shop.example"
	Subject string
	Body    string // plain text; lines end in "\n"
}

// Sender delivers messages. Send returns once the message is accepted for
// delivery (by the mail server, or by the mailbox), or with the reason it
// was not.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// validate refuses a message that would be malformed on the wire: header
// injection through a newline in the recipient or subject above all.
func (m Message) validate() error {
	if strings.ContainsAny(m.To, "\r\n") || strings.ContainsAny(m.Subject, "\r\n") {
		return errors.New("mail: recipient and subject must be one line")
	}
	a, err := mail.ParseAddress(m.To)
	if err != nil || a.Address != m.To {
		return fmt.Errorf("mail: recipient %q is not a plain address", m.To)
	}
	return nil
}

// Caught is a message the Mailbox kept.
type Caught struct {
	Message
	ID     int // 1 for the first message caught, and so on
	SentAt time.Time
}

// Mailbox is a Sender that keeps messages in memory instead of sending them,
// the newest last, up to a limit. It is safe for concurrent use.
type Mailbox struct {
	mu    sync.Mutex
	msgs  []Caught
	next  int
	limit int
	now   func() time.Time
}

// mailboxLimit bounds a dev mailbox: a long-running `tandem dev` should not
// grow without end.
const mailboxLimit = 200

// NewMailbox returns an empty mailbox keeping the last 200 messages.
func NewMailbox() *Mailbox { return &Mailbox{limit: mailboxLimit, next: 1, now: time.Now} }

// Send keeps m.
func (b *Mailbox) Send(ctx context.Context, m Message) error {
	if err := m.validate(); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.msgs = append(b.msgs, Caught{Message: m, ID: b.next, SentAt: b.now()})
	b.next++
	if len(b.msgs) > b.limit {
		b.msgs = b.msgs[len(b.msgs)-b.limit:]
	}
	return nil
}

// Messages returns the kept messages, newest first.
func (b *Mailbox) Messages() []Caught {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]Caught, len(b.msgs))
	for i, m := range b.msgs {
		out[len(b.msgs)-1-i] = m
	}
	return out
}
