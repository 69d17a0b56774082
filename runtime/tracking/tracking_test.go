package tracking

import (
	"strings"
	"testing"

	"github.com/google/uuid"
)

func TestTokens(t *testing.T) {
	s := NewSigner([]byte("master key of this server, 32 b"))
	other := NewSigner([]byte("another server's master key....."))
	c := Claim{App: uuid.New(), Entity: "lead", Record: uuid.New(), Type: "email_opened"}
	tok := s.Token(c)
	got, err := s.Parse(tok)
	if err != nil || got != c {
		t.Fatalf("round trip: %v %v", got, err)
	}
	p, sig, _ := strings.Cut(tok, ".")
	forged := s.Token(Claim{App: c.App, Entity: "lead", Record: uuid.New(), Type: "email_opened"})
	fp, _, _ := strings.Cut(forged, ".")
	for name, bad := range map[string]string{
		"other key":         other.Token(c),
		"payload swapped":   fp + "." + sig,
		"signature cut":     p + "." + sig[:len(sig)-1],
		"no signature":      p,
		"empty":             "",
		"garbage":           "%%%.###",
		"too long":          strings.Repeat("a", 700) + "." + sig,
		"valid sig no json": "YWJj." + s.mac("YWJj"),
	} {
		if _, err := s.Parse(bad); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
