package authz

import (
	"context"
	"errors"
	"fmt"

	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/persist"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Rule is one row of the casbin_rule table.
type Rule struct {
	ID    int64  `gorm:"column:id;primaryKey"`
	Ptype string `gorm:"column:ptype"`
	V0    string `gorm:"column:v0"`
	V1    string `gorm:"column:v1"`
	V2    string `gorm:"column:v2"`
	V3    string `gorm:"column:v3"`
	V4    string `gorm:"column:v4"`
	V5    string `gorm:"column:v5"`
}

// TableName tells GORM the table.
func (Rule) TableName() string { return "casbin_rule" }

func ruleFrom(ptype string, vals []string) Rule {
	r := Rule{Ptype: ptype}
	dst := []*string{&r.V0, &r.V1, &r.V2, &r.V3, &r.V4, &r.V5}
	for i, v := range vals {
		if i < len(dst) {
			*dst[i] = v
		}
	}
	return r
}

// values returns v0..v5 with trailing empty values dropped.
func (r Rule) values() []string {
	vals := []string{r.V0, r.V1, r.V2, r.V3, r.V4, r.V5}
	for len(vals) > 0 && vals[len(vals)-1] == "" {
		vals = vals[:len(vals)-1]
	}
	return vals
}

// Adapter is a casbin v2 persist.Adapter and persist.BatchAdapter on the casbin_rule table,
// written on GORM (the upstream gorm-adapter/v3 needs casbin v3).
type Adapter struct {
	db *gorm.DB
}

var (
	_ persist.Adapter      = (*Adapter)(nil)
	_ persist.BatchAdapter = (*Adapter)(nil)
)

// NewAdapter returns an adapter on gdb. The casbin_rule table comes from the migrations.
func NewAdapter(gdb *gorm.DB) *Adapter { return &Adapter{db: gdb} }

// WithTx returns an adapter writing through tx (a GORM transaction), so policy changes can share
// a transaction with the audit row and the policy version bump.
func (a *Adapter) WithTx(tx *gorm.DB) *Adapter { return &Adapter{db: tx} }

// WithContext returns an adapter whose queries use ctx.
func (a *Adapter) WithContext(ctx context.Context) *Adapter {
	return &Adapter{db: a.db.WithContext(ctx)}
}

// LoadPolicy loads every rule into m.
func (a *Adapter) LoadPolicy(m model.Model) error {
	var rows []Rule
	if err := a.db.Order("id").Find(&rows).Error; err != nil {
		return fmt.Errorf("loading casbin rules: %w", err)
	}
	for _, r := range rows {
		if r.Ptype == "" {
			continue
		}
		if sec, ok := m[r.Ptype[:1]]; !ok || sec[r.Ptype] == nil {
			continue // a rule of a kind this model does not know
		}
		if err := persist.LoadPolicyArray(append([]string{r.Ptype}, r.values()...), m); err != nil {
			return fmt.Errorf("loading casbin rule %d: %w", r.ID, err)
		}
	}
	return nil
}

// SavePolicy replaces every stored rule with the rules of m.
func (a *Adapter) SavePolicy(m model.Model) error {
	var rows []Rule
	for _, sec := range []string{"p", "g"} {
		for ptype, ast := range m[sec] {
			for _, rule := range ast.Policy {
				rows = append(rows, ruleFrom(ptype, rule))
			}
		}
	}
	return a.db.Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec(`DELETE FROM casbin_rule`).Error; err != nil {
			return fmt.Errorf("saving casbin rules: clearing: %w", err)
		}
		if len(rows) == 0 {
			return nil
		}
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(rows, 500).Error; err != nil {
			return fmt.Errorf("saving casbin rules: %w", err)
		}
		return nil
	})
}

// AddPolicy stores one rule (a duplicate is ignored).
func (a *Adapter) AddPolicy(_ string, ptype string, rule []string) error {
	return a.AddPolicies("", ptype, [][]string{rule})
}

// AddPolicies stores rules (duplicates are ignored).
func (a *Adapter) AddPolicies(_ string, ptype string, rules [][]string) error {
	if len(rules) == 0 {
		return nil
	}
	rows := make([]Rule, 0, len(rules))
	for _, r := range rules {
		if len(r) > 6 {
			return fmt.Errorf("adding casbin rule: %d values, at most 6", len(r))
		}
		rows = append(rows, ruleFrom(ptype, r))
	}
	if err := a.db.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(rows, 500).Error; err != nil {
		return fmt.Errorf("adding casbin rules: %w", err)
	}
	return nil
}

// RemovePolicy deletes one rule.
func (a *Adapter) RemovePolicy(_ string, ptype string, rule []string) error {
	return a.RemovePolicies("", ptype, [][]string{rule})
}

// RemovePolicies deletes rules (each matched on every value).
func (a *Adapter) RemovePolicies(_ string, ptype string, rules [][]string) error {
	for _, r := range rules {
		row := ruleFrom(ptype, r)
		err := a.db.Exec(`DELETE FROM casbin_rule WHERE ptype = ? AND v0 = ? AND v1 = ? AND v2 = ? AND v3 = ? AND v4 = ? AND v5 = ?`,
			row.Ptype, row.V0, row.V1, row.V2, row.V3, row.V4, row.V5).Error
		if err != nil {
			return fmt.Errorf("removing casbin rule: %w", err)
		}
	}
	return nil
}

// RemoveFilteredPolicy deletes the rules of ptype whose values from fieldIndex on equal
// fieldValues (an empty value matches anything, as in casbin).
func (a *Adapter) RemoveFilteredPolicy(_ string, ptype string, fieldIndex int, fieldValues ...string) error {
	if fieldIndex < 0 || fieldIndex+len(fieldValues) > 6 {
		return errors.New("removing casbin rules: field index out of range")
	}
	cols := []string{"v0", "v1", "v2", "v3", "v4", "v5"}
	q := a.db.Where("ptype = ?", ptype)
	for i, v := range fieldValues {
		if v != "" {
			q = q.Where(cols[fieldIndex+i]+" = ?", v) // column names are constants
		}
	}
	if err := q.Delete(&Rule{}).Error; err != nil {
		return fmt.Errorf("removing casbin rules: %w", err)
	}
	return nil
}
