// Package pgsession is a gorilla/sessions store that keeps session data in
// Postgres (the web_sessions table). The cookie carries only a random id,
// signed so that forged ids are refused without a database round trip; the
// server can therefore end a session for good, by deleting its row, at
// log-out or when giving a fresh id at log-in.
package pgsession

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/gob"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// UserIDKey is the session value (a string UUID) copied into the row's
// user_id column, so that deleting a user deletes their sessions and a
// user's sessions can be found.
const UserIDKey = "user_id"

// Store keeps sessions in the web_sessions table. It implements
// sessions.Store and is safe for concurrent use.
type Store struct {
	pool    *pgxpool.Pool
	codec   *securecookie.SecureCookie
	options sessions.Options
	now     func() time.Time
}

var _ sessions.Store = (*Store)(nil)

// New returns a Store that signs session ids with hashKey (at least 32
// bytes) and gives new sessions a copy of opts. opts.MaxAge is the session's
// lifetime in seconds, renewed at every Save.
func New(pool *pgxpool.Pool, hashKey []byte, opts sessions.Options) (*Store, error) {
	if len(hashKey) < 32 {
		return nil, errors.New("pgsession: hash key must be at least 32 bytes")
	}
	if opts.MaxAge <= 0 {
		return nil, errors.New("pgsession: MaxAge must be positive")
	}
	codec := securecookie.New(hashKey, nil)
	codec.MaxAge(opts.MaxAge)
	return &Store{pool: pool, codec: codec, options: opts, now: time.Now}, nil
}

// Get returns the named session of r, cached for the rest of the request.
func (s *Store) Get(r *http.Request, name string) (*sessions.Session, error) {
	return sessions.GetRegistry(r).Get(s, name)
}

// New returns the session named by r's cookie, or a new empty one when the
// cookie is absent, forged, expired or names no live row. Only database
// failures are errors; the session returned is usable even then.
func (s *Store) New(r *http.Request, name string) (*sessions.Session, error) {
	sess := sessions.NewSession(s, name)
	opts := s.options
	sess.Options = &opts
	sess.IsNew = true
	c, err := r.Cookie(name)
	if err != nil {
		return sess, nil
	}
	var id string
	if err := s.codec.Decode(name, c.Value, &id); err != nil {
		return sess, nil
	}
	var data []byte
	err = s.pool.QueryRow(r.Context(),
		`SELECT data FROM web_sessions WHERE id = $1 AND expires_at > $2`, id, s.now()).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return sess, nil
	}
	if err != nil {
		return sess, fmt.Errorf("pgsession: load session: %w", err)
	}
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&sess.Values); err != nil {
		// A row written by an incompatible version: start afresh.
		return sess, nil
	}
	sess.ID = id
	sess.IsNew = false
	return sess, nil
}

