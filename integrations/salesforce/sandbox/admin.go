package sandbox

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"
)

func adminError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func decodeAdmin(r *http.Request, v any) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return err
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// admin serves /_sandbox/, the control API outside the emulated service.
func (s *Server) admin(w http.ResponseWriter, r *http.Request) {
	route := r.Method + " " + strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/_sandbox/"), "/")
	switch route {
	case "POST reset":
		s.resetData(s.opts.Seed)
		writeJSON(w, http.StatusOK, map[string]any{"reset": true, "seeded": s.opts.Seed != nil})
	case "POST seed":
		var body struct {
			Seed *int64 `json:"seed"`
		}
		if err := decodeAdmin(r, &body); err != nil {
			adminError(w, http.StatusBadRequest, "seed: "+err.Error())
			return
		}
		seed := int64(1)
		if body.Seed != nil {
			seed = *body.Seed
		}
		s.resetData(&seed)
		writeJSON(w, http.StatusOK, map[string]any{"seeded": true, "seed": seed})
	case "POST token":
		var body struct {
			InstanceURL string `json:"instance_url"`
		}
		if err := decodeAdmin(r, &body); err != nil {
			adminError(w, http.StatusBadRequest, "token: "+err.Error())
			return
		}
		base := body.InstanceURL
		if base == "" {
			base = s.baseURL(r)
		}
		writeJSON(w, http.StatusOK, s.MintToken(base))
	case "GET tokens":
		writeJSON(w, http.StatusOK, s.Tokens())
	case "GET stats":
		writeJSON(w, http.StatusOK, s.Stats())
	case "GET faults":
		s.mu.Lock()
		f := s.faults
		f.FailNext = s.failNext
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, f)
	case "POST faults":
		var f Faults
		if err := decodeAdmin(r, &f); err != nil {
			adminError(w, http.StatusBadRequest, "faults: "+err.Error())
			return
		}
		if f.ErrorRate < 0 || f.ErrorRate > 1 {
			adminError(w, http.StatusBadRequest, "faults: errorRate must be between 0 and 1")
			return
		}
		if f.Status != 0 && (f.Status < 400 || f.Status > 599) {
			adminError(w, http.StatusBadRequest, "faults: status must be a 4xx or 5xx code")
			return
		}
		s.SetFaults(f)
		writeJSON(w, http.StatusOK, f)
	case "POST fields":
		var body struct {
			Object string `json:"object"`
			FieldSpec
		}
		if err := decodeAdmin(r, &body); err != nil {
			adminError(w, http.StatusBadRequest, "fields: "+err.Error())
			return
		}
		id, err := s.addCustomField(body.Object, body.FieldSpec)
		if err != nil {
			adminError(w, http.StatusBadRequest, err.Error())
			return
		}
		writeJSON(w, http.StatusCreated, map[string]string{"id": id, "object": body.Object, "name": body.Name})
	case "DELETE fields":
		var body struct {
			Object string `json:"object"`
			Name   string `json:"name"`
		}
		if err := decodeAdmin(r, &body); err != nil {
			adminError(w, http.StatusBadRequest, "fields: "+err.Error())
			return
		}
		if err := s.DeleteCustomField(body.Object, body.Name); err != nil {
			adminError(w, http.StatusBadRequest, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"deleted": true, "object": body.Object, "name": body.Name})
	case "POST objects":
		var body struct {
			Name        string `json:"name"`
			Label       string `json:"label"`
			PluralLabel string `json:"pluralLabel"`
		}
		if err := decodeAdmin(r, &body); err != nil {
			adminError(w, http.StatusBadRequest, "objects: "+err.Error())
			return
		}
		id, err := s.addCustomObject(body.Name, body.Label, body.PluralLabel)
		if err != nil {
			adminError(w, http.StatusBadRequest, err.Error())
			return
		}
		writeJSON(w, http.StatusCreated, map[string]string{"id": id, "name": body.Name})
	case "POST merge":
		var body struct {
			Object     string   `json:"object"`
			Master     string   `json:"master"`
			Duplicates []string `json:"duplicates"`
		}
		if err := decodeAdmin(r, &body); err != nil {
			adminError(w, http.StatusBadRequest, "merge: "+err.Error())
			return
		}
		res, err := s.Merge(body.Object, body.Master, body.Duplicates)
		if err != nil {
			adminError(w, http.StatusBadRequest, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, res)
	case "GET clock":
		writeJSON(w, http.StatusOK, map[string]string{"now": s.clk.Now().Format(time.RFC3339Nano)})
	case "POST clock":
		var body struct {
			Advance Duration `json:"advance"`
		}
		if err := decodeAdmin(r, &body); err != nil {
			adminError(w, http.StatusBadRequest, "clock: "+err.Error())
			return
		}
		if body.Advance < 0 {
			adminError(w, http.StatusBadRequest, "clock: advance must not be negative")
			return
		}
		s.Advance(time.Duration(body.Advance))
		writeJSON(w, http.StatusOK, map[string]string{"now": s.clk.Now().Format(time.RFC3339Nano)})
	default:
		adminError(w, http.StatusNotFound, "unknown admin endpoint "+route+"; see the package documentation for /_sandbox/")
	}
}
