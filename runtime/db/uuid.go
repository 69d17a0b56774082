package db

import (
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"
)

// registerUUID makes pgx encode a google/uuid.UUID argument as the 16 bytes it is. Without it
// pgx takes the driver.Valuer path: UUID.Value formats the id as text and pgx parses that text
// back into bytes, for every id of every statement (about a tenth of a record create's CPU in
// `go run ./scripts/bench -only=creates -cpuprofile`). Scanning is left as it was.
func registerUUID(m *pgtype.Map) {
	m.TryWrapEncodePlanFuncs = append([]pgtype.TryWrapEncodePlanFunc{tryWrapUUIDEncodePlan}, m.TryWrapEncodePlanFuncs...)
}

func tryWrapUUIDEncodePlan(value any) (pgtype.WrappedEncodePlanNextSetter, any, bool) {
	switch v := value.(type) {
	case uuid.UUID:
		return &uuidEncodePlan{}, pgtype.UUID{Bytes: v, Valid: true}, true
	case *uuid.UUID:
		// pgx does not dereference a pointer whose type is a driver.Valuer: without this case
		// a *uuid.UUID (an owner or actor) was formatted as text, failed the binary encode,
		// built an error and was encoded a second time as text
		if v == nil {
			return &uuidEncodePlan{}, pgtype.UUID{}, true
		}
		return &uuidEncodePlan{}, pgtype.UUID{Bytes: *v, Valid: true}, true
	}
	return nil, nil, false
}

type uuidEncodePlan struct{ next pgtype.EncodePlan }

func (p *uuidEncodePlan) SetNext(next pgtype.EncodePlan) { p.next = next }

func (p *uuidEncodePlan) Encode(value any, buf []byte) ([]byte, error) {
	switch v := value.(type) {
	case uuid.UUID:
		return p.next.Encode(pgtype.UUID{Bytes: v, Valid: true}, buf)
	case *uuid.UUID:
		if v == nil {
			return nil, nil // NULL
		}
		return p.next.Encode(pgtype.UUID{Bytes: *v, Valid: true}, buf)
	}
	return nil, fmt.Errorf("uuid encode plan: unexpected %T", value)
}
