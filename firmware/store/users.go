package store

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"
	"unicode"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"
)

// Role is what a user may do in the web admin.
type Role string

// The roles, from most to least privileged.
const (
	RoleAdmin      Role = "admin"      // configures the box and its users
	RoleSupervisor Role = "supervisor" // watches and steers queues and agents
	RoleAgent      Role = "agent"      // answers calls
)

// Valid reports whether r is one of the defined roles.
func (r Role) Valid() bool {
	return r == RoleAdmin || r == RoleSupervisor || r == RoleAgent
}

// User is a person who logs in to the web admin.
type User struct {
	Login       string `json:"login"`        // 1-32 of a-z 0-9 . _ -
	DisplayName string `json:"display_name"` // up to 64 characters, any script
	Role        Role   `json:"role"`
	// PasswordHash is opaque to the store (an encoded argon2id hash made
	// by webui); it must not be empty.
	PasswordHash string `json:"password_hash"`
	Disabled     bool   `json:"disabled"`
	// Lang is the language the user chose for the web admin ("zh-CN",
	// "en"); empty: the browser's.
	Lang string `json:"lang,omitempty"`
	// Agent is the work number of the call-centre agent this user is, if
	// any: 1-8 digits.
	Agent string `json:"agent,omitempty"`
	// Permissions grant (true) or revoke (false) named permissions against
	// the role's defaults; webui defines the names and their meaning.
	Permissions map[string]bool `json:"permissions,omitempty"`
	Created     time.Time       `json:"created"` // set by CreateUser
	Updated     time.Time       `json:"updated"` // set by CreateUser and UpdateUser
}

// Limits on user fields.
const (
	MaxLoginLen       = 32
	MaxDisplayNameLen = 64 // characters, not bytes
	maxHashLen        = 512
	maxLangLen        = 16
	maxAgentLen       = 8
	maxPermissions    = 64
	maxPermissionLen  = 32
)

// validLogin: 1-32 of a-z 0-9 . _ - ; bytewise order of such keys is the
// alphabetical order Users promises.
func validLogin(s string) bool { return validName(s, MaxLoginLen) }

