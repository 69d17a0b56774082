package records_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/records"
)

// TestRecordIDsAreTimeOrdered: records created one after another, by Create or by Import, get
// version 7 ids that sort in creation order (their primary-key inserts land on the index's
// rightmost pages, #18).
func TestRecordIDsAreTimeOrdered(t *testing.T) {
	e := newEnv(t)
	e.publish(spec.KindEntity, "note", `{"slug":"note","fields":[{"key":"title","type":"text"}]}`)
	ctx := context.Background()
	var ids []uuid.UUID
	for _, title := range []string{"a", "b", "c"} {
		rec, err := e.store.Create(ctx, e.app, "note", map[string]any{"title": title}, e.w())
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, rec.ID)
	}
	res, err := e.store.Import(ctx, e.app, "note", importRows([]map[string]any{{"title": "d"}, {"title": "e"}}), records.ImportOptions{Write: e.w()})
	if err != nil {
		t.Fatal(err)
	}
	ids = append(ids, res.IDs...)
	if len(ids) != 5 {
		t.Fatalf("%d ids, want 5", len(ids))
	}
	for i, id := range ids {
		if id.Version() != 7 {
			t.Fatalf("id %d (%s) is version %d, want 7", i, id, id.Version())
		}
		if i > 0 && bytes.Compare(ids[i-1][:6], id[:6]) > 0 {
			t.Fatalf("id %d (%s) sorts before the one created before it (%s)", i, id, ids[i-1])
		}
	}
}
