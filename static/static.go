// Package static holds Tandem's own CSS and images, embedded in the binary
// and served under content-hashed URLs, so browsers may cache them forever
// and a new release is fetched the moment its bytes change.
package static

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed css img
var files embed.FS

// Prefix is the URL path Handler expects to be mounted under.
const Prefix = "/static/"

// Assets is the set of embedded files, each with its hashed URL.
type Assets struct {
	byName map[string]*asset // "css/app.css"
	byPath map[string]*asset // "css/app.3f9a1c2b7d4e.css"
}

type asset struct {
	hashed string // path below Prefix, hash before the extension
	body   []byte
	ctype  string
	etag   string
}

// New reads and hashes every embedded file.
func New() (*Assets, error) {
	return load(files)
}

func load(fsys fs.FS) (*Assets, error) {
	a := &Assets{byName: map[string]*asset{}, byPath: map[string]*asset{}}
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		h := hex.EncodeToString(sum[:])[:12]
		ext := path.Ext(name)
		ctype := mime.TypeByExtension(ext)
		if ctype == "" {
			ctype = http.DetectContentType(body)
		}
		as := &asset{
			hashed: strings.TrimSuffix(name, ext) + "." + h + ext,
			body:   body,
			ctype:  ctype,
			etag:   `"` + h + `"`,
		}
		a.byName[name] = as
		a.byPath[as.hashed] = as
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("static: load assets: %w", err)
	}
	return a, nil
}

// Path returns the URL of the embedded file name (e.g. "css/app.css"), with
// its content hash in the file name. An unknown name yields a URL that
// Handler answers with 404, so a typo shows up as a broken asset rather than
// a broken page.
func (a *Assets) Path(name string) string {
	if as, ok := a.byName[name]; ok {
		return Prefix + as.hashed
	}
	return Prefix + "missing/" + name
}

// Handler serves the assets at their hashed paths below Prefix with a
// one-year immutable cache lifetime. Unhashed or stale paths are 404: an old
// page asking for an old hash must not be given new bytes under an
// immutable header.
func (a *Assets) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		as, ok := a.byPath[strings.TrimPrefix(r.URL.Path, Prefix)]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", as.ctype)
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
		h.Set("ETag", as.etag)
		h.Set("X-Content-Type-Options", "nosniff")
		http.ServeContent(w, r, as.hashed, time.Time{}, bytes.NewReader(as.body))
	})
}
