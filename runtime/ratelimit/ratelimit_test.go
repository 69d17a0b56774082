package ratelimit_test

import (
	"testing"
	"time"

	"github.com/tessera/tessera/runtime/ratelimit"
)

func TestTokenBucket(t *testing.T) {
	now := time.Unix(1000, 0)
	l := ratelimit.New(20, 40)
	l.SetClock(func() time.Time { return now })
	for i := range 40 {
		if ok, _ := l.Allow("a"); !ok {
			t.Fatalf("call %d of the burst refused", i+1)
		}
	}
	ok, wait := l.Allow("a")
	if ok || wait <= 0 || wait > 50*time.Millisecond {
		t.Fatalf("41st call: %v, retry after %s", ok, wait)
	}
	if ok, _ := l.Allow("b"); !ok {
		t.Fatal("another key shares the bucket")
	}
	now = now.Add(100 * time.Millisecond) // two tokens back
	for i := range 2 {
		if ok, _ := l.Allow("a"); !ok {
			t.Fatalf("refilled token %d refused", i+1)
		}
	}
	if ok, _ := l.Allow("a"); ok {
		t.Fatal("more tokens than the rate refills")
	}
	if ok, _ := ratelimit.New(0, 0).Allow("x"); !ok {
		t.Fatal("a zero rate must allow everything")
	}
}
