package report

import (
	"fmt"
	"math/big"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"
)

// normalize renders a scanned SQL value as a JSON-friendly Go value.
func normalize(v any, k valKind, tz *time.Location) any {
	switch x := v.(type) {
	case nil:
		return nil
	case time.Time:
		switch k {
		case vDay, vWeek:
			return x.Format("2006-01-02")
		case vMonth:
			return x.Format("2006-01")
		case vQuarter:
			return fmt.Sprintf("%d-Q%d", x.Year(), (int(x.Month())-1)/3+1)
		case vYear:
			return x.Format("2006")
		case vDate:
			return x.Format("2006-01-02")
		default:
			if tz != nil {
				x = x.In(tz)
			}
			return x.Format(time.RFC3339)
		}
	case [16]byte:
		return uuid.UUID(x).String()
	case int32:
		return int64(x)
	case int16:
		return int64(x)
	case float32:
		return float64(x)
	case pgtype.Numeric:
		f, err := x.Float64Value()
		if err != nil || !f.Valid {
			return nil
		}
		return f.Float64
	case *big.Int:
		return x.String()
	}
	return v
}
