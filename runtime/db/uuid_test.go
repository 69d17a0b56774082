package db_test

import (
	"fmt"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/tessera/tessera/runtime/db"
	"github.com/tessera/tessera/runtime/dbtest"
)

// TestUUIDArguments: a uuid.UUID argument (value or pointer, nil pointer as NULL) reaches a
// uuid, text or untyped parameter as the same id, and the encode plan no longer goes through
// the id's text form.
func TestUUIDArguments(t *testing.T) {
	d, err := db.Open(t.Context(), dbtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	id := uuid.New()
	cases := []struct {
		name, sql string
		arg       any
		want      string
	}{
		{"uuid parameter", `SELECT $1::uuid::text`, id, id.String()},
		{"text parameter", `SELECT $1::text`, id, id.String()},
		{"pointer", `SELECT $1::uuid::text`, &id, id.String()},
		{"nil pointer is NULL", `SELECT coalesce($1::uuid::text, 'null')`, (*uuid.UUID)(nil), "null"},
		{"in an array", `SELECT ($1::uuid[])[1]::text`, []uuid.UUID{id}, id.String()},
		{"compared with a column", `SELECT x::text FROM (VALUES ($1::uuid)) v(x) WHERE x = $2`, id, id.String()},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := []any{c.arg}
			if c.name == "compared with a column" {
				args = append(args, id)
			}
			var got string
			if err := d.Pool.QueryRow(t.Context(), c.sql, args...).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
	conn, err := d.Pool.Acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	for _, v := range []any{id, &id} {
		plan := conn.Conn().TypeMap().PlanEncode(pgtype.UUIDOID, pgtype.BinaryFormatCode, v)
		if plan == nil {
			t.Fatalf("no encode plan for %T", v)
		}
		if got := fmt.Sprintf("%T", plan); got != "*db.uuidEncodePlan" {
			t.Fatalf("encode plan %s: %T still goes through driver.Valuer and its text form", got, v)
		}
	}
}