// Save writes sess and sets its cookie on w. A session whose MaxAge is
// negative is deleted and its cookie cleared instead.
//
// Only a new session (no row yet, or renewed) inserts a row. A loaded
// session updates its row and never re-creates it: a request that loaded
// the session before a log-out elsewhere deleted the row must not bring it
// back when it saves. Such a session stays ended: Save writes nothing,
// clears the cookie and leaves sess empty and new.
func (s *Store) Save(r *http.Request, w http.ResponseWriter, sess *sessions.Session) error {
	ctx := r.Context()
	if sess.Options.MaxAge < 0 {
		if err := s.delete(ctx, sess.ID); err != nil {
			return err
		}
		sess.ID = ""
		http.SetCookie(w, sessions.NewCookie(sess.Name(), "", sess.Options))
		return nil
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(sess.Values); err != nil {
		return fmt.Errorf("pgsession: encode session: %w", err)
	}
	var userID *string
	if v, ok := sess.Values[UserIDKey].(string); ok && v != "" {
		userID = &v
	}
	now := s.now()
	expires := now.Add(time.Duration(sess.Options.MaxAge) * time.Second)
	if sess.IsNew || sess.ID == "" {
		sess.ID = newID()
		if _, err := s.pool.Exec(ctx,
			`INSERT INTO web_sessions (id, data, user_id, expires_at) VALUES ($1, $2, $3, $4)`,
			sess.ID, buf.Bytes(), userID, expires); err != nil {
			return fmt.Errorf("pgsession: save session: %w", err)
		}
		sess.IsNew = false
	} else {
		tag, err := s.pool.Exec(ctx, `
			UPDATE web_sessions SET data = $2, user_id = $3, expires_at = $4
			WHERE id = $1 AND expires_at > $5`,
			sess.ID, buf.Bytes(), userID, expires, now)
		if err != nil {
			return fmt.Errorf("pgsession: save session: %w", err)
		}
		if tag.RowsAffected() == 0 {
			// Ended (logged out, renewed or expired) since it was loaded.
			sess.ID = ""
			sess.IsNew = true
			clear(sess.Values)
			ended := *sess.Options
			ended.MaxAge = -1
			http.SetCookie(w, sessions.NewCookie(sess.Name(), "", &ended))
			return nil
		}
	}
	encoded, err := s.codec.Encode(sess.Name(), sess.ID)
	if err != nil {
		return fmt.Errorf("pgsession: sign session id: %w", err)
	}
	http.SetCookie(w, sessions.NewCookie(sess.Name(), encoded, sess.Options))
	return nil
}

// Update runs fn on sess's values as stored now, holding a lock on the
// session's row until fn's result is stored, and leaves that result in
// sess.Values. Requests of one session each load the session when they
// start, so a value one must use only once (an OAuth state) needs this:
// two at once would otherwise both find it unused. A session with no row
// runs fn on its own values: Save stores them if the session is new, and
// drops them if it was ended meanwhile (see Save).
func (s *Store) Update(ctx context.Context, sess *sessions.Session, fn func(values map[any]any)) error {
	if sess.ID == "" {
		fn(sess.Values)
		return nil
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("pgsession: update session: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit
	var data []byte
	err = tx.QueryRow(ctx, `SELECT data FROM web_sessions WHERE id = $1 AND expires_at > $2 FOR UPDATE`, sess.ID, s.now()).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		fn(sess.Values)
		return nil
	}
	if err != nil {
		return fmt.Errorf("pgsession: update session: %w", err)
	}
	values := map[any]any{}
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&values); err != nil {
		values = map[any]any{} // as New does with an unreadable row
	}
	fn(values)
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(values); err != nil {
		return fmt.Errorf("pgsession: encode session: %w", err)
	}
	var userID *string
	if v, ok := values[UserIDKey].(string); ok && v != "" {
		userID = &v
	}
	if _, err := tx.Exec(ctx, `UPDATE web_sessions SET data = $2, user_id = $3 WHERE id = $1`, sess.ID, buf.Bytes(), userID); err != nil {
		return fmt.Errorf("pgsession: update session: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("pgsession: update session: %w", err)
	}
	sess.Values = values
	return nil
}

// Renew deletes sess's row and clears its id, so the next Save stores the
// same values under a fresh id. Call it when privileges change (at log-in),
// so an id planted before log-in is worthless after it.
func (s *Store) Renew(ctx context.Context, sess *sessions.Session) error {
	if err := s.delete(ctx, sess.ID); err != nil {
		return err
	}
	sess.ID = ""
	sess.IsNew = true
	return nil
}

// DeleteExpired removes sessions past their expiry, which are already
// ignored; a periodic job calls it to keep the table small.
func (s *Store) DeleteExpired(ctx context.Context) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM web_sessions WHERE expires_at <= $1`, s.now())
	if err != nil {
		return 0, fmt.Errorf("pgsession: delete expired sessions: %w", err)
	}
	return tag.RowsAffected(), nil
}

func (s *Store) delete(ctx context.Context, id string) error {
	if id == "" {
		return nil
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM web_sessions WHERE id = $1`, id); err != nil {
		return fmt.Errorf("pgsession: delete session: %w", err)
	}
	return nil
}

// newID returns 160 random bits in base32: unguessable, and safe in a cookie.
func newID() string {
	b := make([]byte, 20)
	_, _ = rand.Read(b) // crypto/rand.Read does not fail on supported platforms
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)
}
