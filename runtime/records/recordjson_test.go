package records

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tessera/tessera/runtime/events"
)

// TestRecordJSON: a record encodes as encoding/json encodes its struct (which it did before
// MarshalJSON was written out), with and without owner, team, merge and display names.
func TestRecordJSON(t *testing.T) {
	owner, team := uuid.New(), uuid.New()
	at := time.Date(2026, 12, 7, 3, 4, 5, 123456000, time.FixedZone("CST", 8*3600))
	cases := []*Record{
		{},
		{ID: uuid.New(), Entity: "lead", Data: map[string]any{"name": "客户 <1> & \"q\"", "score": 12.5, "n": nil,
			"tags": []any{"a", json.Number("3")}, "sub": map[string]any{"b": true}}, Version: 3, OwnerID: &owner, TeamID: &team,
			CreatedAt: at, UpdatedAt: at.Add(time.Hour)},
		{ID: uuid.New(), Entity: "e\u2028", Data: map[string]any{}, Version: 1, Merged: true, OwnerID: &owner,
			Display: map[string]string{owner.String(): "张三 <admin>", "b": "x"}, CreatedAt: at.UTC(), UpdatedAt: at.UTC()},
	}
	type plain Record
	for _, r := range cases {
		got, err := r.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal((*plain)(r))
		if !bytes.Equal(got, want) {
			t.Fatalf("\n got %s\nwant %s", got, want)
		}
		if via, _ := json.Marshal(r); !bytes.Equal(via, want) {
			t.Fatalf("through json.Marshal:\n got %s\nwant %s", via, want)
		}
	}
	if _, err := (&Record{Data: map[string]any{"x": math.Inf(1)}}).MarshalJSON(); err == nil {
		t.Fatal("an infinity encoded")
	}
	if _, err := (&Record{CreatedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}).MarshalJSON(); err == nil {
		t.Fatal("a year past 9999 encoded")
	}
	rc := &Record{Receipt: &events.Receipt{}}
	got, _ := rc.MarshalJSON()
	want, _ := json.Marshal(rc.Receipt)
	if !bytes.Equal(got, want) {
		t.Fatalf("receipt: got %s, want %s", got, want)
	}
}
