package webui

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// routeNeeds is what every API route asks of its caller: "public" (no
// login), "user" (any logged-in user) or a permission. A route missing
// here fails TestEveryRouteChecksItsPermission, so no route is added
// without saying who may call it.
var routeNeeds = map[string]string{
	"GET /api/v1/health":  "public",
	"GET /api/v1/session": "public",
	"POST /api/v1/login":  "public",
	"POST /api/v1/logout": "public",
	"POST /api/v1/setup":  "public",

	"GET /api/v1/system":      "user",
	"GET /api/v1/permissions": "user",
	"PUT /api/v1/me":          "user",
	"GET /api/v1/events":      "user",

	"GET /api/v1/users":           string(PermUsers),
	"POST /api/v1/users":          string(PermUsers),
	"GET /api/v1/users/:login":    string(PermUsers),
	"PUT /api/v1/users/:login":    string(PermUsers),
	"DELETE /api/v1/users/:login": string(PermUsers),

	"GET /api/v1/cdr": string(PermLogsAll),

	"GET /api/v1/wallboard": string(PermWallboard),
	// A display token's exchange for a wallboard session: a bearer
	// request with the wallboard scope; any other caller gets 403.
	"POST /api/v1/wallboard/session": "user",

	// Logs: every user's own (the handlers scope them by role).
	"GET /api/v1/logs/status":          "user",
	"GET /api/v1/logs/service":         "user",
	"GET /api/v1/logs/calls":           "user",
	"GET /api/v1/reports":              string(PermReports),
	"GET /api/v1/reports/saved":        string(PermReports),
	"POST /api/v1/reports/saved":       string(PermReports),
	"DELETE /api/v1/reports/saved/:id": string(PermReports),

	// Records: every user (the handlers decide per record and role).
	"GET /api/v1/customers":                   "user",
	"GET /api/v1/customers/lookup":            "user",
	"GET /api/v1/customers/:id":               "user",
	"GET /api/v1/customers/:id/card":          "user",
	"GET /api/v1/customers/:id/comms":         "user",
	"GET /api/v1/customer-categories":         "user",
	"GET /api/v1/customer-fields":             "user",
	"GET /api/v1/customer-settings":           "user",
	"GET /api/v1/cc/agents/:agent":            "user",
	"GET /api/v1/comm-types":                  "user",
	"GET /api/v1/workorder-categories":        "user",
	"GET /api/v1/workorder-lifecycles":        "user",
	"GET /api/v1/workorder-groups":            "user",
	"GET /api/v1/workorders":                  "user",
	"GET /api/v1/workorders/:id":              "user",
	"GET /api/v1/kb/articles":                 "user",
	"GET /api/v1/kb/articles/:id":             "user",
	"GET /api/v1/kb/articles/:id/versions":    "user",
	"GET /api/v1/kb/categories":               "user",
	"GET /api/v1/pending":                     "user",
	"GET /api/v1/notices":                     "user",
	"POST /api/v1/customers":                  "user",
	"POST /api/v1/customers/:id/comms":        "user",
	"POST /api/v1/customer-categories":        "user",
	"POST /api/v1/cc/agents/:agent/:op":       "user",
	"POST /api/v1/comm-types":                 "user",
	"POST /api/v1/workorders":                 "user",
	"POST /api/v1/workorders/:id/assign":      "user",
	"POST /api/v1/workorders/:id/ack":         "user",
	"POST /api/v1/workorders/:id/steps/:step": "user",
	"POST /api/v1/workorders/:id/calls":       "user",
	"POST /api/v1/workorders/:id/dial":        string(PermDeskOutbound),
	"POST /api/v1/workorder-categories":       "user",
	"POST /api/v1/workorder-groups":           "user",
	"POST /api/v1/kb/categories":              "user",
	"POST /api/v1/kb/articles":                "user",
	"POST /api/v1/notices/read":               "user",
	"PUT /api/v1/customer-categories/:id":     "user",
	"PUT /api/v1/customer-fields/:key":        "user",
	"PUT /api/v1/customer-settings":           "user",
	"PUT /api/v1/customers/:id":               "user",
	"PUT /api/v1/comm-types/:id":              "user",
	"PUT /api/v1/workorder-categories/:id":    "user",
	"PUT /api/v1/workorder-lifecycles/:id":    "user",
	"PUT /api/v1/workorder-groups/:id":        "user",
	"PUT /api/v1/kb/categories/:id":           "user",
	"PUT /api/v1/kb/articles/:id":             "user",
	"DELETE /api/v1/customer-categories/:id":  "user",
	"DELETE /api/v1/customer-fields/:key":     "user",
	"DELETE /api/v1/customers/:id":            "user",
	"DELETE /api/v1/comm-types/:id":           "user",
	"DELETE /api/v1/kb/categories/:id":        "user",
	"DELETE /api/v1/kb/articles/:id":          "user",
	"PATCH /api/v1/workorders/:id":            "user",
	// Bulk customer records, the live call centre's views (its operations
	// check the agent or the call themselves), fax.
	"GET /api/v1/customers/export":         string(PermCustomersImport),
	"POST /api/v1/customers/imports":       string(PermCustomersImport),
	"POST /api/v1/customers/imports/:id":   string(PermCustomersImport),
	"DELETE /api/v1/customers/imports/:id": string(PermCustomersImport),
	"GET /api/v1/cc/figures":               string(PermQueueMonitor),
	"GET /api/v1/cc/waiting":               string(PermQueueMonitor),
	"GET /api/v1/cc/services":              string(PermQueueMonitor),
	"GET /api/v1/cc/facts.csv":             string(PermLogsAll),
	"GET /api/v1/cc/status.csv":            string(PermLogsAll),
	"POST /api/v1/cc/calls/:call/:op":      "user",
	"GET /api/v1/fax":                      string(PermFax),
	"GET /api/v1/fax/settings":             string(PermFax),
	"GET /api/v1/fax/jobs":                 string(PermFax),
	"GET /api/v1/fax/:id":                  string(PermFax),
	"GET /api/v1/fax/:id/tiff":             string(PermFax),
	"GET /api/v1/fax/:id/pages/:png":       string(PermFax),
	"POST /api/v1/fax/outbox":              string(PermFax),
	"POST /api/v1/fax/jobs":                string(PermFax),
	"PUT /api/v1/fax/settings":             string(PermPBX),
	"GET /api/v1/fax/documents":            string(PermFax),
	"PUT /api/v1/fax/documents/:name":      string(PermFax),
	"DELETE /api/v1/fax/documents/:name":   string(PermFax),
	// Outside interfaces: sending SMS and its lists, PermSMS; the
	// settings, webhooks and API tokens, PermSystem.
	"GET /api/v1/sms/status":              string(PermSMS),
	"GET /api/v1/sms/outbox":              string(PermSMS),
	"GET /api/v1/sms/inbox":               string(PermSMS),
	"GET /api/v1/sms/templates":           string(PermSMS),
	"POST /api/v1/sms/send":               string(PermSMS),
	"POST /api/v1/customers/:id/sms":      string(PermSMS),
	"PUT /api/v1/sms/templates/:name":     string(PermSystem),
	"DELETE /api/v1/sms/templates/:name":  string(PermSystem),
	"GET /api/v1/sms/settings":            string(PermSystem),
	"PUT /api/v1/sms/settings":            string(PermSystem),
	"GET /api/v1/mail/settings":           string(PermSystem),
	"PUT /api/v1/mail/settings":           string(PermSystem),
	"POST /api/v1/mail/test":              string(PermSystem),
	"GET /api/v1/export/settings":         string(PermSystem),
	"PUT /api/v1/export/settings":         string(PermSystem),
	"GET /api/v1/export/status":           string(PermSystem),
	"GET /api/v1/webhooks":                string(PermSystem),
	"GET /api/v1/webhooks/status":         string(PermSystem),
	"POST /api/v1/webhooks":               string(PermSystem),
	"PUT /api/v1/webhooks/:id":            string(PermSystem),
	"DELETE /api/v1/webhooks/:id":         string(PermSystem),
	"GET /api/v1/webhooks/:id/deliveries": string(PermSystem),
	"GET /api/v1/tokens":                  string(PermSystem),
	"POST /api/v1/tokens":                 string(PermSystem),
	"DELETE /api/v1/tokens/:id":           string(PermSystem),
	// Recordings and voicemail: any user, who sees their own (everyone's
	// with recordings.all); their settings, boxes and rooms: pbx; live
	// conferences: queue.control.
	"GET /api/v1/recordings":                                  "user",
	"GET /api/v1/recordings/:id":                              "user",
	"GET /api/v1/recordings/:id/audio":                        "user",
	"DELETE /api/v1/recordings/:id":                           string(PermPBX),
	"GET /api/v1/recording-settings":                          string(PermPBX),
	"PUT /api/v1/recording-settings":                          string(PermPBX),
	"GET /api/v1/recording-usage":                             string(PermPBX),
	"GET /api/v1/recording-purges":                            string(PermPBX),
	"GET /api/v1/voicemail/boxes":                             "user",
	"PUT /api/v1/voicemail/boxes/:box":                        string(PermPBX),
	"DELETE /api/v1/voicemail/boxes/:box":                     string(PermPBX),
	"GET /api/v1/voicemail/boxes/:box/messages":               "user",
	"GET /api/v1/voicemail/boxes/:box/messages/:id/audio":     "user",
	"PUT /api/v1/voicemail/boxes/:box/messages/:id":           "user",
	"DELETE /api/v1/voicemail/boxes/:box/messages/:id":        "user",
	"POST /api/v1/voicemail/boxes/:box/messages/:id/callback": "user",
	"PUT /api/v1/voicemail/boxes/:box/greeting":               "user",
	"DELETE /api/v1/voicemail/boxes/:box/greeting":            "user",
	"GET /api/v1/voicemail-settings":                          string(PermPBX),
	"PUT /api/v1/voicemail-settings":                          string(PermPBX),
	"GET /api/v1/conference/rooms":                            string(PermQueueControl),
	"PUT /api/v1/conference/rooms/:room":                      string(PermPBX),
	"DELETE /api/v1/conference/rooms/:room":                   string(PermPBX),
	"GET /api/v1/conference/live":                             string(PermQueueControl),
	"PUT /api/v1/conference/live/:room":                       string(PermQueueControl),
	"DELETE /api/v1/conference/live/:room":                    string(PermQueueControl),
	"PUT /api/v1/conference/live/:room/parties/:id":           string(PermQueueControl),
	"DELETE /api/v1/conference/live/:room/parties/:id":        string(PermQueueControl),

	"GET /api/v1/tls":                      string(PermSystem),
	"PUT /api/v1/tls":                      string(PermSystem),
	"DELETE /api/v1/tls":                   string(PermSystem),
	"GET /api/v1/update":                   string(PermSystem),
	"POST /api/v1/update":                  string(PermSystem),
	"POST /api/v1/update/apply":            string(PermSystem),
	"GET /api/v1/backup":                   string(PermSystem),
	"POST /api/v1/backup/restore":          string(PermSystem),
	"GET /api/v1/backup/restore":           string(PermSystem),
	"DELETE /api/v1/backup/restore":        string(PermSystem),
	"POST /api/v1/backup/restore/apply":    string(PermSystem),
	"GET /api/v1/update/settings":          string(PermSystem),
	"PUT /api/v1/update/settings":          string(PermSystem),
	"POST /api/v1/update/check":            string(PermSystem),
	"POST /api/v1/update/fetch":            string(PermSystem),
	"GET /api/v1/installer":                string(PermSystem),
	"PUT /api/v1/installer":                string(PermSystem),
	"POST /api/v1/installer/factory-reset": string(PermSystem),
}

