package sync

import "testing"

func TestSOQLString(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", `''`},
		{"Smith", `'Smith'`},
		{"O'Brien", `'O\'Brien'`},
		{`back\slash`, `'back\\slash'`},
		{"two\nlines\r\tend", `'two\nlines\r\tend'`},
		{"Zoë 'Ö'", `'Zoë \'Ö\''`},
	} {
		if got := soqlString(tc.in); got != tc.want {
			t.Errorf("soqlString(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
	if got, want := soqlList([]string{"a", "b'c"}), `('a', 'b\'c')`; got != want {
		t.Errorf("soqlList = %s, want %s", got, want)
	}
}
