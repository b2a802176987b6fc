package vault

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func randomKey(t testing.TB) []byte {
	t.Helper()
	k := make([]byte, KeyLen)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func mustRing(t testing.TB, current []byte, old ...[]byte) *KeyRing {
	t.Helper()
	r, err := NewKeyRing(current, old...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestParseKeys(t *testing.T) {
	t.Parallel()
	k1, k2, k3 := randomKey(t), randomKey(t), randomKey(t)
	std := base64.StdEncoding.EncodeToString
	short := std([]byte("only sixteen byt"))
	tests := []struct {
		name        string
		current     string
		old         string
		wantErr     string // substring; "" means success
		wantCurrent []byte
		wantOpens   [][]byte
	}{
		{name: "current only", current: std(k1), wantCurrent: k1},
		{name: "url alphabet unpadded", current: base64.RawURLEncoding.EncodeToString(k1), wantCurrent: k1},
		{name: "surrounding space", current: "  " + std(k1) + "\n", wantCurrent: k1},
		{name: "old keys", current: std(k1), old: std(k2) + ", " + std(k3) + ",", wantCurrent: k1, wantOpens: [][]byte{k2, k3}},
		{name: "old equal to current", current: std(k1), old: std(k1), wantCurrent: k1},
		{name: "unset", current: "", wantErr: "TANDEM_SECRET_KEY is not set: it needs 32 random bytes"},
		{name: "not base64", current: "not*base64!", wantErr: "TANDEM_SECRET_KEY is not valid base64: it needs 32 random bytes"},
		{name: "too short", current: short, wantErr: "TANDEM_SECRET_KEY decodes to 16 bytes: it needs 32 random bytes"},
		{name: "bad old entry", current: std(k1), old: std(k2) + "," + short, wantErr: "TANDEM_SECRET_KEYS (old keys, comma-separated) entry 2 of 2 decodes to 16 bytes: it needs 32"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := ParseKeys(tt.current, tt.old)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseKeys error = %v, want it to contain %q", err, tt.wantErr)
				}
				for _, secret := range []string{std(k1), std(k2), short} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error %q contains a key", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseKeys: %v", err)
			}
			if got, want := r.CurrentID(), KeyID(tt.wantCurrent); got != want {
				t.Errorf("CurrentID = %s, want %s", got, want)
			}
			for _, k := range tt.wantOpens {
				if !r.Has(KeyID(k)) {
					t.Errorf("ring lacks old key %s", KeyID(k))
				}
			}
			if got, want := len(r.byID), 1+len(tt.wantOpens); got != want {
				t.Errorf("ring holds %d keys, want %d", got, want)
			}
		})
	}
}

func TestNewKeyRingRejectsBadLengths(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 16, 31, 33, 64} {
		if _, err := NewKeyRing(make([]byte, n)); err == nil {
			t.Errorf("NewKeyRing(%d-byte key) succeeded", n)
		}
		if _, err := NewKeyRing(randomKey(t), make([]byte, n)); err == nil {
			t.Errorf("NewKeyRing(old %d-byte key) succeeded", n)
		}
	}
}

func TestKeyID(t *testing.T) {
	t.Parallel()
	k := randomKey(t)
	id := KeyID(k)
	if len(id) != 16 {
		t.Errorf("KeyID length = %d, want 16 hex digits", len(id))
	}
	if KeyID(bytes.Clone(k)) != id {
		t.Error("KeyID is not stable")
	}
	if KeyID(randomKey(t)) == id {
		t.Error("two keys share an id")
	}
	for _, enc := range []string{base64.StdEncoding.EncodeToString(k), string(k)} {
		if strings.Contains(enc, id) || strings.Contains(id, enc[:8]) {
			t.Error("KeyID reveals the key")
		}
	}
}

