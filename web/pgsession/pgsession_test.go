package pgsession

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/sessions"

	"github.com/tandemsync/tandem/sql/dbtest"
)

var key = []byte("0123456789abcdef0123456789abcdef")

func newStore(t *testing.T) *Store {
	t.Helper()
	s, err := New(dbtest.New(t), key, sessions.Options{Path: "/", MaxAge: 3600, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// roundTrip saves sess and returns a request carrying the cookie it set.
func roundTrip(t *testing.T, s *Store, sess *sessions.Session) *http.Request {
	t.Helper()
	rec := httptest.NewRecorder()
	if err := s.Save(httptest.NewRequestWithContext(t.Context(), "GET", "/", nil), rec, sess); err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequestWithContext(t.Context(), "GET", "/", nil)
	for _, c := range rec.Result().Cookies() {
		r.AddCookie(c)
	}
	return r
}

func TestSaveAndLoad(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	sess, err := s.New(httptest.NewRequestWithContext(t.Context(), "GET", "/", nil), "sid")
	if err != nil || !sess.IsNew {
		t.Fatalf("New without cookie = %+v, %v; want a new session", sess, err)
	}
	sess.Values["n"] = 42
	sess.AddFlash("hello", "flash_info")
	r := roundTrip(t, s, sess)

	c, _ := r.Cookie("sid")
	if c.Value == sess.ID {
		t.Error("cookie carries the bare id; want it signed")
	}
	got, err := s.New(r, "sid")
	if err != nil || got.IsNew || got.ID != sess.ID {
		t.Fatalf("New with cookie = %+v, %v; want the saved session", got, err)
	}
	if got.Values["n"] != 42 {
		t.Errorf("Values[n] = %v; want 42", got.Values["n"])
	}
	if f := got.Flashes("flash_info"); len(f) != 1 || f[0] != "hello" {
		t.Errorf("Flashes = %v; want [hello]", f)
	}
}

func TestRejectsForgedAndUnknownCookies(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	other, err := New(s.pool, []byte("another key, 32 bytes long......"), s.options)
	if err != nil {
		t.Fatal(err)
	}
	sess, _ := s.New(httptest.NewRequest("GET", "/", nil), "sid")
	sess.Values["x"] = "y"
	r := roundTrip(t, s, sess)

	// The bare id, unsigned, is refused.
	bare := httptest.NewRequestWithContext(t.Context(), "GET", "/", nil)
	bare.AddCookie(&http.Cookie{Name: "sid", Value: sess.ID})
	if got, err := s.New(bare, "sid"); err != nil || !got.IsNew {
		t.Errorf("unsigned id: New = %+v, %v; want a new session", got, err)
	}
	// A cookie signed with another key is not this store's.
	got, err := other.New(r, "sid")
	if err != nil || !got.IsNew {
		t.Errorf("other key: New = %+v, %v; want a new session", got, err)
	}
}

func TestRenewAndDelete(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	sess, _ := s.New(httptest.NewRequest("GET", "/", nil), "sid")
	sess.Values[UserIDKey] = "5f0b8f4e-8d8c-4d43-9b1e-2a2f7f1d0c11"
	// user_id must reference a user: insert one with that id.
	if _, err := s.pool.Exec(t.Context(), `INSERT INTO users (id, email, password_hash) VALUES ($1, 'u@x.example', 'h')`, sess.Values[UserIDKey]); err != nil {
		t.Fatal(err)
	}
	oldReq := roundTrip(t, s, sess)
	oldID := sess.ID
	var uid string
	if err := s.pool.QueryRow(t.Context(), `SELECT user_id::text FROM web_sessions WHERE id = $1`, oldID).Scan(&uid); err != nil || uid != sess.Values[UserIDKey] {
		t.Errorf("row user_id = %q, %v; want the session's user", uid, err)
	}

	if err := s.Renew(t.Context(), sess); err != nil {
		t.Fatal(err)
	}
	newReq := roundTrip(t, s, sess)
	if sess.ID == oldID || sess.ID == "" {
		t.Fatalf("id after Renew = %q; want a fresh one", sess.ID)
	}
	if got, _ := s.New(oldReq, "sid"); !got.IsNew {
		t.Error("the old cookie still finds a session after Renew")
	}
	got, _ := s.New(newReq, "sid")
	if got.IsNew || got.Values[UserIDKey] != sess.Values[UserIDKey] {
		t.Errorf("new cookie: %+v; want the renewed session with its values", got)
	}

	got.Options.MaxAge = -1
	rec := httptest.NewRecorder()
	if err := s.Save(newReq, rec, got); err != nil {
		t.Fatal(err)
	}
	if c := rec.Result().Cookies(); len(c) != 1 || c[0].MaxAge >= 0 {
		t.Errorf("cookies after delete = %v; want one expiring cookie", c)
	}
	if again, _ := s.New(newReq, "sid"); !again.IsNew {
		t.Error("a deleted session is still found")
	}
}

func TestExpiry(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	now := time.Now()
	s.now = func() time.Time { return now }
	sess, _ := s.New(httptest.NewRequest("GET", "/", nil), "sid")
	sess.Values["x"] = 1
	r := roundTrip(t, s, sess)

	now = now.Add(59 * time.Minute)
	if got, _ := s.New(r, "sid"); got.IsNew {
		t.Error("session gone before MaxAge")
	}
	if n, err := s.DeleteExpired(t.Context()); err != nil || n != 0 {
		t.Errorf("DeleteExpired before expiry = %d, %v; want 0", n, err)
	}
	now = now.Add(2 * time.Minute)
	if got, _ := s.New(r, "sid"); !got.IsNew {
		t.Error("session found after MaxAge")
	}
	if n, err := s.DeleteExpired(t.Context()); err != nil || n != 1 {
		t.Errorf("DeleteExpired after expiry = %d, %v; want 1", n, err)
	}
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	if _, err := New(nil, []byte("short"), sessions.Options{MaxAge: 1}); err == nil {
		t.Error("New accepted a short key")
	}
	if _, err := New(nil, key, sessions.Options{}); err == nil {
		t.Error("New accepted MaxAge 0")
	}
}

// TestUpdateSerialisesLoadedCopies: requests that each loaded the session
// before any changed it see one another's Update, so none is lost.
func TestUpdateSerialisesLoadedCopies(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	sess, err := s.New(httptest.NewRequestWithContext(t.Context(), "GET", "/", nil), "sid")
	if err != nil {
		t.Fatal(err)
	}
	sess.Values["n"] = 0
	r := roundTrip(t, s, sess)
	const n = 8
	copies := make([]*sessions.Session, n)
	for i := range copies {
		if copies[i], err = s.New(r, "sid"); err != nil || copies[i].IsNew {
			t.Fatalf("load copy %d: %+v, %v", i, copies[i], err)
		}
	}
	var wg sync.WaitGroup
	for _, c := range copies {
		wg.Go(func() {
			if err := s.Update(t.Context(), c, func(v map[any]any) { v["n"] = v["n"].(int) + 1 }); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got, err := s.New(r, "sid")
	if err != nil || got.Values["n"] != n {
		t.Errorf("after %d updates of copies loaded first, n = %v (%v); want %d", n, got.Values["n"], err, n)
	}
	// A session never saved has no row: fn runs on its own values.
	fresh, _ := s.New(httptest.NewRequestWithContext(t.Context(), "GET", "/", nil), "sid")
	if err := s.Update(t.Context(), fresh, func(v map[any]any) { v["k"] = "v" }); err != nil || fresh.Values["k"] != "v" {
		t.Errorf("Update of a new session: %v, values %v", err, fresh.Values)
	}
}

// TestSaveDoesNotReviveEndedSession: a request that loaded the session
// before another request logged out must not bring the row back when it
// saves, however long it took.
func TestSaveDoesNotReviveEndedSession(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	sess, _ := s.New(httptest.NewRequest("GET", "/", nil), "sid")
	sess.Values["who"] = "merchant"
	r := roundTrip(t, s, sess)

	slow, err := s.New(r, "sid") // a slow request, loaded before the log-out
	if err != nil || slow.IsNew {
		t.Fatalf("load: %+v, %v", slow, err)
	}
	logout, _ := s.New(r, "sid") // the log-out request
	if err := s.Renew(t.Context(), logout); err != nil {
		t.Fatal(err)
	}
	clear(logout.Values)
	roundTrip(t, s, logout)

	slow.Values["note"] = "written after the log-out"
	rec := httptest.NewRecorder()
	if err := s.Save(r, rec, slow); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.New(r, "sid"); !again.IsNew {
		t.Fatalf("the logged-out session is alive again: %+v", again.Values)
	}
	var n int
	if err := s.pool.QueryRow(t.Context(), `SELECT count(*) FROM web_sessions WHERE data IS NOT NULL`).Scan(&n); err != nil || n != 1 {
		t.Errorf("rows = %d, %v; want only the log-out's fresh session", n, err)
	}
	if c := rec.Result().Cookies(); len(c) != 1 || c[0].MaxAge >= 0 {
		t.Errorf("cookies of the late save = %v; want one clearing the ended session", c)
	}
}

// TestSaveTwiceInOneRequest: a new session saved twice in one request
// inserts once and then updates the same row.
func TestSaveTwiceInOneRequest(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	sess, _ := s.New(httptest.NewRequest("GET", "/", nil), "sid")
	roundTrip(t, s, sess)
	id := sess.ID
	sess.Values["n"] = 2
	r := roundTrip(t, s, sess)
	if sess.ID != id {
		t.Errorf("id changed on the second save: %q → %q", id, sess.ID)
	}
	if got, _ := s.New(r, "sid"); got.Values["n"] != 2 {
		t.Errorf("Values[n] = %v; want 2", got.Values["n"])
	}
}
