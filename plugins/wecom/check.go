package wecom

import "github.com/tessera/tessera/plugins/sdk"

// CheckCredentials implements sdk.CredentialChecker: the webhook URL is an http(s) URL.
func (Connector) CheckCredentials(values map[string]any) []sdk.FieldError {
	return sdk.CheckURL(values, "webhook_url")
}
