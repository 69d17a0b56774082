package report

import "github.com/tessera/tessera/builder/spec"

// RelationDims answers, by output column key, the relation fields that rep's dimensions group
// by (a field of ent, or a column of a line-items field such as "items.product"), so a caller
// can show the linked records' names next to their ids, within the viewer's read scope (the
// report itself answers ids: names depend on who reads them).
func RelationDims(ent *spec.Entity, rep *spec.Report) map[string]*spec.Field {
	if ent == nil || rep == nil {
		return nil
	}
	out := map[string]*spec.Field{}
	for _, d := range rep.Dimensions {
		if d.Bucket != "" {
			continue
		}
		if f := fieldAt(ent, d.Field); f != nil && f.Type == spec.TypeRelation && f.Target != "" {
			out[d.Field] = f
		}
	}
	return out
}

// fieldAt is the field at path: "key", or "lines.column" for a column of a line-items field.
func fieldAt(ent *spec.Entity, path string) *spec.Field {
	if f := ent.Field(path); f != nil {
		return f
	}
	for i := range ent.Fields {
		f := &ent.Fields[i]
		if f.Type != spec.TypeLines || len(path) <= len(f.Key)+1 || path[:len(f.Key)+1] != f.Key+"." {
			continue
		}
		for j := range f.Fields {
			if f.Fields[j].Key == path[len(f.Key)+1:] {
				return &f.Fields[j]
			}
		}
	}
	return nil
}
