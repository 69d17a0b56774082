package sdk_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/tessera/tessera/plugins/sdk"
)

// acme is the connector of plugins/README.md, cut down.
type acme struct{}

func (acme) Spec() sdk.Spec {
	return sdk.Spec{
		ID: "acme", Version: "1.0.0", Label: sdk.T("ACME CRM", "ACME 客户系统"),
		Credentials: []sdk.Param{{Key: "api_key", Type: sdk.TypeSecret, Label: sdk.T("API key", "API 密钥"), Required: true}},
		Operations: []sdk.Operation{{
			ID: "create_contact", Label: sdk.T("Create contact", "创建联系人"),
			Params: []sdk.Param{
				{Key: "url", Type: sdk.TypeString, Label: sdk.T("URL", "地址"), Required: true},
				{Key: "name", Type: sdk.TypeString, Label: sdk.T("Name", "姓名"), Required: true},
				{Key: "vip", Type: sdk.TypeBoolean, Label: sdk.T("VIP", "重要客户"), Default: false},
			},
			Run: func(ctx context.Context, env sdk.Env, p map[string]any) (any, error) {
				reply, err := env.PostJSON(ctx, "acme create contact", sdk.String(p, "url"),
					map[string]any{"name": sdk.String(p, "name"), "vip": sdk.Bool(p, "vip")},
					map[string]string{"X-Api-Key": env.Credential("api_key")})
				if err != nil {
					return nil, err
				}
				var out map[string]any
				return out, json.Unmarshal(reply, &out)
			},
		}},
	}
}

// Invoke validates the parameters against the spec, applies defaults and runs the operation
// with the Env the host injects (here a plain client reaching a local peer).
func ExampleInvoke() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, `{"id":"c-1","key":%q,"got":%s}`, r.Header.Get("X-Api-Key"), b)
	}))
	defer srv.Close()
	env := sdk.Env{HTTP: srv.Client(), Credentials: map[string]string{"api_key": "k-1"}}

	out, err := sdk.Invoke(context.Background(), acme{}, "create_contact", env, map[string]any{"url": srv.URL, "name": "王芳"})
	fmt.Println(out, err)

	_, err = sdk.Invoke(context.Background(), acme{}, "create_contact", env, map[string]any{"url": srv.URL, "vip": "maybe"})
	fmt.Println(err, sdk.IsRetryable(err))
	// Output:
	// map[got:map[name:王芳 vip:false] id:c-1 key:k-1] <nil>
	// invalid parameters: name: is required / 必填; vip: must be true or false / 应为 true 或 false false
}
