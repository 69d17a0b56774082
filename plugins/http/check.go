package http

import "github.com/tessera/tessera/plugins/sdk"

// CheckCredentials implements sdk.CredentialChecker: the base URL, when set, is an http(s) URL.
func (Connector) CheckCredentials(values map[string]any) []sdk.FieldError {
	return sdk.CheckURL(values, "base_url")
}
