package records_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/access"
	"github.com/tessera/tessera/runtime/records"
)

const productEntity = `{"slug":"product","title_field":"name","fields":[
 {"key":"name","type":"text","required":true},
 {"key":"price","type":"money"},
 {"key":"cost","type":"money"},
 {"key":"max_discount","type":"percent"}]}`

// quoteEntity has line items: the product fills the unit price (when empty), the maximum
// discount (always, read-only) and the cost; line totals and the set's sums are formulas.
const quoteEntity = `{"slug":"quote","fields":[
 {"key":"title","type":"text"},
 {"key":"items","type":"lines","max_rows":5,"fields":[
   {"key":"product","type":"relation","target":"product","required":true,
    "fill":{"unit_price":"price","max_discount":"max_discount","cost":"cost"}},
   {"key":"quantity","type":"number","min":1,"required":true,"default":1},
   {"key":"unit_price","type":"money","required":true},
   {"key":"discount","type":"percent","min":0,"max":100},
   {"key":"max_discount","type":"percent","readonly":true},
   {"key":"cost","type":"money"},
   {"key":"note","type":"text","max_length":10},
   {"key":"line_total","type":"formula","formula":"(line.quantity ?? 0) * (line.unit_price ?? 0) * (1 - (line.discount ?? 0) / 100)"}]},
 {"key":"tax_rate","type":"percent","default":13},
 {"key":"subtotal","type":"formula","formula":"sum(record.items ?? [], .line_total ?? 0)"},
 {"key":"total","type":"formula","formula":"round((record.subtotal ?? 0) * (1 + (record.tax_rate ?? 0) / 100) * 100) / 100"},
 {"key":"over_limit","type":"formula","formula":"any(record.items ?? [], (.discount ?? 0) > (.max_discount ?? 0))"}]}`

type linesEnv struct {
	*env
	widget, gadget string
}

func newLinesEnv(t *testing.T) *linesEnv {
	e := newEnv(t)
	e.publish(spec.KindEntity, "product", productEntity)
	e.publish(spec.KindEntity, "quote", quoteEntity)
	le := &linesEnv{env: e}
	le.widget = le.create("product", map[string]any{"name": "Widget", "price": 100, "cost": 40, "max_discount": 10}).ID.String()
	le.gadget = le.create("product", map[string]any{"name": "Gadget", "price": 250.5, "cost": 100, "max_discount": 5}).ID.String()
	return le
}

func (e *linesEnv) create(entity string, v map[string]any) *records.Record {
	e.t.Helper()
	r, err := e.store.Create(context.Background(), e.app, entity, v, e.w())
	if err != nil {
		e.t.Fatalf("creating %s: %v", entity, err)
	}
	return r
}

func rowsOf(t *testing.T, r *records.Record) []map[string]any {
	t.Helper()
	b, _ := json.Marshal(r.Data["items"])
	var out []map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("items %s: %v", b, err)
	}
	return out
}

func TestLinesValidationPerRow(t *testing.T) {
	e := newLinesEnv(t)
	missing := uuid.NewString()
	cases := []struct {
		name        string
		items       any
		field, code string
	}{
		{"not a list", 5, "items", "invalid_type"},
		{"row not an object", []any{"x"}, "items[0]", "invalid_type"},
		{"bad number", []any{map[string]any{"product": e.widget, "quantity": "lots"}}, "items[0].quantity", "invalid_type"},
		{"below min in the third row", []any{map[string]any{"product": e.widget}, map[string]any{"product": e.widget}, map[string]any{"product": e.widget, "quantity": 0}}, "items[2].quantity", "too_small"},
		{"unknown column", []any{map[string]any{"product": e.widget, "colour": "red"}}, "items[0].colour", "unknown_field"},
		{"too long", []any{map[string]any{"product": e.widget, "note": "12345678901"}}, "items[0].note", "too_long"},
		{"required column", []any{map[string]any{"quantity": 2}}, "items[0].product", "required"},
		{"missing product", []any{map[string]any{"product": e.widget}, map[string]any{"product": missing}}, "items[1].product", "not_found"},
		{"too many rows", []any{map[string]any{}, map[string]any{}, map[string]any{}, map[string]any{}, map[string]any{}, map[string]any{}}, "items", "too_many"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.store.Create(context.Background(), e.app, "quote", map[string]any{"title": c.name, "items": c.items}, e.w())
			fieldErr(t, err, c.field, c.code)
		})
	}
	// nothing was written
	page, err := e.store.List(context.Background(), e.app, "quote", records.ListQuery{Limit: 10}, access.All())
	if err != nil || len(page.Items) != 0 {
		t.Fatalf("want no quotes after failed writes, got %v %v", page, err)
	}
}

