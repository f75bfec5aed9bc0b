package store

import (
	"errors"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestUserValidation(t *testing.T) {
	good := User{Login: "li.wei_2", DisplayName: "李伟 (night shift)", Role: RoleAgent, PasswordHash: "$argon2id$v=19$m=65536,t=3,p=2$c2FsdA$aGFzaA"}
	for _, tc := range []struct {
		name  string
		edit  func(*User)
		field string // "" for valid
	}{
		{"valid", func(*User) {}, ""},
		{"login 32", func(u *User) { u.Login = strings.Repeat("a", 32) }, ""},
		{"empty display name", func(u *User) { u.DisplayName = "" }, ""},
		{"display name 64 CJK", func(u *User) { u.DisplayName = strings.Repeat("王", 64) }, ""},
		{"empty login", func(u *User) { u.Login = "" }, "login"},
		{"login 33", func(u *User) { u.Login = strings.Repeat("a", 33) }, "login"},
		{"upper-case login", func(u *User) { u.Login = "Admin" }, "login"},
		{"login with space", func(u *User) { u.Login = "a b" }, "login"},
		{"login with slash", func(u *User) { u.Login = "a/b" }, "login"},
		{"non-ASCII login", func(u *User) { u.Login = "王" }, "login"},
		{"display name 65", func(u *User) { u.DisplayName = strings.Repeat("王", 65) }, "display_name"},
		{"display name newline", func(u *User) { u.DisplayName = "a\nb" }, "display_name"},
		{"display name bad UTF-8", func(u *User) { u.DisplayName = "\xff" }, "display_name"},
		{"no role", func(u *User) { u.Role = "" }, "role"},
		{"unknown role", func(u *User) { u.Role = "root" }, "role"},
		{"no hash", func(u *User) { u.PasswordHash = "" }, "password_hash"},
		{"huge hash", func(u *User) { u.PasswordHash = strings.Repeat("x", 513) }, "password_hash"},
		{"lang, agent, permissions", func(u *User) {
			u.Lang, u.Agent, u.Permissions = "zh-CN", "1088", map[string]bool{"queue.monitor": false, "cc.write": true}
		}, ""},
		{"lang with space", func(u *User) { u.Lang = "zh CN" }, "lang"},
		{"lang 17", func(u *User) { u.Lang = strings.Repeat("a", 17) }, "lang"},
		{"agent letters", func(u *User) { u.Agent = "10a" }, "agent"},
		{"agent 9 digits", func(u *User) { u.Agent = "123456789" }, "agent"},
		{"permission name", func(u *User) { u.Permissions = map[string]bool{"Queue Monitor": true} }, "permissions"},
		{"empty permission name", func(u *User) { u.Permissions = map[string]bool{"": true} }, "permissions"},
		{"65 permissions", func(u *User) {
			u.Permissions = map[string]bool{}
			for i := range 65 {
				u.Permissions["p"+strconv.Itoa(i)] = true
			}
		}, "permissions"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := good
			tc.edit(&u)
			db, _ := openTest(t)
			err := db.Update(func(tx *Tx) error { return tx.CreateUser(u) })
			if tc.field == "" {
				if err != nil {
					t.Fatalf("CreateUser: %v", err)
				}
				return
			}
			fe, ok := errors.AsType[*FieldError](err)
			if !ok || !errors.Is(err, ErrInvalid) || fe.Field != tc.field || fe.Entity != "user" {
				t.Fatalf("CreateUser: %v, want an invalid-user error on %s", err, tc.field)
			}
			if want := "store: invalid user: " + tc.field + ": "; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("message %q does not start with %q", err, want)
			}
		})
	}
	err := (&User{Login: "x y"}).Validate()
	if want := "store: invalid user: login: must be 1-32 of a-z 0-9 . _ -"; err == nil || err.Error() != want {
		t.Errorf("Validate = %v, want %q", err, want)
	}
}

