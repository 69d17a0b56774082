package filter_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/dbtest"
	"github.com/tessera/tessera/runtime/filter"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func testEntity(t testing.TB) *spec.Entity {
	t.Helper()
	v, err := spec.Decode(spec.KindEntity, []byte(`{"slug":"lead","fields":[
		{"key":"name","type":"text"},{"key":"stage","type":"select","options":["new","proposal","won"]},
		{"key":"amount","type":"money"},{"key":"due","type":"date"},{"key":"seen","type":"datetime"},
		{"key":"vip","type":"boolean"},{"key":"tags","type":"multiselect","options":["a","b","c"]},
		{"key":"files","type":"attachment","multiple":true},{"key":"cost","type":"number"},
		{"key":"phone","type":"phone"},{"key":"email","type":"email"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	return v.(*spec.Entity)
}

// TestCompileAgainstPostgres runs every operator against real rows and checks which match.
func TestCompileAgainstPostgres(t *testing.T) {
	d := dbtest.Open(t)
	ctx := context.Background()
	ent := testEntity(t)
	var appID uuid.UUID
	if err := d.Pool.QueryRow(ctx, `INSERT INTO apps (slug, name) VALUES ('crm','CRM') RETURNING id`).Scan(&appID); err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{
		"a": `{"name":"张三 Co_1","stage":"new","amount":500,"due":"2026-01-10","seen":"2026-01-10T08:00:00Z","vip":true,"tags":["a","b"],"files":[{"id":"x","name":"报价单.pdf"}],"cost":1,"phone":"+8613800138000","email":"zhang@example.com"}`,
		"b": `{"name":"Li 100%","stage":"proposal","amount":1500,"due":"2026-02-01","seen":"2026-02-01T08:00:00Z","vip":false,"tags":["c"],"files":[],"phone":"+16502530000"}`,
		"c": `{"name":"","stage":"won","amount":2500.5}`,
	}
	for name, data := range rows {
		if _, err := d.Pool.Exec(ctx, `INSERT INTO records (app_id, entity, data, owner_id) VALUES ($1,'lead',$2::jsonb,NULL)`, appID, strings.Replace(data, "{", `{"_t":"`+name+`",`, 1)); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name, filter, want string
	}{
		{"empty", `{}`, "abc"},
		{"eq select", `{"stage":{"eq":"new"}}`, "a"},
		{"shorthand", `{"stage":"won"}`, "c"},
		{"ne", `{"stage":{"ne":"new"}}`, "bc"},
		{"gte money", `{"amount":{"gte":1500}}`, "bc"},
		{"lt money string", `{"amount":{"lt":"1500"}}`, "a"},
		{"and", `{"stage":{"in":["new","proposal"]},"amount":{"gt":1000}}`, "b"},
		{"or", `{"or":[{"stage":"new"},{"amount":{"gt":2000}}]}`, "ac"},
		{"not", `{"not":{"stage":"new"}}`, "bc"},
		{"between dates", `{"due":{"between":["2026-01-01","2026-01-31"]}}`, "a"},
		{"between datetimes", `{"seen":{"between":["2026-01-15T00:00:00+08:00","2026-03-01"]}}`, "b"},
		{"between date-only days on a datetime includes the last day", `{"seen":{"between":["2026-02-01","2026-02-01"]}}`, "b"},
		{"contains ci", `{"name":{"contains":"co_"}}`, "a"},
		{"contains escapes percent", `{"name":{"contains":"0%"}}`, "b"},
		{"contains escapes underscore", `{"name":{"contains":"o_1"}}`, "a"},
		{"underscore literal", `{"name":{"contains":"_"}}`, "a"},
		{"is_empty true", `{"name":{"is_empty":true}}`, "c"},
		{"is_empty false", `{"due":{"is_empty":false}}`, "ab"},
		{"eq null", `{"due":{"eq":null}}`, "c"},
		{"bool", `{"vip":{"eq":true}}`, "a"},
		{"multiselect contains", `{"tags":{"contains":"b"}}`, "a"},
		{"multiselect in", `{"tags":{"in":["c","z"]}}`, "b"},
		{"attachment contains", `{"files":{"contains":"报价单"}}`, "a"},
		{"attachment empty", `{"files":{"is_empty":true}}`, "bc"},
		{"system created_at", `{"created_at":{"lte":"2999-01-01"}}`, "abc"},
		{"system owner empty", `{"owner_id":{"is_empty":true}}`, "abc"},
		{"in numbers", `{"amount":{"in":[500,2500.5]}}`, "ac"},
		// comparison values are normalised like stored ones
		{"phone written locally", `{"phone":{"eq":"138 0013 8000"}}`, "a"},
		{"phone in mixed forms", `{"phone":{"in":["+1 650-253-0000","13800138000"]}}`, "ab"},
		{"phone ne local form", `{"phone":{"ne":"138-0013-8000"}}`, "bc"},
		{"phone not a number", `{"phone":{"eq":"12"}}`, ""},
		{"email any case", `{"email":{"eq":" Zhang@Example.COM "}}`, "a"},
		{"bool word", `{"vip":{"eq":"是"}}`, "a"},
		{"bool no", `{"vip":{"eq":"no"}}`, "b"},
		// relative periods, counted from filter.Now = 2026-01-12 10:00 Asia/Shanghai
		{"period last 7 days on a date", `{"due":{"period":"last_7_days"}}`, "a"},
		{"period this month on a datetime", `{"seen":{"period":"this_month"}}`, "a"},
		{"period next 30 days", `{"due":{"period":"next_30_days"}}`, "b"},
		{"period last month", `{"seen":{"period":"last_month"}}`, ""},
		{"period this year", `{"due":{"period":"this_year"}}`, "ab"},
		{"period last 24 hours", `{"seen":{"period":"last_24_hours"}}`, ""},
		{"period last 48 hours (42 hours ago)", `{"seen":{"period":"last_48_hours"}}`, "a"},
		{"period this week", `{"seen":{"period":"this_week"}}`, ""},
		{"period last week", `{"due":{"period":"last_week"}}`, "a"},
		{"period on a system column", `{"created_at":{"period":"last_month"}}`, ""},
	}
	oldNow := filter.Now
	filter.Now = func() time.Time { return time.Date(2026, 1, 12, 10, 0, 0, 0, filter.Location) }
	t.Cleanup(func() { filter.Now = oldNow })
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := []any{appID}
			pred, err := filter.Compile(json.RawMessage(tc.filter), ent, nil, "r", &args)
			if err != nil {
				t.Fatalf("compile: %v", err)
			}
			q := `SELECT string_agg(r.data->>'_t', '' ORDER BY r.data->>'_t') FROM records r WHERE r.app_id = $1`
			if pred != "" {
				q += " AND " + pred
			}
			var got *string
			if err := d.Pool.QueryRow(ctx, q, args...).Scan(&got); err != nil {
				t.Fatalf("query %s: %v", q, err)
			}
			g := ""
			if got != nil {
				g = *got
			}
			if g != tc.want {
				t.Errorf("filter %s matched %q, want %q (sql %s)", tc.filter, g, tc.want, pred)
			}
		})
	}

	t.Run("sort", func(t *testing.T) {
		order, err := filter.Sort("-amount,name", ent, nil)
		if err != nil {
			t.Fatal(err)
		}
		var got string
		if err := d.Pool.QueryRow(ctx, `SELECT string_agg(data->>'_t', '' ORDER BY `+order+`) FROM records`).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != "cba" {
			t.Errorf("sort -amount gave %q", got)
		}
	})
}

// TestCompileErrors checks the 422 cases; hidden fields answer exactly like unknown ones.
func TestCompileErrors(t *testing.T) {
	ent := testEntity(t)
	hidden := map[string]bool{"cost": true}
	cases := []struct{ name, filter, field, code string }{
		{"unknown field", `{"nope":{"eq":1}}`, "filter.nope", "unknown_field"},
		{"hidden field", `{"cost":{"eq":1}}`, "filter.cost", "unknown_field"},
		{"bad operator", `{"amount":{"like":1}}`, "filter.amount.like", "invalid_operator"},
		{"bad number", `{"amount":{"gt":"abc"}}`, "filter.amount.gt", "invalid_value"},
		{"bad date", `{"due":{"eq":"yesterday"}}`, "filter.due.eq", "invalid_value"},
		{"unknown period", `{"due":{"period":"someday"}}`, "filter.due.period", "invalid_value"},
		{"period on a number", `{"amount":{"period":"today"}}`, "filter.amount.period", "invalid_operator"},
		{"between shape", `{"due":{"between":["2026-01-01"]}}`, "filter.due.between", "invalid_value"},
		{"is_empty type", `{"due":{"is_empty":"yes"}}`, "filter.due.is_empty", "invalid_value"},
		{"or not array", `{"or":{"stage":"new"}}`, "filter.or", "invalid_type"},
		{"not object", `[1,2]`, "filter", "invalid_type"},
		{"bad json", `{"a":`, "filter", "invalid_json"},
		{"trailing", `{} {}`, "filter", "invalid_json"},
		{"bool compare", `{"vip":{"gt":true}}`, "filter.vip.gt", "invalid_operator"},
		{"bool word unknown", `{"vip":{"eq":"maybe"}}`, "filter.vip.eq", "invalid_value"},
		{"bad uuid", `{"owner_id":{"eq":"x"}}`, "filter.owner_id.eq", "invalid_value"},
		{"too deep", strings.Repeat(`{"not":`, 12) + `{}` + strings.Repeat(`}`, 12), "", "too_deep"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := []any{"keep"}
			_, err := filter.Compile(json.RawMessage(tc.filter), ent, hidden, "", &args)
			var errs spec.Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("want spec.Errors, got %v", err)
			}
			if errs[0].Code != tc.code || (tc.field != "" && errs[0].Field != tc.field) {
				t.Errorf("got %+v, want field %q code %q", errs[0], tc.field, tc.code)
			}
			if len(args) != 1 {
				t.Errorf("args not restored on error: %v", args)
			}
		})
	}
	if _, err := filter.Sort("cost", ent, hidden); err == nil {
		t.Error("sorting by a hidden field must fail")
	}
	if _, err := filter.Sort("tags", ent, nil); err == nil {
		t.Error("sorting by a list field must fail")
	}
	if s, err := filter.Sort("", ent, nil); err != nil || s != "created_at DESC NULLS FIRST, id DESC" {
		t.Errorf("default sort = %q, %v", s, err)
	}
}

// FuzzCompile checks that no filter input panics: every input compiles or is a spec.Errors.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{`{}`, `{"stage":{"eq":"new"},"amount":{"gte":1000}}`, `{"or":[{"stage":"new"},{"amount":{"between":[1,2]}}]}`,
		`{"tags":{"contains":["a"]}}`, `{"due":{"between":["2026-01-01","2026-12-31"]}}`, `{"name":{"contains":"%_\\"}}`,
		`{"not":{"and":[{"vip":true}]}}`, `{"created_at":{"gt":"2026-01-01T00:00:00Z"}}`, `null`, `[]`, `"x"`} {
		f.Add(s)
	}
	ent := testEntity(f)
	f.Fuzz(func(t *testing.T, raw string) {
		var args []any
		sql, err := filter.Compile(json.RawMessage(raw), ent, map[string]bool{"cost": true}, "r", &args)
		if err != nil {
			var errs spec.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("non-spec error %T: %v", err, err)
			}
			return
		}
		if strings.Count(sql, "$") != len(args) && !strings.Contains(raw, "$") {
			// every argument is referenced exactly once
			t.Fatalf("sql %q has %d placeholders for %d args", sql, strings.Count(sql, "$"), len(args))
		}
	})
}
