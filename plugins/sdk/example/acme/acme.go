// Package acme is the Go connector example of plugins/README.md: it creates contacts in the
// (fictional) ACME CRM. plugins/all does not register it in the server.
package acme

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/tessera/tessera/plugins/sdk"
)

func init() { sdk.Register(Connector{}) }

// Connector is the ACME CRM connector ("acme").
type Connector struct{}

// Spec describes the connector.
func (Connector) Spec() sdk.Spec {
	return sdk.Spec{
		ID: "acme", Version: "1.0.0", Category: "crm",
		Label: sdk.T("ACME CRM", "ACME 客户系统"),
		Credentials: []sdk.Param{
			{Key: "base_url", Type: sdk.TypeString, Label: sdk.T("Base URL", "接口地址"), Required: true},
			{Key: "api_key", Type: sdk.TypeSecret, Label: sdk.T("API key", "API 密钥"), Required: true},
		},
		Operations: []sdk.Operation{{
			ID: "create_contact", Label: sdk.T("Create contact", "创建联系人"),
			Params: []sdk.Param{
				{Key: "name", Type: sdk.TypeString, Label: sdk.T("Name", "姓名"), Required: true},
				{Key: "vip", Type: sdk.TypeBoolean, Label: sdk.T("VIP", "重要客户"), Default: false},
			},
			Output: []sdk.OutputField{{Key: "id", Type: "string", Label: sdk.T("Contact id", "联系人 ID")}},
			Run:    createContact,
		}},
	}
}

func createContact(ctx context.Context, env sdk.Env, p map[string]any) (any, error) {
	reply, err := env.PostJSON(ctx, "acme create contact", env.Credential("base_url")+"/contacts",
		map[string]any{"name": sdk.String(p, "name"), "vip": sdk.Bool(p, "vip")},
		map[string]string{"X-Api-Key": env.Credential("api_key"), "Idempotency-Key": env.IdempotencyKey})
	if err != nil {
		return nil, err // already classified: 5xx/429/network retryable, 4xx permanent
	}
	var out struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(reply, &out); err != nil {
		return nil, sdk.Permanent(fmt.Errorf("acme answered %q", reply))
	}
	return map[string]any{"id": out.ID}, nil
}

// Test checks the API key.
func (Connector) Test(ctx context.Context, env sdk.Env) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, env.Credential("base_url")+"/me", nil)
	req.Header.Set("X-Api-Key", env.Credential("api_key"))
	resp, err := env.Client().Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("ACME answered %s", resp.Status)
	}
	return nil
}