func TestLinesFillAndFormulas(t *testing.T) {
	e := newLinesEnv(t)
	ctx := context.Background()
	// the client's max_discount and line_total are ignored; unit_price is filled when empty
	q := e.create("quote", map[string]any{"items": []any{
		map[string]any{"product": e.widget, "quantity": 3, "discount": 20, "max_discount": 99, "line_total": 1},
		map[string]any{"product": e.gadget, "quantity": "2", "unit_price": 200},
	}})
	rows := rowsOf(t, q)
	if len(rows) != 2 {
		t.Fatalf("rows: %v", rows)
	}
	want := []map[string]any{
		{"unit_price": 100.0, "max_discount": 10.0, "cost": 40.0, "line_total": 240.0},
		{"unit_price": 200.0, "max_discount": 5.0, "cost": 100.0, "line_total": 400.0},
	}
	for i, w := range want {
		for k, v := range w {
			if rows[i][k] != v {
				t.Errorf("row %d %s = %v, want %v", i, k, rows[i][k], v)
			}
		}
		if _, err := uuid.Parse(rows[i]["id"].(string)); err != nil {
			t.Errorf("row %d has no id: %v", i, rows[i])
		}
	}
	if q.Data["subtotal"] != 640.0 || q.Data["total"] != 723.2 || q.Data["over_limit"] != true {
		t.Fatalf("set formulas: subtotal %v total %v over_limit %v", q.Data["subtotal"], q.Data["total"], q.Data["over_limit"])
	}

	// the product's price list changes; an update of another column keeps the rows' read-only
	// values (a row whose product is unchanged is not re-filled) and recomputes the totals
	if _, err := e.store.Update(ctx, e.app, "product", uuid.MustParse(e.widget), map[string]any{"max_discount": 50}, nil, e.w()); err != nil {
		t.Fatal(err)
	}
	rows[0]["quantity"] = 1
	rows[0]["discount"] = 10
	delete(rows[0], "max_discount")
	items := []any{rows[0], rows[1]}
	q2, err := e.store.Update(ctx, e.app, "quote", q.ID, map[string]any{"items": items}, nil, e.w())
	if err != nil {
		t.Fatal(err)
	}
	r2 := rowsOf(t, q2)
	if r2[0]["id"] != rows[0]["id"] || r2[0]["max_discount"] != 10.0 || r2[0]["line_total"] != 90.0 {
		t.Fatalf("updated row: %v", r2[0])
	}
	if q2.Data["subtotal"] != 490.0 || q2.Data["over_limit"] != false {
		t.Fatalf("after update: subtotal %v over_limit %v", q2.Data["subtotal"], q2.Data["over_limit"])
	}
	// switching the row's product re-fills the read-only column from the new product
	r2[0]["product"] = e.gadget
	r2[0]["unit_price"] = 10
	q3, err := e.store.Update(ctx, e.app, "quote", q.ID, map[string]any{"items": []any{r2[0]}}, nil, e.w())
	if err != nil {
		t.Fatal(err)
	}
	r3 := rowsOf(t, q3)
	if len(r3) != 1 || r3[0]["max_discount"] != 5.0 || r3[0]["unit_price"] != 10.0 || q3.Data["over_limit"] != true {
		t.Fatalf("after switching product: %v over_limit %v", r3, q3.Data["over_limit"])
	}
	// a JSON text (as a CSV column carries it) is accepted too
	q4 := e.create("quote", map[string]any{"items": `[{"product":"` + e.widget + `","quantity":2}]`})
	if q4.Data["subtotal"] != 200.0 {
		t.Fatalf("JSON text rows: %v", q4.Data)
	}
}

