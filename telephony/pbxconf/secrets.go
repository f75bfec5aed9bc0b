package pbxconf

import (
	"errors"
	"fmt"

	"callbox/telephony/sip/secret"
)

// SIP extension secrets must be strong (secret.Check with secret.SIP, the
// extension number as the user) when they are set or changed; a weak
// secret already stored keeps working, so an upgrade or a backup restore
// never cuts a phone off, but it is reported (WeakSecrets) until replaced.
// Trunk secrets are the provider's choice and are not judged.

// CheckSecret reports why a SIP extension's secret is too weak, as a
// *FieldError on "secret" with a secret reason code, or nil.
func (e Extension) CheckSecret() error {
	if e.Kind != KindSIP {
		return nil
	}
	var w *secret.Weakness
	if errors.As(secret.Check(e.Secret, secret.SIP, e.Number), &w) {
		return newFieldError("secret", ref(ObjExtension, e.Number), "secret", SecretReason(w.Code), w.Args...)
	}
	return nil
}

// CheckNewSecrets refuses the weak secrets of SIP extensions that are new
// or changed against stored (nil for none stored: every secret is new).
// The error joins *FieldError values with their paths in c.
func (c *Config) CheckNewSecrets(stored *Config) error {
	v := &validator{}
	for i, e := range c.Extensions {
		if stored != nil {
			if old, ok := stored.Extension(e.Number); ok && old.Kind == KindSIP && old.Secret == e.Secret {
				continue
			}
		}
		var fe *FieldError
		if errors.As(e.CheckSecret(), &fe) {
			fe.Path = fmt.Sprintf("extensions[%d].secret", i)
			if len(v.errs) < MaxErrors {
				v.errs = append(v.errs, fe)
			}
		}
	}
	return v.err()
}

// WeakSecrets lists the SIP extensions whose stored secrets are weak, each
// as a *FieldError (for its text and codes), for warnings in the import's
// output, the log and the web API.
func (c *Config) WeakSecrets() []*FieldError {
	var out []*FieldError
	for i, e := range c.Extensions {
		var fe *FieldError
		if errors.As(e.CheckSecret(), &fe) {
			fe.Path = fmt.Sprintf("extensions[%d].secret", i)
			out = append(out, fe)
		}
	}
	return out
}
