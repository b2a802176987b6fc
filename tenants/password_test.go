package tenants

import (
	"strings"
	"testing"
)

var cheap = PasswordParams{Time: 1, Memory: 64, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestPasswordRoundTrip(t *testing.T) {
	t.Parallel()
	h, err := hashPassword("correct horse battery", cheap)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hash %q is not in PHC form with the given parameters", h)
	}
	h2, _ := hashPassword("correct horse battery", cheap)
	if h == h2 {
		t.Fatal("two hashes of one password are equal: salt is not random")
	}
	tests := []struct {
		password  string
		want      PasswordParams
		ok, stale bool
	}{
		{"correct horse battery", cheap, true, false},
		{"correct horse batterY", cheap, false, false},
		{"", cheap, false, false},
		{"correct horse battery", DefaultPasswordParams(), true, true},
	}
	for _, tt := range tests {
		ok, stale, err := checkPassword(tt.password, h, tt.want)
		if err != nil || ok != tt.ok || stale != tt.stale {
			t.Errorf("checkPassword(%q) = %v, %v, %v; want %v, %v, nil", tt.password, ok, stale, err, tt.ok, tt.stale)
		}
	}
}

func TestDecodeHashRejectsMalformed(t *testing.T) {
	t.Parallel()
	for _, h := range []string{
		"",
		"plain",
		"$2a$10$abcdefghijklmnopqrstuu", // bcrypt
		"$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5",
		"$argon2id$v=16$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5",
		"$argon2id$v=19$m=64,t=1$c2FsdHNhbHQ$a2V5a2V5",
		"$argon2id$v=19$m=0,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5",
		"$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5", // 4 GiB
		"$argon2id$v=19$m=64,t=99,p=1$c2FsdHNhbHQ$a2V5a2V5",
		"$argon2id$v=19$m=64,t=1,p=0$c2FsdHNhbHQ$a2V5a2V5",
		"$argon2id$v=19$m=64,t=1,p=1$!!!$a2V5a2V5",
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$",
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5$extra",
	} {
		if _, _, err := checkPassword("x", h, cheap); err == nil {
			t.Errorf("checkPassword accepted malformed hash %q", h)
		}
	}
}

// BenchmarkHashDefault measures one hash with the production parameters:
// roughly the CPU cost of one log-in.
func BenchmarkHashDefault(b *testing.B) {
	p := DefaultPasswordParams()
	for b.Loop() {
		if _, err := hashPassword("correct horse battery", p); err != nil {
			b.Fatal(err)
		}
	}
}

func TestWeakPassword(t *testing.T) {
	t.Parallel()
	tests := []struct {
		password string
		weak     bool
	}{
		{"aaaaaaaaaa", true},
		{"password12", true},
		{"Password2024!", true},
		{"p@ssw0rd123", true},
		{"qwertyuiop", true},
		{"1234567890", true},
		{"0987654321", true},
		{"abcdefghijk", true},
		{"abcabcabcabc", true},
		{"1212121212", true},
		{"1qaz2wsx3edc", true},
		{"letmein!!!!", true},
		{"iloveyou123", true},
		{"tandem2026!", true},
		{"a good password", false},
		{"correct horse battery", false},
		{"demo-password", false},
		{"ten chars!", false},
		{"8302749152", false},
		{"Zq8#mT2!vL", false},
	}
	for _, tt := range tests {
		if got := weakPassword(tt.password); got != tt.weak {
			t.Errorf("weakPassword(%q) = %v; want %v", tt.password, got, tt.weak)
		}
	}
}