func init() {
	for _, kind := range []string{PBXExtensions, PBXTrunks, PBXRoutes} {
		for _, r := range []string{"GET /api/v1/" + kind, "POST /api/v1/" + kind, "GET /api/v1/" + kind + "/:key",
			"PUT /api/v1/" + kind + "/:key", "DELETE /api/v1/" + kind + "/:key"} {
			routeNeeds[r] = string(PermPBX)
		}
	}
	read, write := string(PermCCRead), string(PermCCWrite)
	for _, kind := range []string{CCGroups, CCAgents, CCCustomerTypes, CCBlacklist, CCInboundRoutes, CCCalendars, CCBindings, CCCallerIDs} {
		routeNeeds["GET /api/v1/"+kind] = read
		routeNeeds["GET /api/v1/"+kind+"/:key"] = read
		routeNeeds["POST /api/v1/"+kind] = write
		routeNeeds["PUT /api/v1/"+kind+"/:key"] = write
		routeNeeds["DELETE /api/v1/"+kind+"/:key"] = write
	}
	for r, need := range map[string]string{
		"GET /api/v1/call-centre": read, "PUT /api/v1/call-centre": write,
		"GET /api/v1/flows": read, "POST /api/v1/flows": write, "GET /api/v1/flows/:id": read, "PUT /api/v1/flows/:id": write,
		"GET /api/v1/flows/:id/versions": read, "GET /api/v1/flows/:id/versions/:version": read,
		"GET /api/v1/prompts": read, "GET /api/v1/prompts/:lang/*name": read,
		"PUT /api/v1/prompts/:lang/*name": write, "DELETE /api/v1/prompts/:lang/*name": write,
	} {
		routeNeeds[r] = need
	}
}

