package email

import (
	"math"
	"net/mail"

	"github.com/tessera/tessera/plugins/sdk"
)

// CheckCredentials implements sdk.CredentialChecker: the port is a whole number and the
// sender one email address.
func (Connector) CheckCredentials(values map[string]any) []sdk.FieldError {
	var errs []sdk.FieldError
	if p, ok := values["port"].(float64); ok && p != math.Trunc(p) {
		errs = append(errs, sdk.FieldError{Field: "port", Code: "type", Message: "must be a whole number / 应为整数"})
	}
	if s, _ := values["from"].(string); s != "" {
		if _, err := mail.ParseAddress(s); err != nil {
			errs = append(errs, sdk.FieldError{Field: "from", Code: "invalid", Message: "must be one email address, e.g. sales@example.com / 应为一个邮箱地址，例如 sales@example.com"})
		}
	}
	return errs
}
