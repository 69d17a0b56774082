package sms

import "github.com/tessera/tessera/plugins/sdk"

// CheckCredentials implements sdk.CredentialChecker: the Aliyun endpoint and the custom
// gateway are http(s) URLs.
func (Connector) CheckCredentials(values map[string]any) []sdk.FieldError {
	return append(sdk.CheckURL(values, "endpoint"), sdk.CheckURL(values, "gateway_url")...)
}
