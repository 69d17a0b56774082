// Package access describes what one caller may see and change of one entity: the row scope and
// the field rules. runtime/authz computes it; records, reports and exports apply it in SQL.
package access

import (
	"fmt"

	"github.com/google/uuid"
)

// Scope kinds, narrowest first.
const (
	ScopeNone     = "none"
	ScopeOwn      = "own"
	ScopeTeam     = "team"
	ScopeTeamTree = "team_tree"
	ScopeAll      = "all"
)

// Subject is the identity a request or a flow acts as.
type Subject struct {
	UserID  uuid.UUID
	TeamID  *uuid.UUID
	IsAdmin bool
	// System marks trusted internal work (migrations, seeding, flows running as the service role).
	System bool
	// Intake marks work done for an unauthenticated outside caller: a run started by a webhook,
	// or by a record change made for one (a public form submission), whatever identity it runs
	// as. Such work can only add records: runtime/records keeps a dedupe hit as a pending
	// submission on the existing record and answers a receipt either way.
	Intake bool
}

// Anonymous reports whether s acts for an unauthenticated caller: no user and not trusted
// internal work (a public form), or work marked Intake.
func (s Subject) Anonymous() bool {
	return s.Intake || (s.UserID == uuid.Nil && !s.System && !s.IsAdmin)
}

// Grant is the caller's access to one entity for one action.
type Grant struct {
	Scope string // one of the Scope kinds
	// Owner is the caller (for ScopeOwn and as part of the team scopes).
	Owner uuid.UUID
	// Teams are the team ids whose rows are visible (ScopeTeam: the caller's team;
	// ScopeTeamTree: every team in the subtrees the caller manages plus their own).
	Teams    []uuid.UUID
	Hidden   map[string]bool // fields removed from reads, filters and sorts
	ReadOnly map[string]bool // fields that reject writes
}

// All is an unrestricted grant (admins, system work).
func All() Grant { return Grant{Scope: ScopeAll} }

// Allowed reports whether the grant allows any row at all.
func (g Grant) Allowed() bool { return g.Scope != ScopeNone && g.Scope != "" }

// RowPredicate returns an SQL predicate restricting rows of the records table aliased as alias,
// appending its arguments to args (placeholders are numbered $n after the existing args).
// It returns "" for ScopeAll. No user text ever becomes SQL: only ids, as arguments.
func (g Grant) RowPredicate(alias string, args *[]any) string {
	col := func(c string) string {
		if alias == "" {
			return c
		}
		return alias + "." + c
	}
	switch g.Scope {
	case ScopeAll:
		return ""
	case ScopeOwn:
		*args = append(*args, g.Owner)
		return fmt.Sprintf("%s = $%d", col("owner_id"), len(*args))
	case ScopeTeam, ScopeTeamTree:
		*args = append(*args, g.Owner)
		own := len(*args)
		if len(g.Teams) == 0 {
			return fmt.Sprintf("%s = $%d", col("owner_id"), own)
		}
		*args = append(*args, g.Teams)
		return fmt.Sprintf("(%s = $%d OR %s = ANY($%d::uuid[]))", col("owner_id"), own, col("team_id"), len(*args))
	default:
		return "false"
	}
}

// Visible reports whether a row owned by owner in team is inside the grant.
func (g Grant) Visible(owner, team *uuid.UUID) bool {
	switch g.Scope {
	case ScopeAll:
		return true
	case ScopeOwn:
		return owner != nil && *owner == g.Owner
	case ScopeTeam, ScopeTeamTree:
		if owner != nil && *owner == g.Owner {
			return true
		}
		if team != nil {
			for _, t := range g.Teams {
				if t == *team {
					return true
				}
			}
		}
		return false
	default:
		return false
	}
}