func TestSealOpen(t *testing.T) {
	t.Parallel()
	old, cur := randomKey(t), randomKey(t)
	oldRing := mustRing(t, old)
	ring := mustRing(t, cur, old)
	const tenant, secret = "7f1c2d3e-0000-4000-8000-000000000001", "s3cret-token-value"

	sealed, err := ring.seal(tenant, Lightspeed, fieldAccess, secret)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte(secret)) {
		t.Fatal("sealed value contains the plaintext")
	}
	if sealed[0] != formatV1 {
		t.Errorf("format byte = %d, want %d", sealed[0], formatV1)
	}
	again, _ := ring.seal(tenant, Lightspeed, fieldAccess, secret)
	if bytes.Equal(sealed, again) {
		t.Error("two seals of one value are equal: the nonce is not random")
	}
	if got, err := ring.open(ring.CurrentID(), tenant, Lightspeed, fieldAccess, sealed); err != nil || got != secret {
		t.Fatalf("open = %q, %v; want the plaintext", got, err)
	}
	byOld, _ := oldRing.seal(tenant, Lightspeed, fieldAccess, secret)
	if got, err := ring.open(KeyID(old), tenant, Lightspeed, fieldAccess, byOld); err != nil || got != secret {
		t.Fatalf("open under old key = %q, %v; want the plaintext", got, err)
	}

	flip := func(i int) []byte { b := bytes.Clone(sealed); b[i] ^= 1; return b }
	fails := []struct {
		name                            string
		keyID, tenant, provider, field  string
		sealed                          []byte
		wantTampered, wantUnknownKeyErr bool
	}{
		{name: "other tenant", tenant: "7f1c2d3e-0000-4000-8000-000000000002", wantTampered: true},
		{name: "other provider", provider: Salesforce, wantTampered: true},
		{name: "other field", field: fieldRefresh, wantTampered: true},
		{name: "flipped nonce", sealed: flip(3), wantTampered: true},
		{name: "flipped ciphertext", sealed: flip(1 + nonceSize), wantTampered: true},
		{name: "flipped tag", sealed: flip(len(sealed) - 1), wantTampered: true},
		{name: "truncated", sealed: sealed[:10], wantTampered: true},
		{name: "unknown key", keyID: "0011223344556677", wantUnknownKeyErr: true},
		{name: "wrong key id", keyID: KeyID(old), wantTampered: true},
	}
	for _, f := range fails {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			keyID, tn, p, fld, s := ring.CurrentID(), tenant, Lightspeed, fieldAccess, sealed
			if f.keyID != "" {
				keyID = f.keyID
			}
			if f.tenant != "" {
				tn = f.tenant
			}
			if f.provider != "" {
				p = f.provider
			}
			if f.field != "" {
				fld = f.field
			}
			if f.sealed != nil {
				s = f.sealed
			}
			got, err := ring.open(keyID, tn, p, fld, s)
			if err == nil || got != "" {
				t.Fatalf("open = %q, %v; want an error and no plaintext", got, err)
			}
			var uk *UnknownKeyError
			if f.wantUnknownKeyErr && !errors.As(err, &uk) {
				t.Errorf("error = %v, want *UnknownKeyError", err)
			}
			if f.wantTampered && !errors.Is(err, ErrTampered) {
				t.Errorf("error = %v, want ErrTampered", err)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q contains the plaintext", err)
			}
		})
	}
}

func BenchmarkSeal(b *testing.B) {
	ring := mustRing(b, randomKey(b))
	tok := strings.Repeat("x", 900) // a Lightspeed JWT access token is about this long
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ring.seal("7f1c2d3e-0000-4000-8000-000000000001", Lightspeed, fieldAccess, tok); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	ring := mustRing(b, randomKey(b))
	tok := strings.Repeat("x", 900)
	sealed, err := ring.seal("7f1c2d3e-0000-4000-8000-000000000001", Lightspeed, fieldAccess, tok)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ring.open(ring.CurrentID(), "7f1c2d3e-0000-4000-8000-000000000001", Lightspeed, fieldAccess, sealed); err != nil {
			b.Fatal(err)
		}
	}
}