// permUser is a user of the route test with its expected holdings.
type permUser struct {
	login, role string
	perms       map[string]bool
}

// TestEveryRouteChecksItsPermission calls every API route of the server
// as each role (with default permissions, with everything the role may
// hold, with nothing) and anonymously, and checks the server refuses
// exactly those who lack the route's permission: 401 without a login, 403
// naming the permission otherwise.
func TestEveryRouteChecksItsPermission(t *testing.T) {
	e := newEnv(t, Config{})
	all := func(role string) map[string]bool {
		m := map[string]bool{}
		for _, pi := range Permissions {
			if slices.Contains(pi.Roles, role) {
				m[string(pi.Name)] = true
			}
		}
		return m
	}
	none := func(role string) map[string]bool {
		m := all(role)
		for k := range m {
			m[k] = false
		}
		return m
	}
	users := []permUser{
		{"root", RoleAdmin, nil},
		{"sue", RoleSupervisor, nil},
		{"sue.all", RoleSupervisor, all(RoleSupervisor)},
		{"sue.none", RoleSupervisor, none(RoleSupervisor)},
		{"ann", RoleAgent, nil},
		{"ann.all", RoleAgent, all(RoleAgent)},
		{"ann.none", RoleAgent, none(RoleAgent)},
	}
	clients := map[string]*client{}
	for _, pu := range users {
		e.users.add(t, pu.login, pu.role, pu.login+"-password")
		u, _ := e.users.Get(context.Background(), pu.login)
		u.Permissions = pu.perms
		if err := e.users.Update(context.Background(), u); err != nil {
			t.Fatal(err)
		}
		c := e.client(t)
		c.login(pu.login, pu.login+"-password")
		clients[pu.login] = c
	}
	anon := e.client(t)
	anon.session()

	seen := map[string]bool{}
	n := 0 // anonymous requests so far, each from its own address
	for _, r := range e.s.engine.Routes() {
		if !strings.HasPrefix(r.Path, "/api/") {
			continue
		}
		key := r.Method + " " + r.Path
		need, ok := routeNeeds[key]
		if !ok {
			t.Errorf("route %s is not in routeNeeds: say who may call it", key)
			continue
		}
		seen[key] = true
		path := strings.NewReplacer(":login", "nobody", ":key", "nothing", ":id", "nothing", ":version", "1",
			":lang", "zh-CN", "*name", "nothing").Replace(r.Path)
		call := func(c *client) (int, map[string]any) {
			if c == anon { // one address would meet the anonymous rate limit
				n++
				c.addr = fmt.Sprintf("198.51.%d.%d:40000", n/250, n%250+1)
			}
			// A cancelled context makes the event stream return at once.
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			req := httptest.NewRequestWithContext(ctx, r.Method, "http://callbox.test"+path, strings.NewReader("{}"))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set(csrfHeader, c.csrf)
			rec := c.do(req)
			m := map[string]any{}
			_ = json.Unmarshal(rec.Body.Bytes(), &m)
			return rec.Code, m
		}
		if need != "public" {
			if st, m := call(anon); st != http.StatusUnauthorized {
				t.Errorf("anonymous %s = %d %v, want 401", key, st, m)
			}
		}
		if need == "public" || need == "user" {
			continue
		}
		for _, pu := range users {
			if pu.login == "root" && strings.Contains(key, "factory-reset") {
				continue // the admin may; the handler would want its confirmation anyway
			}
			u, _ := e.users.Get(context.Background(), pu.login)
			st, m := call(clients[pu.login])
			if u.Can(Permission(need)) {
				if st == http.StatusForbidden || st == http.StatusUnauthorized {
					t.Errorf("%s (%s) holds %s but %s = %d %v", pu.login, pu.role, need, key, st, m)
				}
				continue
			}
			if st != http.StatusForbidden || m["reason"] != need || !strings.Contains(m["error"].(string), "\u201c") {
				t.Errorf("%s (%s) lacks %s but %s = %d %v, want 403 naming it", pu.login, pu.role, need, key, st, m)
			}
		}
	}
	for key := range routeNeeds {
		if !seen[key] {
			t.Errorf("routeNeeds lists %s, which the server does not have", key)
		}
	}
	if len(seen) < 20 {
		t.Fatalf("checked only %d routes; the walk is broken", len(seen))
	}
}

