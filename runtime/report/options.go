package report

import "github.com/tessera/tessera/builder/spec"

// attachOptions gives the columns that hold option values (a dimension over a select field, the
// stage column of stage reports) the labels of those options, so clients show 已赢单 where the
// rows say "won", as record lists do.
func (b *builder) attachOptions(cols []Column) {
	byKey := map[string]*spec.Field{}
	for _, d := range b.rep.Dimensions {
		if d.Bucket == "" {
			if f := b.ent.Field(d.Field); f != nil {
				byKey[d.Field] = f
			}
		}
	}
	if st := b.ent.Stages; st != nil && st.Field != "" {
		switch b.rep.Kind {
		case KindFunnel, KindDwell, KindStagnation:
			if f := b.ent.Field(st.Field); f != nil {
				byKey["stage"] = f
			}
		}
	}
	for i := range cols {
		if f := byKey[cols[i].Key]; f != nil {
			cols[i].Options = b.optionLabels(f)
		}
	}
}

// optionLabels maps f's option values to their labels in the answer's language; nil when f has
// no options or no option has a label of its own.
func (b *builder) optionLabels(f *spec.Field) map[string]string {
	if f.Type != spec.TypeSelect && f.Type != spec.TypeMultiselect {
		return nil
	}
	out := map[string]string{}
	labelled := false
	for _, o := range f.Options {
		l := o.Label.Text(b.locale, o.Value)
		out[o.Value] = l
		labelled = labelled || l != o.Value
	}
	if !labelled {
		return nil
	}
	return out
}

// optionLabel is the label of value v of field name (v itself when there is none).
func (b *builder) optionLabel(name, v string) string {
	if f := b.ent.Field(name); f != nil {
		for _, o := range f.Options {
			if o.Value == v {
				return o.Label.Text(b.locale, v)
			}
		}
	}
	return v
}