func TestLinesFilterAndScope(t *testing.T) {
	e := newLinesEnv(t)
	ctx := context.Background()
	var rep uuid.UUID
	if err := e.d.Pool.QueryRow(ctx, `INSERT INTO users (email, name) VALUES ('rep@example.com','Rep') RETURNING id`).Scan(&rep); err != nil {
		t.Fatal(err)
	}
	repActor := access.Subject{UserID: rep}
	own := access.Grant{Scope: access.ScopeOwn, Owner: rep}
	mine, err := e.store.Create(ctx, e.app, "quote", map[string]any{"title": "mine", "items": []any{map[string]any{"product": e.gadget}}},
		records.WriteOptions{Actor: repActor, Grant: own})
	if err != nil {
		t.Fatal(err)
	}
	theirs := e.create("quote", map[string]any{"title": "theirs", "items": []any{map[string]any{"product": e.widget, "quantity": 4}}})

	list := func(filter string, g access.Grant) []string {
		t.Helper()
		page, err := e.store.List(ctx, e.app, "quote", records.ListQuery{Filter: json.RawMessage(filter), Limit: 10, Sort: "created_at"}, g)
		if err != nil {
			t.Fatalf("filter %s: %v", filter, err)
		}
		var out []string
		for _, r := range page.Items {
			out = append(out, r.Data["title"].(string))
		}
		return out
	}
	cases := []struct {
		filter string
		g      access.Grant
		want   []string
	}{
		{`{"items.product":{"eq":"` + e.widget + `"}}`, access.All(), []string{"theirs"}},
		{`{"items.quantity":{"gte":2}}`, access.All(), []string{"theirs"}},
		{`{"items.unit_price":{"gt":200}}`, access.All(), []string{"mine"}},
		{`{"items":{"is_empty":false}}`, access.All(), []string{"mine", "theirs"}},
		// a reader without access to the parent sees neither it nor its lines
		{`{"items.product":{"eq":"` + e.widget + `"}}`, own, nil},
		{`{}`, own, []string{"mine"}},
	}
	for _, c := range cases {
		if got := list(c.filter, c.g); len(got) != len(c.want) || (len(got) > 0 && got[0] != c.want[0]) {
			t.Errorf("filter %s: got %v, want %v", c.filter, got, c.want)
		}
	}
	if _, err := e.store.Get(ctx, e.app, "quote", theirs.ID, own); !errors.Is(err, records.ErrNotFound) {
		t.Fatalf("the rep read another's quote and its lines: %v", err)
	}
	if _, err := e.store.List(ctx, e.app, "quote", records.ListQuery{Filter: json.RawMessage(`{"items":{"eq":"x"}}`)}, access.All()); err == nil {
		t.Fatal("a lines field compared with eq")
	}
	_ = mine
	// a link may only name products the writer can read, and hidden product fields are not
	// copied into the row
	linkGrant := func(hidden map[string]bool, scope string) func(context.Context, string) (access.Grant, error) {
		return func(context.Context, string) (access.Grant, error) {
			return access.Grant{Scope: scope, Owner: rep, Hidden: hidden}, nil
		}
	}
	w := records.WriteOptions{Actor: repActor, Grant: own, LinkGrant: linkGrant(map[string]bool{"cost": true}, access.ScopeAll)}
	q, err := e.store.Create(ctx, e.app, "quote", map[string]any{"items": []any{map[string]any{"product": e.widget}}}, w)
	if err != nil {
		t.Fatal(err)
	}
	if r := rowsOf(t, q)[0]; r["cost"] != nil || r["unit_price"] != 100.0 {
		t.Fatalf("hidden cost copied or price not filled: %v", r)
	}
	w.LinkGrant = linkGrant(nil, access.ScopeOwn)
	_, err = e.store.Create(ctx, e.app, "quote", map[string]any{"items": []any{map[string]any{"product": e.widget}}}, w)
	fieldErr(t, err, "items[0].product", "not_found")
}
