package acme

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/tessera/tessera/plugins/sdk"
)

// Feed is the ACME connector with a polling trigger ("acme-feed"), the Go example of
// plugins/README.md "Polling triggers".
type Feed struct{ Connector }

// Spec adds the new_contacts trigger to the ACME spec.
func (f Feed) Spec() sdk.Spec {
	s := f.Connector.Spec()
	s.ID = "acme-feed"
	s.Triggers = []sdk.Trigger{{ID: "new_contacts", Label: sdk.T("New contacts", "新联系人"),
		Params: []sdk.Param{{Key: "list", Type: sdk.TypeString, Label: sdk.T("List", "列表"), Required: true}}}}
	return s
}

// Poll implements sdk.Poller: contacts created after the last one seen.
func (Feed) Poll(ctx context.Context, env sdk.Env, trigger string, p map[string]any, state []byte) (sdk.PollResult, error) {
	var since struct {
		LastID int64 `json:"last_id"`
	}
	if state != nil {
		if err := json.Unmarshal(state, &since); err != nil {
			return sdk.PollResult{}, sdk.Permanent(err)
		}
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/lists/%s/contacts?after=%d&limit=200",
		env.Credential("base_url"), url.PathEscape(sdk.String(p, "list")), since.LastID), nil)
	req.Header.Set("X-Api-Key", env.Credential("api_key"))
	resp, err := env.Client().Do(req)
	if err != nil {
		return sdk.PollResult{}, sdk.Temporary(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, sdk.MaxReply))
	if resp.StatusCode != http.StatusOK {
		return sdk.PollResult{}, sdk.StatusError("acme list contacts", resp.StatusCode, string(body))
	}
	var page struct {
		Contacts []map[string]any `json:"contacts"`
		LastID   int64            `json:"last_id"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		return sdk.PollResult{}, sdk.Permanent(fmt.Errorf("acme answered %q", body))
	}
	next, _ := json.Marshal(map[string]int64{"last_id": page.LastID})
	if state == nil {
		return sdk.PollResult{State: next}, nil // first poll: start from here
	}
	res := sdk.PollResult{State: next}
	for _, c := range page.Contacts {
		res.Items = append(res.Items, c)
		res.IDs = append(res.IDs, fmt.Sprint(c["id"]))
	}
	return res, nil
}
