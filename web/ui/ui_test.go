package ui

import (
	"bytes"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
)

func render(t *testing.T, c templ.Component) *goquery.Document {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Render(t.Context(), &buf); err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestFieldLinksErrorsForScreenReaders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		f           Field
		invalid     string
		describedBy string
		value       bool
	}{
		{"plain", Field{Name: "email", Type: "email", Value: "a@b.example"}, "", "", true},
		{"hint", Field{Name: "email", Type: "email", Hint: "Work email."}, "", "email-hint", true},
		{"error wins over hint", Field{Name: "email", Type: "email", Hint: "h", Error: "Bad."}, "true", "email-error", true},
		{"password never echoed", Field{Name: "password", Type: "password", Value: "secret!"}, "", "", false},
	}
	for _, tt := range tests {
		doc := render(t, field(tt.f))
		in := doc.Find("input#" + tt.f.Name)
		seen := map[string]bool{}
		for _, a := range in.Nodes[0].Attr {
			if seen[a.Key] || a.Key == "else" {
				t.Errorf("%s: input has a duplicate or stray attribute %q", tt.name, a.Key)
			}
			seen[a.Key] = true
		}
		if got := in.AttrOr("aria-invalid", ""); got != tt.invalid {
			t.Errorf("%s: aria-invalid = %q; want %q", tt.name, got, tt.invalid)
		}
		if got := in.AttrOr("aria-describedby", ""); got != tt.describedBy {
			t.Errorf("%s: aria-describedby = %q; want %q", tt.name, got, tt.describedBy)
		}
		if tt.describedBy != "" && doc.Find("#"+tt.describedBy).Length() != 1 {
			t.Errorf("%s: nothing has id %s", tt.name, tt.describedBy)
		}
		if _, has := in.Attr("value"); has != tt.value {
			t.Errorf("%s: value attribute present = %v; want %v", tt.name, has, tt.value)
		}
		if doc.Find("label[for="+tt.f.Name+"]").Length() != 1 {
			t.Errorf("%s: no label for the input", tt.name)
		}
	}
}

func TestLayoutEscapesAndShowsAccount(t *testing.T) {
	t.Parallel()
	body := templ.Raw("<p id=body>hi</p>")
	anon := render(t, Layout(Page{Title: "<Log in>", LoginURL: "/login", SignUpURL: "/signup"}, body))
	if got := anon.Find("title").Text(); got != "<Log in> · Tandem" {
		t.Errorf("title = %q", got)
	}
	if anon.Find("#body").Length() != 1 || anon.Find("a[href='/signup']").Length() != 1 || anon.Find("form").Length() != 0 {
		t.Error("anonymous layout: want the body, a sign-up link and no log-out form")
	}

	p := Page{
		Title:     "Dashboard",
		Viewer:    &Viewer{Email: "me@shop.example", TenantName: "<script>x</script>"},
		LogoutURL: "/logout", CSRF: "tok",
		Nav:     []NavItem{{Label: "Dashboard", URL: "/dashboard", Current: true}, {Label: "Staff", URL: "/staff"}},
		Flashes: []Flash{{Kind: FlashError, Message: "Bad"}, {Kind: FlashSuccess, Message: "Good"}},
	}
	var buf bytes.Buffer
	if err := Layout(p, body).Render(t.Context(), &buf); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "<script>") {
		t.Error("tenant name not escaped")
	}
	doc := render(t, Layout(p, body))
	if got := doc.Find("form[action='/logout'] input[name=csrf]").AttrOr("value", ""); got != "tok" {
		t.Errorf("log-out form csrf = %q", got)
	}
	if got := doc.Find("a[aria-current=page]").Text(); got != "Dashboard" {
		t.Errorf("current nav = %q", got)
	}
	if doc.Find(".flash.error[role=alert]").Text() != "Bad" || doc.Find(".flash.success[role=status]").Text() != "Good" {
		t.Error("flashes lack their kind or role")
	}
}