func TestPermissionModel(t *testing.T) {
	for _, tc := range []struct {
		name  string
		u     User
		can   []Permission
		canot []Permission
	}{
		{"admin holds everything, overrides or not", User{Role: RoleAdmin, Permissions: map[string]bool{"users": false}},
			[]Permission{PermUsers, PermSystem, PermPBX, PermQueueMonitor, PermDesk}, nil},
		{"supervisor defaults", User{Role: RoleSupervisor},
			[]Permission{PermQueueMonitor, PermQueueControl, PermAgentsMonitor, PermCCRead, PermLogsAll, PermDesk},
			[]Permission{PermCCWrite, PermPBX, PermUsers, PermSystem}},
		{"supervisor without the queue monitor, with config writes",
			User{Role: RoleSupervisor, Permissions: map[string]bool{"queue.monitor": false, "queue.control": false, "cc.write": true}},
			[]Permission{PermCCWrite, PermCCRead, PermAgentsMonitor}, []Permission{PermQueueMonitor, PermQueueControl}},
		{"managing services includes seeing them; editing includes reading",
			User{Role: RoleSupervisor, Permissions: map[string]bool{"queue.monitor": false, "cc.read": false, "cc.write": true}},
			[]Permission{PermQueueMonitor, PermQueueControl, PermCCRead}, nil},
		{"an override beyond the role counts for nothing",
			User{Role: RoleSupervisor, Permissions: map[string]bool{"users": true, "system": true, "nonsense": true}},
			nil, []Permission{PermUsers, PermSystem, Permission("nonsense")}},
		{"agent defaults", User{Role: RoleAgent},
			[]Permission{PermDesk, PermDeskOutbound}, []Permission{PermQueueMonitor, PermLogsAll, PermRecordingsAll, PermCCRead}},
		{"agent granted the queue monitor", User{Role: RoleAgent, Permissions: map[string]bool{"queue.monitor": true}},
			[]Permission{PermQueueMonitor, PermDesk}, []Permission{PermQueueControl}},
		{"unknown role", User{Role: "root"}, nil, []Permission{PermDesk, PermUsers}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, p := range tc.can {
				if !tc.u.Can(p) {
					t.Errorf("cannot %s", p)
				}
			}
			for _, p := range tc.canot {
				if tc.u.Can(p) {
					t.Errorf("can %s", p)
				}
			}
		})
	}
	// Only differences from the defaults are stored.
	o, f := overridesFor(RoleSupervisor, []string{"desk", "desk.outbound", "queue.control", "agents.monitor",
		"agents.control", "wallboard", "logs.all", "recordings.all", "reports", "customers.import", "fax", "sms", "cc.read", "cc.write"})
	if f != nil || len(o) != 2 || o["queue.monitor"] || !o["cc.write"] {
		t.Errorf("overrides = %v, %v; want queue.monitor off and cc.write on", o, f)
	}
	if o, f := overridesFor(RoleAdmin, []string{"desk"}); f != nil || o != nil {
		t.Errorf("admin overrides = %v, %v", o, f)
	}
	if _, f := overridesFor(RoleAgent, []string{"users"}); f == nil || f.key != "err.permission.role" {
		t.Errorf("agent given users: %v", f)
	}
	if _, f := overridesFor(RoleAgent, []string{"fly"}); f == nil || f.key != "err.permission.unknown" {
		t.Errorf("unknown permission: %v", f)
	}
	// Every permission has its label and hint in every language.
	cs := newEnv(t, Config{}).s.cat
	for _, pi := range Permissions {
		for _, k := range []string{"perm." + string(pi.Name), "perm.hint." + string(pi.Name)} {
			for _, l := range cs.Langs() {
				if _, ok := cs[l][k]; !ok {
					t.Errorf("%s lacks %s", l, k)
				}
			}
		}
	}
}

