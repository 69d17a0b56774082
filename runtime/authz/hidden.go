package authz

import (
	"fmt"

	"github.com/google/uuid"
)

// HiddenByAnyRole returns the fields of entity that at least one role of the app hides: the
// fields the app's administrators declared sensitive. Work done as the service identity that
// hands data outside (an AI prompt) leaves them out, although that identity may read them.
func (a *Authorizer) HiddenByAnyRole(appID uuid.UUID, entity string) (map[string]bool, error) {
	rules, err := a.enf.GetFilteredNamedPolicy("p2", 1, appID.String(), entity, "hidden")
	if err != nil {
		return nil, fmt.Errorf("authz: reading field rules: %w", err)
	}
	out := map[string]bool{}
	for _, r := range rules {
		if len(r) >= 5 {
			out[r[4]] = true
		}
	}
	return out, nil
}
