package records

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/access"
	"github.com/tessera/tessera/runtime/defs"
)

// Bulk actions.
const (
	BulkUpdate = "update" // set the same values on every row (Values)
	BulkOwner  = "owner"  // hand every row to OwnerID (and their team)
	BulkDelete = "delete" // soft-delete every row
)

// MaxBulk is the most rows one bulk request may name.
const MaxBulk = 500

// BulkRequest is one batch: an action over rows of one entity.
type BulkRequest struct {
	Action  string         `json:"action"`
	IDs     []string       `json:"ids"`
	Values  map[string]any `json:"values,omitempty"`
	OwnerID string         `json:"owner_id,omitempty"`
}

// BulkRow is the outcome of one row: status "ok" (with the new version, 0 for a delete) or
// "failed" with a code (not_found, out_of_scope, invalid, read_only, conflict, duplicate,
// forbidden) and, for invalid values, the field errors.
type BulkRow struct {
	ID      string      `json:"id"`
	Status  string      `json:"status"`
	Version int         `json:"version,omitempty"`
	Code    string      `json:"code,omitempty"`
	Message string      `json:"message,omitempty"`
	Errors  spec.Errors `json:"errors,omitempty"`
}

// BulkResult answers a batch: the rows in the order asked and the counts.
type BulkResult struct {
	Rows   []BulkRow `json:"rows"`
	OK     int       `json:"ok"`
	Failed int       `json:"failed"`
}

// Bulk applies req to every row in one transaction, each row in its own savepoint through the
// normal write path (Update, SetOwner, Delete): validation, read-only fields, stage gates,
// unique checks, history and flows hold per row, and the write grant w.Grant limits the rows
// in SQL (a row outside it is not loaded at all). A row that fails is rolled back to its
// savepoint and reported; the other rows are written. read is the caller's read grant: a
// failed row they may read but not change is reported as out_of_scope, any other missing row
// as not_found, so the answer never confirms a record the caller cannot read.
func (s *Store) Bulk(ctx context.Context, app *defs.App, entity string, req BulkRequest, read access.Grant, w WriteOptions) (*BulkResult, error) {
	if _, _, err := s.entityFor(ctx, app, entity, w); err != nil {
		return nil, err
	}
	var errs spec.Errors
	switch req.Action {
	case BulkUpdate:
		if len(req.Values) == 0 {
			errs.Add("values", "required", "give the values to set (请填写要设置的值)")
		}
	case BulkOwner:
		if _, err := uuid.Parse(req.OwnerID); err != nil {
			errs.Add("owner_id", "invalid", "owner_id must be a user id (负责人无效)")
		}
	case BulkDelete:
	default:
		errs.Add("action", "invalid_value", "action must be update, owner or delete (操作须为 update、owner 或 delete)")
	}
	switch {
	case len(req.IDs) == 0:
		errs.Add("ids", "required", "name at least one record (请至少选择一条记录)")
	case len(req.IDs) > MaxBulk:
		errs.Add("ids", "too_many", "at most %[1]d records per request (每次最多 %[1]d 条记录)", MaxBulk)
	}
	ids := make([]uuid.UUID, len(req.IDs))
	seen := map[uuid.UUID]bool{}
	for i, raw := range req.IDs {
		id, err := uuid.Parse(raw)
		if err != nil {
			errs.Add(fmt.Sprintf("ids[%d]", i), "invalid", "not a record id (记录 id 无效)")
			continue
		}
		if seen[id] {
			errs.Add(fmt.Sprintf("ids[%d]", i), "duplicate", "the record is named twice (记录重复)")
		}
		seen[id] = true
		ids[i] = id
	}
	if len(errs) > 0 {
		return nil, errs
	}
	tx, err := s.begin(ctx, w)
	if err != nil {
		return nil, fmt.Errorf("bulk %s: %w", req.Action, err)
	}
	defer tx.Rollback(ctx)
	rw := w
	rw.Tx = tx
	res := &BulkResult{Rows: make([]BulkRow, len(ids))}
	var missing []uuid.UUID
	for i, id := range ids {
		row := BulkRow{ID: id.String(), Status: "ok"}
		var err error
		switch req.Action {
		case BulkUpdate:
			values := make(map[string]any, len(req.Values))
			for k, v := range req.Values {
				values[k] = v
			}
			var rec *Record
			if rec, err = s.Update(ctx, app, entity, id, values, nil, rw); err == nil {
				row.Version = rec.Version
			}
		case BulkOwner:
			var rec *Record
			if rec, err = s.SetOwner(ctx, app, entity, id, uuid.MustParse(req.OwnerID), rw); err == nil {
				row.Version = rec.Version
			}
		case BulkDelete:
			err = s.Delete(ctx, app, entity, id, rw)
		}
		if err != nil {
			row.Status = "failed"
			row.Code, row.Message, row.Errors = bulkError(err)
			if row.Code == "" {
				return nil, err
			}
			if row.Code == "not_found" {
				missing = append(missing, id)
			}
			res.Failed++
		} else {
			res.OK++
		}
		res.Rows[i] = row
	}
	if len(missing) > 0 && read.Allowed() {
		// Rows the caller can read but not change: say so (they can see them anyway).
		args := []any{app.ID, entity, missing}
		sql := `SELECT r.id FROM records r WHERE r.app_id = $1 AND r.entity = $2 AND r.id = ANY($3) AND r.deleted_at IS NULL`
		if p := read.RowPredicate("r", &args); p != "" {
			sql += " AND " + p
		}
		rows, err := tx.Query(ctx, sql, args...)
		if err != nil {
			return nil, fmt.Errorf("bulk %s: checking scope: %w", req.Action, err)
		}
		readable := map[string]bool{}
		for rows.Next() {
			var id uuid.UUID
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, fmt.Errorf("bulk %s: checking scope: %w", req.Action, err)
			}
			readable[id.String()] = true
		}
		rows.Close()
		for i := range res.Rows {
			if res.Rows[i].Code == "not_found" && readable[res.Rows[i].ID] {
				res.Rows[i].Code = "out_of_scope"
				res.Rows[i].Message = "you may not change this record (没有权限修改此记录)"
			}
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("bulk %s: committing: %w", req.Action, err)
	}
	return res, nil
}

// bulkError classifies a row's failure; an empty code is an internal error that aborts the batch.
func bulkError(err error) (code, msg string, fields spec.Errors) {
	var fe spec.Errors
	var dup *DuplicateError
	switch {
	case errors.As(err, &fe):
		return "invalid", "the values are not valid for this record (值无效)", fe
	case errors.Is(err, ErrNotFound):
		return "not_found", "record not found (记录不存在)", nil
	case errors.Is(err, ErrConflict):
		return "conflict", "the record was changed by someone else (记录已被他人修改)", nil
	case errors.As(err, &dup):
		return "duplicate", "a matching record already exists (已存在重复记录)", nil
	case errors.Is(err, ErrReadOnlyField):
		var ro *ReadOnlyError
		if errors.As(err, &ro) {
			for _, f := range ro.Fields {
				fields = append(fields, spec.FieldError{Field: f, Code: "read_only", Message: "the field is read-only for you (该字段对您只读)"})
			}
		}
		return "read_only", "a field is read-only for you (字段只读)", fields
	case errors.Is(err, ErrForbidden):
		return "forbidden", "not allowed (没有权限)", nil
	}
	return "", "", nil
}