// TestUsersAPIPermissions: an administrator sets a supervisor's
// permissions through the API; the supervisor's next request follows them;
// bad sets are refused naming the field, and nothing is saved.
func TestUsersAPIPermissions(t *testing.T) {
	e := newEnv(t, Config{PBX: &confPBX{}})
	e.users.add(t, "root", RoleAdmin, "root-password")
	e.users.add(t, "sue", RoleSupervisor, "sue-password")
	a := e.client(t)
	a.login("root", "root-password")
	s := e.client(t)
	s.login("sue", "sue-password")

	st, m := s.api(http.MethodGet, "/api/v1/cdr", nil)
	if st == http.StatusForbidden {
		t.Fatalf("supervisor with defaults refused the call log: %v", m)
	}
	st, m = a.api(http.MethodGet, "/api/v1/users/sue", nil)
	wantStatus(t, "get sue", st, http.StatusOK, m)
	if got := m["permissions"].([]any); !slices.Contains(got, any("queue.monitor")) || slices.Contains(got, any("cc.write")) {
		t.Fatalf("sue's default permissions %v", got)
	}
	// Take the call log and the queue monitor (with the control that
	// includes it) away, give config writes.
	want := []string{"desk", "desk.outbound", "agents.monitor", "agents.control", "wallboard",
		"recordings.all", "reports", "customers.import", "fax", "sms", "cc.read", "cc.write"}
	st, m = a.api(http.MethodPut, "/api/v1/users/sue", map[string]any{"permissions": want, "agent": "1001"})
	wantStatus(t, "set sue's permissions", st, http.StatusOK, m)
	if m["agent"] != "1001" {
		t.Errorf("agent = %v", m["agent"])
	}
	st, m = s.api(http.MethodGet, "/api/v1/cdr", nil)
	wantStatus(t, "sue's call log after the change", st, http.StatusForbidden, m)
	if m["reason"] != "logs.all" {
		t.Errorf("refusal names %v", m["reason"])
	}
	st, m = s.api(http.MethodGet, "/api/v1/session", nil)
	wantStatus(t, "sue's session", st, http.StatusOK, m)
	got := m["user"].(map[string]any)["permissions"].([]any)
	if len(got) != len(want) {
		t.Errorf("session permissions %v, want %v", got, want)
	}

	for _, tc := range []struct {
		name  string
		body  map[string]any
		code  int
		field string
	}{
		{"unknown permission", map[string]any{"permissions": []string{"desk", "fly"}}, 400, "permissions"},
		{"beyond the role", map[string]any{"permissions": []string{"users"}, "display_name": "changed"}, 400, "permissions"},
		{"not a list", map[string]any{"permissions": "desk"}, 400, "permissions"},
		{"agent letters", map[string]any{"agent": "10a1"}, 400, "agent"},
		{"agent too long", map[string]any{"agent": "123456789"}, 400, "agent"},
		{"lang", map[string]any{"lang": "fr"}, 400, "lang"},
	} {
		st, m := a.api(http.MethodPut, "/api/v1/users/sue", tc.body)
		wantStatus(t, tc.name, st, tc.code, m)
		wantField(t, tc.name, m, tc.field)
	}
	u, _ := e.users.Get(context.Background(), "sue")
	if u.DisplayName == "changed" || len(u.Permissions) != 4 {
		t.Errorf("a refused change was saved: %+v", u)
	}
	// A work number belongs to one user.
	st, m = a.api(http.MethodPost, "/api/v1/users", map[string]any{"login": "ann", "role": "agent",
		"password": "Kettle-Drum-42", "agent": "1001"})
	wantStatus(t, "taken work number", st, http.StatusConflict, m)
	wantField(t, "taken work number", m, "agent")
	// A role change without permissions gives the new role's defaults.
	st, m = a.api(http.MethodPut, "/api/v1/users/sue", map[string]any{"role": "agent"})
	wantStatus(t, "demote sue", st, http.StatusOK, m)
	if got := m["permissions"].([]any); len(got) != 2 {
		t.Errorf("agent sue holds %v, want the agent defaults", got)
	}
}

