package pbxconf

import (
	"errors"
	"fmt"
)

// SecretMask stands for a secret in an export made without asking for the
// secrets, as in what the web API returns. Importing it keeps the secret
// already stored for the same extension (by number) or trunk (by name), so
// a masked export can be edited and imported again; it is never taken for
// a secret itself.
const SecretMask = "********"

// ErrMaskedSecret means a secret is SecretMask and no stored secret stands
// in for it: the document was exported without the secrets. Checks made
// before the stored configuration is at hand (callboxctl, before the
// daemon) let it pass.
var ErrMaskedSecret = errors.New("pbxconf: masked secret")

// MaskSecrets returns a copy of c with every secret replaced by SecretMask:
// what an export shows unless the secrets are asked for.
func (c Config) MaskSecrets() Config {
	out := c.Clone()
	for i := range out.Extensions {
		if out.Extensions[i].Secret != "" {
			out.Extensions[i].Secret = SecretMask
		}
	}
	for i := range out.Trunks {
		if out.Trunks[i].Secret != "" {
			out.Trunks[i].Secret = SecretMask
		}
	}
	return out
}

// KeepSecrets replaces each SecretMask in c with the secret of the
// extension with the same number, or the trunk with the same name, in
// stored (the configuration c is to replace). Masks stored cannot fill are
// left for Validate to refuse.
func (c *Config) KeepSecrets(stored Config) {
	for i := range c.Extensions {
		e := &c.Extensions[i]
		if e.Secret != SecretMask {
			continue
		}
		if old, ok := stored.Extension(e.Number); ok && old.Secret != "" && old.Secret != SecretMask {
			e.Secret = old.Secret
		}
	}
	for i := range c.Trunks {
		t := &c.Trunks[i]
		if t.Secret != SecretMask {
			continue
		}
		for _, old := range stored.Trunks {
			if old.Name == t.Name && old.Secret != "" && old.Secret != SecretMask {
				t.Secret = old.Secret
			}
		}
	}
}

// checkMasks refuses the masks KeepSecrets did not fill.
func (c *Config) checkMasks(v *validator) {
	for i, e := range c.Extensions {
		if e.Secret == SecretMask {
			v.put(fmt.Sprintf("extensions[%d]", i), ref(ObjExtension, e.Number), "secret", ErrMaskedSecret, ReasonSecretMasked)
		}
	}
	for i, t := range c.Trunks {
		if t.Secret == SecretMask {
			v.put(fmt.Sprintf("trunks[%d]", i), ref(ObjTrunk, t.Name), "secret", ErrMaskedSecret, ReasonSecretMasked)
		}
	}
}