func TestUserLifecycle(t *testing.T) {
	db, clk := openTest(t)
	mustUpdate := func(f func(tx *Tx) error) {
		t.Helper()
		if err := db.Update(f); err != nil {
			t.Fatal(err)
		}
	}
	mustUpdate(func(tx *Tx) error {
		for _, login := range []string{"zhang", "admin", "li"} {
			role := RoleAgent
			if login == "admin" {
				role = RoleAdmin
			}
			if err := tx.CreateUser(User{Login: login, Role: role, PasswordHash: "h-" + login}); err != nil {
				return err
			}
		}
		return nil
	})
	clk.advance(time.Hour)

	// Duplicate login.
	err := db.Update(func(tx *Tx) error { return tx.CreateUser(User{Login: "li", Role: RoleAgent, PasswordHash: "x"}) })
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), `"li"`) {
		t.Errorf("duplicate CreateUser: %v", err)
	}

	// Update keeps Created, moves Updated, replaces the fields.
	mustUpdate(func(tx *Tx) error {
		return tx.UpdateUser(User{Login: "li", DisplayName: "Li Na", Role: RoleSupervisor, PasswordHash: "h2", Disabled: true,
			Lang: "en", Agent: "1001", Permissions: map[string]bool{"cc.write": true},
			Created: time.Unix(0, 0)}) // ignored
	})
	db.View(func(tx *Tx) error {
		u, err := tx.User("li")
		want := User{Login: "li", DisplayName: "Li Na", Role: RoleSupervisor, PasswordHash: "h2", Disabled: true,
			Lang: "en", Agent: "1001", Permissions: map[string]bool{"cc.write": true},
			Created: t0, Updated: t0.Add(time.Hour)}
		if err != nil || !u.Created.Equal(want.Created) || !u.Updated.Equal(want.Updated) {
			t.Errorf("User(li) = %+v, %v; want %+v", u, err, want)
		}
		u.Created, u.Updated = want.Created, want.Updated
		if !reflect.DeepEqual(u, want) {
			t.Errorf("User(li) = %+v, want %+v", u, want)
		}
		users, err := tx.Users()
		var logins []string
		for _, u := range users {
			logins = append(logins, u.Login)
		}
		if err != nil || !slices.Equal(logins, []string{"admin", "li", "zhang"}) {
			t.Errorf("Users() logins = %v, %v", logins, err)
		}
		if n, err := tx.CountUsers(); n != 3 || err != nil {
			t.Errorf("CountUsers() = %d, %v", n, err)
		}
		return nil
	})

	for name, f := range map[string]func(tx *Tx) error{
		"User":       func(tx *Tx) error { _, err := tx.User("ghost"); return err },
		"UpdateUser": func(tx *Tx) error { return tx.UpdateUser(User{Login: "ghost", Role: RoleAgent, PasswordHash: "h"}) },
		"DeleteUser": func(tx *Tx) error { return tx.DeleteUser("ghost") },
	} {
		if err := db.Update(f); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), `"ghost"`) {
			t.Errorf("%s(ghost) = %v, want ErrNotFound naming the login", name, err)
		}
	}

	mustUpdate(func(tx *Tx) error { return tx.DeleteUser("zhang") })
	db.View(func(tx *Tx) error {
		if _, err := tx.User("zhang"); !errors.Is(err, ErrNotFound) {
			t.Errorf("deleted user still readable: %v", err)
		}
		return nil
	})
}

func TestLastAdminIsKept(t *testing.T) {
	db, _ := openTest(t)
	admin := User{Login: "admin", Role: RoleAdmin, PasswordHash: "h"}
	if err := db.Update(func(tx *Tx) error { return tx.CreateUser(admin) }); err != nil {
		t.Fatal(err)
	}
	demoted, disabled := admin, admin
	demoted.Role = RoleSupervisor
	disabled.Disabled = true
	refused := map[string]func(tx *Tx) error{
		"delete":  func(tx *Tx) error { return tx.DeleteUser("admin") },
		"demote":  func(tx *Tx) error { return tx.UpdateUser(demoted) },
		"disable": func(tx *Tx) error { return tx.UpdateUser(disabled) },
	}
	for name, f := range refused {
		if err := db.Update(f); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "last enabled admin") {
			t.Errorf("%s the only admin: %v, want ErrConflict", name, err)
		}
	}
	// With a second enabled admin each is allowed; a disabled admin does
	// not count.
	if err := db.Update(func(tx *Tx) error {
		return tx.CreateUser(User{Login: "root2", Role: RoleAdmin, PasswordHash: "h", Disabled: true})
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.Update(refused["delete"]); !errors.Is(err, ErrConflict) {
		t.Errorf("a disabled second admin allowed deleting the last enabled one: %v", err)
	}
	if err := db.Update(func(tx *Tx) error {
		return tx.UpdateUser(User{Login: "root2", Role: RoleAdmin, PasswordHash: "h"})
	}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"disable", "demote", "delete"} {
		if err := db.Update(refused[name]); err != nil {
			t.Errorf("%s with another admin present: %v", name, err)
		}
	}
}
