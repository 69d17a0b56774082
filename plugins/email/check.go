package email

import (
	"net/mail"

	"github.com/tessera/tessera/plugins/sdk"
)

// CheckCredentials implements sdk.CredentialChecker: the sender is one email address.
func (Connector) CheckCredentials(values map[string]any) []sdk.FieldError {
	s, _ := values["from"].(string)
	if s == "" {
		return nil
	}
	if _, err := mail.ParseAddress(s); err != nil {
		return []sdk.FieldError{{Field: "from", Code: "invalid", Message: "must be one email address, e.g. sales@example.com / 应为一个邮箱地址，例如 sales@example.com"}}
	}
	return nil
}
