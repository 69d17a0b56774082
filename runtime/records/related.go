package records

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/google/uuid"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/access"
	"github.com/tessera/tessera/runtime/defs"
)

// Related-record directions.
const (
	RelatedOut = "out" // the record's own relation field links records of Entity
	RelatedIn  = "in"  // Entity's relation field links back to the record
)

// RelatedPanel is one relation between a record and another entity, as the record page lists it:
// the records are the ones the list API answers for Entity with Filter (so the viewer's read
// scope applies as everywhere), Count of them.
type RelatedPanel struct {
	Entity     string          `json:"entity"`
	Label      spec.Label      `json:"label,omitempty"`
	Field      string          `json:"field"`
	FieldLabel spec.Label      `json:"field_label,omitempty"`
	Direction  string          `json:"direction"`
	Multiple   bool            `json:"multiple"`
	TitleField string          `json:"title_field,omitempty"`
	Filter     json.RawMessage `json:"filter"`
	Count      int64           `json:"count"`
}

// Related lists the relations of record id of entity in both directions: the record's relation
// fields (to the records they link) and the relation fields of every published entity that
// target entity (from the records that link to this one). The record must be inside g; a panel
// is listed only when the caller may read its entity (read) and the relation field is not hidden
// from them, and its count holds only records the caller may read.
func (s *Store) Related(ctx context.Context, app *defs.App, entity string, id uuid.UUID, g access.Grant, read ReadGrant) ([]RelatedPanel, error) {
	ent, _, err := s.entity(ctx, app, entity)
	if err != nil {
		return nil, err
	}
	if !g.Allowed() {
		return nil, ErrNotFound
	}
	rec, err := s.load(ctx, s.pool, app, entity, id, g, false)
	if err != nil {
		return nil, err
	}
	grants := map[string]*access.Grant{}
	grantOn := func(slug string) (access.Grant, error) {
		if gr, ok := grants[slug]; ok {
			return *gr, nil
		}
		var gr access.Grant
		if read != nil {
			if gr, err = read(ctx, slug); err != nil {
				return gr, fmt.Errorf("checking read permission on %s: %w", slug, err)
			}
		}
		grants[slug] = &gr
		return gr, nil
	}
	out := []RelatedPanel{}
	add := func(other *spec.Entity, f *spec.Field, dir string, filterJSON map[string]any) error {
		og, err := grantOn(other.Slug)
		if err != nil || !og.Allowed() {
			return err
		}
		raw, _ := json.Marshal(filterJSON)
		p := RelatedPanel{Entity: other.Slug, Label: other.Label, Field: f.Key, FieldLabel: f.Label, Direction: dir, Multiple: f.Multiple, Filter: raw,
			TitleField: titleField(other, og.Hidden)}
		if p.Count, err = s.Count(ctx, app, other.Slug, ListQuery{Filter: raw}, og); err != nil {
			return err
		}
		out = append(out, p)
		return nil
	}
	for i := range ent.Fields {
		f := &ent.Fields[i]
		if f.Type != spec.TypeRelation || f.Target == "" || g.Hidden[f.Key] {
			continue
		}
		target, _, err := s.entity(ctx, app, f.Target)
		if err != nil {
			continue // an unpublished target
		}
		ids := []any{}
		for _, v := range refValues(rec.Data[f.Key]) {
			if _, err := uuid.Parse(v); err == nil && len(ids) < 500 {
				ids = append(ids, v)
			}
		}
		if err := add(target, f, RelatedOut, map[string]any{"id": map[string]any{"in": ids}}); err != nil {
			return nil, err
		}
	}
	slugs, err := s.defs.PublishedSlugs(ctx, app.ID, spec.KindEntity)
	if err != nil {
		return nil, err
	}
	sort.Strings(slugs)
	for _, slug := range slugs {
		other, _, err := s.entity(ctx, app, slug)
		if err != nil {
			continue
		}
		for i := range other.Fields {
			f := &other.Fields[i]
			if f.Type != spec.TypeRelation || f.Target != entity {
				continue
			}
			og, err := grantOn(slug)
			if err != nil {
				return nil, err
			}
			if og.Hidden[f.Key] {
				continue
			}
			if err := add(other, f, RelatedIn, map[string]any{f.Key: map[string]any{"in": []any{id.String()}}}); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// refValues lists the string ids a relation value holds (one or a list).
func refValues(v any) []string {
	switch x := v.(type) {
	case string:
		if x != "" {
			return []string{x}
		}
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok && s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// titleField is the key of the field a record of ent is named by for a caller who does not see
// hidden (the same choice as the display names: the title field, else the first text,
// autonumber, email or phone field), "" when none is visible.
func titleField(ent *spec.Entity, hidden map[string]bool) string {
	cands := []string{ent.TitleField}
	for _, t := range []string{spec.TypeText, spec.TypeAutonumber, spec.TypeEmail, spec.TypePhone} {
		for _, f := range ent.Fields {
			if f.Type == t {
				cands = append(cands, f.Key)
			}
		}
	}
	for _, k := range cands {
		if k != "" && !hidden[k] && ent.Field(k) != nil {
			return k
		}
	}
	return ""
}