// validName reports whether s is 1-maxLen of a-z 0-9 . _ -
func validName(s string, maxLen int) bool {
	if len(s) < 1 || len(s) > maxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Validate checks every field a caller sets, naming the first bad one.
func (u *User) Validate() error {
	if !validLogin(u.Login) {
		return invalid("user", "login", "must be 1-32 of a-z 0-9 . _ -")
	}
	if !utf8.ValidString(u.DisplayName) || utf8.RuneCountInString(u.DisplayName) > MaxDisplayNameLen ||
		containsFunc(u.DisplayName, unicode.IsControl) {
		return invalid("user", "display_name", "must be at most 64 characters without control characters")
	}
	if !u.Role.Valid() {
		return invalid("user", "role", "must be admin, supervisor or agent")
	}
	if u.PasswordHash == "" || len(u.PasswordHash) > maxHashLen || containsFunc(u.PasswordHash, unicode.IsControl) {
		return invalid("user", "password_hash", "must be a non-empty encoded hash")
	}
	if len(u.Lang) > maxLangLen || containsFunc(u.Lang, func(r rune) bool {
		return !(r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) {
		return invalid("user", "lang", "must be a language tag such as zh-CN")
	}
	if len(u.Agent) > maxAgentLen || containsFunc(u.Agent, func(r rune) bool { return r < '0' || r > '9' }) {
		return invalid("user", "agent", "must be a work number of 1-8 digits")
	}
	if len(u.Permissions) > maxPermissions {
		return invalid("user", "permissions", "too many")
	}
	for name := range u.Permissions {
		if !validPermission(name) {
			return invalid("user", "permissions", "names are 1-32 of a-z 0-9 . _ -")
		}
	}
	return nil
}

// validPermission: a permission's name, 1-32 of a-z 0-9 . _ -
func validPermission(s string) bool { return validName(s, maxPermissionLen) }

func containsFunc(s string, f func(rune) bool) bool {
	for _, r := range s {
		if f(r) {
			return true
		}
	}
	return false
}

// User returns the user with the given login.
func (t *Tx) User(login string) (User, error) {
	b, err := t.bucket(bucketUsers)
	if err != nil {
		return User{}, err
	}
	raw := b.Get([]byte(login))
	if raw == nil {
		return User{}, fmt.Errorf("store: user %q: %w", login, ErrNotFound)
	}
	return decodeUser(login, raw)
}

func decodeUser(key string, raw []byte) (User, error) {
	var u User
	if err := json.Unmarshal(raw, &u); err != nil {
		return User{}, fmt.Errorf("store: user %q: %w: %w", key, ErrCorrupt, err)
	}
	if u.Login != key {
		return User{}, fmt.Errorf("store: user %q: %w: record names %q", key, ErrCorrupt, u.Login)
	}
	return u, nil
}

// Users returns every user, sorted by login.
func (t *Tx) Users() ([]User, error) {
	b, err := t.bucket(bucketUsers)
	if err != nil {
		return nil, err
	}
	var users []User
	err = b.ForEach(func(k, v []byte) error {
		u, err := decodeUser(string(k), v)
		users = append(users, u)
		return err
	})
	if err != nil {
		return nil, err
	}
	return users, nil
}

// CountUsers returns the number of users; webui asks it to know whether
// first-boot setup is still due.
func (t *Tx) CountUsers() (int, error) {
	b, err := t.bucket(bucketUsers)
	if err != nil {
		return 0, err
	}
	return b.Stats().KeyN, nil
}

// CreateUser adds u, setting Created and Updated to now. It fails with
// ErrConflict if the login exists and ErrInvalid naming a bad field.
func (t *Tx) CreateUser(u User) error {
	if err := u.Validate(); err != nil {
		return err
	}
	b, err := t.bucket(bucketUsers)
	if err != nil {
		return err
	}
	if b.Get([]byte(u.Login)) != nil {
		return fmt.Errorf("store: user %q already exists: %w", u.Login, ErrConflict)
	}
	u.Created = t.now().UTC()
	u.Updated = u.Created
	return putUser(b, u)
}

// UpdateUser replaces the stored user with the same login, keeping Created
// and setting Updated to now. It fails with ErrNotFound for an unknown
// login, and with ErrConflict if the change would leave no enabled admin.
func (t *Tx) UpdateUser(u User) error {
	if err := u.Validate(); err != nil {
		return err
	}
	old, err := t.User(u.Login)
	if err != nil {
		return err
	}
	if old.Role == RoleAdmin && !old.Disabled && (u.Role != RoleAdmin || u.Disabled) {
		if err := t.keepAnAdmin(u.Login, "demote or disable"); err != nil {
			return err
		}
	}
	b, err := t.bucket(bucketUsers)
	if err != nil {
		return err
	}
	u.Created = old.Created
	u.Updated = t.now().UTC()
	return putUser(b, u)
}

// DeleteUser removes a user. It fails with ErrNotFound for an unknown
// login, and with ErrConflict for the last enabled admin, whose loss would
// lock everyone out of the web admin.
func (t *Tx) DeleteUser(login string) error {
	old, err := t.User(login)
	if err != nil {
		return err
	}
	if old.Role == RoleAdmin && !old.Disabled {
		if err := t.keepAnAdmin(login, "delete"); err != nil {
			return err
		}
	}
	b, err := t.bucket(bucketUsers)
	if err != nil {
		return err
	}
	if err := b.Delete([]byte(login)); err != nil {
		return fmt.Errorf("store: delete user %q: %w", login, err)
	}
	return nil
}

// keepAnAdmin fails unless an enabled admin other than login exists.
func (t *Tx) keepAnAdmin(login, action string) error {
	users, err := t.Users()
	if err != nil {
		return err
	}
	if slices.ContainsFunc(users, func(u User) bool {
		return u.Login != login && u.Role == RoleAdmin && !u.Disabled
	}) {
		return nil
	}
	return fmt.Errorf("store: %s user %q: it is the last enabled admin: %w", action, login, ErrConflict)
}

func putUser(b *bolt.Bucket, u User) error {
	raw, err := json.Marshal(u)
	if err != nil {
		return fmt.Errorf("store: encode user %q: %w", u.Login, err)
	}
	return put(b, "user "+u.Login, []byte(u.Login), raw)
}