// TestLanguagePerUser: the language a user picks is stored with the user
// and follows them to another browser; the default without any choice is
// zh-CN.
func TestLanguagePerUser(t *testing.T) {
	e := newEnv(t, Config{})
	e.users.add(t, "ann", RoleAgent, "ann-password")
	c := e.client(t)
	c.lang = ""
	if p := c.get("/login").Body.String(); !strings.Contains(p, `<html lang="zh-CN">`) {
		t.Fatalf("no Accept-Language: want zh-CN:\n%.300s", p)
	}
	c.login("ann", "ann-password")
	st, m := c.api(http.MethodPut, "/api/v1/me", map[string]any{"lang": "en"})
	wantStatus(t, "choose English", st, http.StatusOK, m)
	if m["lang"] != "en" {
		t.Fatalf("me = %v", m)
	}
	other := e.client(t) // another browser, Chinese
	other.lang = "zh-CN"
	other.login("ann", "ann-password")
	if p := other.get("/").Body.String(); !strings.Contains(p, `<html lang="en">`) {
		t.Fatalf("the stored choice did not follow ann:\n%.300s", p)
	}
	// The page's switch is a form.
	rec := other.form("/lang/zh-CN", map[string][]string{"next": {"/"}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/" {
		t.Fatalf("switch = %d %s", rec.Code, rec.Header().Get("Location"))
	}
	if u, _ := e.users.Get(context.Background(), "ann"); u.Lang != "zh-CN" {
		t.Fatalf("stored lang %q", u.Lang)
	}
	if p := c.get("/").Body.String(); !strings.Contains(p, `<html lang="zh-CN">`) {
		t.Fatalf("the first browser did not follow:\n%.300s", p)
	}
	if rec := other.form("/lang/zh-CN", map[string][]string{"next": {"/"}, csrfField: {"bad"}}); rec.Code != http.StatusForbidden {
		t.Fatalf("switch without the token = %d", rec.Code)
	}
}

// TestUsersPagePermissions: the user page's boxes set the permissions; a
// role changed in the same post gives the new role's defaults (the boxes
// were drawn for the old one); an implied permission stays when what
// implies it is taken away later.
func TestUsersPagePermissions(t *testing.T) {
	e := newEnv(t, Config{})
	e.users.add(t, "root", RoleAdmin, "root-password")
	e.users.add(t, "sue", RoleSupervisor, "sue-password")
	c := e.client(t)
	c.login("root", "root-password")
	page := c.get("/users/sue").Body.String()
	if !strings.Contains(page, `name="perm" value="queue.monitor" checked`) || !strings.Contains(page, `value="users" disabled`) {
		t.Fatalf("user page boxes:\n%s", page)
	}
	post := func(vals url.Values) {
		t.Helper()
		vals.Set("display_name", "Sue")
		if rec := c.form("/users/sue", vals); rec.Code != http.StatusSeeOther {
			t.Fatalf("post = %d:\n%s", rec.Code, rec.Body)
		}
	}
	post(url.Values{"role": {"supervisor"}, "perms_shown": {"supervisor"}, "perm": {"desk", "cc.read", "cc.write"}})
	u, _ := e.users.Get(context.Background(), "sue")
	if got := u.Effective(); !slices.Equal(got, []Permission{PermDesk, PermCCRead, PermCCWrite}) {
		t.Fatalf("after the boxes: %v", got)
	}
	// cc.read is shown as included in cc.write and sent along; taking
	// cc.write away later leaves it.
	page = c.get("/users/sue").Body.String()
	if !strings.Contains(page, `<input type="hidden" name="perm" value="cc.read">`) {
		t.Fatalf("the implied permission is not carried:\n%s", page)
	}
	post(url.Values{"role": {"supervisor"}, "perms_shown": {"supervisor"}, "perm": {"desk", "cc.read"}})
	if u, _ = e.users.Get(context.Background(), "sue"); !u.Can(PermCCRead) || u.Can(PermCCWrite) {
		t.Fatalf("after taking cc.write: %v", u.Effective())
	}
	post(url.Values{"role": {"agent"}, "perms_shown": {"supervisor"}, "perm": {"cc.read"}})
	if u, _ = e.users.Get(context.Background(), "sue"); u.Role != RoleAgent || u.Permissions != nil {
		t.Fatalf("after the role change: %+v", u)
	}
}
