package webhook

import "github.com/tessera/tessera/plugins/sdk"

// CheckCredentials implements sdk.CredentialChecker: the signing secret is whsec_ followed by
// base64 of at least 16 bytes (DecodeSecret), so a mistyped secret fails when it is saved
// rather than at every send.
func (Connector) CheckCredentials(values map[string]any) []sdk.FieldError {
	s, _ := values["secret"].(string)
	if s == "" {
		return nil
	}
	if _, err := DecodeSecret(s); err != nil {
		return []sdk.FieldError{{Field: "secret", Code: "invalid",
			Message: "must be whsec_ followed by base64 of 24 to 64 random bytes / 应为 whsec_ 加 24 到 64 个随机字节的 base64"}}
	}
	return nil
}
