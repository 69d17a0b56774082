package sdk

import (
	"context"
	"fmt"
	"time"
)

// RecordReader reads the app's records for a connector as the flow's identity: the host applies
// that identity's row scope and field rules before anything reaches the connector, so a field
// the identity may not read is never in an EntityInfo or a RecordView. Set on Env.Records; use
// Env.RecordReader.
type RecordReader interface {
	// Entity describes the published entity's fields the identity may read.
	Entity(ctx context.Context, entity string) (EntityInfo, error)
	// Record reads one record (not found when outside the identity's scope), with its history
	// and related records when opts asks for them.
	Record(ctx context.Context, entity, id string, opts RecordOptions) (RecordView, error)
}

// EntityInfo is an entity as a connector may see it.
type EntityInfo struct {
	Slug   string      `json:"slug"`
	Label  Text        `json:"label"`
	Fields []FieldInfo `json:"fields"`
}

// FieldInfo is one readable field of an entity.
type FieldInfo struct {
	Key      string   `json:"key"`
	Type     string   `json:"type"` // the entity field type: text, number, money, select, date ...
	Label    Text     `json:"label"`
	Required bool     `json:"required,omitempty"`
	Options  []string `json:"options,omitempty"` // select / multiselect choices
	Multiple bool     `json:"multiple,omitempty"`
	Target   string   `json:"target,omitempty"` // relation: target entity
}

// Field returns the field with the given key.
func (e EntityInfo) Field(key string) (FieldInfo, bool) {
	for _, f := range e.Fields {
		if f.Key == key {
			return f, true
		}
	}
	return FieldInfo{}, false
}

// RecordOptions says what Record reads besides the record itself.
type RecordOptions struct {
	// History adds the record's change events, newest first, at most MaxEvents (default 20).
	History   bool
	MaxEvents int
	// Related adds records of other entities that link to this one and records this one links
	// to, at most MaxRelated (default 10).
	Related    bool
	MaxRelated int
}

// RecordView is a record with the fields the identity may read.
type RecordView struct {
	ID        string          `json:"id"`
	Entity    string          `json:"entity"`
	Data      map[string]any  `json:"data"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
	History   []RecordEvent   `json:"history,omitempty"`
	Related   []RelatedRecord `json:"related,omitempty"`
}

// RecordEvent is one change of a record (field values the identity may not read are removed).
type RecordEvent struct {
	At      time.Time      `json:"at"`
	Kind    string         `json:"kind"`
	Changes map[string]any `json:"changes,omitempty"`
}

// RelatedRecord is a record linked to or from the read record through a relation field.
type RelatedRecord struct {
	Entity string         `json:"entity"`
	ID     string         `json:"id"`
	Field  string         `json:"field"` // the relation field's key
	Links  string         `json:"links"` // "to" (this record links to it) or "from" (it links here)
	Data   map[string]any `json:"data"`
}

// RecordReader returns env.Records, or an error when the host reads no records for connectors.
func (e Env) RecordReader() (RecordReader, error) {
	if e.Records == nil {
		return nil, Permanent(fmt.Errorf("this host gives connectors no record access / 宿主未提供记录读取"))
	}
	return e.Records, nil
}
