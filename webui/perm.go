package webui

import (
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"
)

// Permission names something a user may see or do. The list is fixed
// (Permissions); each role has defaults, and an administrator grants or
// revokes permissions per user within what the role may hold (seed 003's
// "允许查看队列监控": the admin decides what supervisors see). Every API
// route names the permission it needs and the server checks it;
// administrators hold them all.
type Permission string

// The permissions.
const (
	// PermDesk: the agent workbench: one's own state, calls and logs.
	PermDesk Permission = "desk"
	// PermDeskOutbound: outbound calls from the workbench.
	PermDeskOutbound Permission = "desk.outbound"
	// PermQueueMonitor: the queue monitor, waiting calls and services in
	// progress, every agent's calls in the live event stream.
	PermQueueMonitor Permission = "queue.monitor"
	// PermQueueControl: stop, assign, tear down and transfer services.
	PermQueueControl Permission = "queue.control"
	// PermAgentsMonitor: listen to, whisper to and barge into services.
	PermAgentsMonitor Permission = "agents.monitor"
	// PermAgentsControl: force an agent's logout, set an agent's state.
	PermAgentsControl Permission = "agents.control"
	// PermWallboard: the wallboard.
	PermWallboard Permission = "wallboard"
	// PermLogsAll: everyone's status and service logs and the call log.
	PermLogsAll Permission = "logs.all"
	// PermRecordingsAll: everyone's recordings (agents hear their own).
	PermRecordingsAll Permission = "recordings.all"
	// PermReports: reports.
	PermReports Permission = "reports"
	// PermCustomersImport: import and export customer records in bulk.
	PermCustomersImport Permission = "customers.import"
	// PermCustomersSettings: customer categories and custom fields.
	PermCustomersSettings Permission = "customers.settings"
	// PermFax: the fax inbox and outbox, sending faxes and fax jobs.
	PermFax Permission = "fax"
	// PermSMS: send SMS, see the modem's state, the outbox, the inbox and
	// the templates.
	PermSMS Permission = "sms"
	// PermCCRead: read the call-centre configuration and prompts.
	PermCCRead Permission = "cc.read"
	// PermCCWrite: change the call-centre configuration and prompts.
	PermCCWrite Permission = "cc.write"
	// PermPBX: extensions, trunks and routes.
	PermPBX Permission = "pbx"
	// PermUsers: users and their permissions.
	PermUsers Permission = "users"
	// PermSystem: firmware, backups, installer settings, the HTTPS
	// certificate, the simulated lines; the outside interfaces' settings
	// (modem, SMTP server, webhooks, outside database) and API tokens.
	PermSystem Permission = "system"
)

// PermissionInfo describes a permission: which roles other than admin may
// hold it and which have it by default.
type PermissionInfo struct {
	Name Permission
	// Roles may be granted the permission (administrators always hold it).
	Roles []string
	// Default lists the roles that hold it unless revoked.
	Default []string
	// Implied by: holding this other permission gives this one too
	// (changing what one cannot see makes no sense).
	ImpliedBy Permission
}

var (
	agentSup = []string{RoleSupervisor, RoleAgent}
	supOnly  = []string{RoleSupervisor}
)

// Permissions is the fixed list, in the order the users page shows it.
var Permissions = []PermissionInfo{
	{PermDesk, agentSup, agentSup, ""},
	{PermDeskOutbound, agentSup, agentSup, ""},
	{PermQueueMonitor, agentSup, supOnly, PermQueueControl},
	{PermQueueControl, supOnly, supOnly, ""},
	{PermAgentsMonitor, supOnly, supOnly, ""},
	{PermAgentsControl, supOnly, supOnly, ""},
	{PermWallboard, agentSup, supOnly, ""},
	{PermLogsAll, supOnly, supOnly, ""},
	{PermRecordingsAll, supOnly, supOnly, ""},
	{PermReports, supOnly, supOnly, ""},
	{PermCustomersImport, supOnly, supOnly, ""},
	{PermCustomersSettings, supOnly, nil, ""},
	{PermFax, supOnly, supOnly, ""},
	{PermSMS, agentSup, supOnly, ""},
	{PermCCRead, supOnly, supOnly, PermCCWrite},
	{PermCCWrite, supOnly, nil, ""},
	{PermPBX, nil, nil, ""},
	{PermUsers, nil, nil, ""},
	{PermSystem, nil, nil, ""},
}

func permInfo(p Permission) (PermissionInfo, bool) {
	i := slices.IndexFunc(Permissions, func(pi PermissionInfo) bool { return pi.Name == p })
	if i < 0 {
		return PermissionInfo{}, false
	}
	return Permissions[i], true
}

// Can reports whether u holds p: an administrator always; others by their
// role's default unless the user's overrides say otherwise, and never
// beyond what the role may hold.
func (u User) Can(p Permission) bool {
	if u.Role == RoleAdmin {
		return true
	}
	pi, ok := permInfo(p)
	if !ok || !slices.Contains(pi.Roles, u.Role) {
		return false
	}
	if pi.ImpliedBy != "" && u.Can(pi.ImpliedBy) {
		return true
	}
	if v, set := u.Permissions[string(p)]; set {
		return v
	}
	return slices.Contains(pi.Default, u.Role)
}

// Effective lists the permissions u holds, in the order of Permissions.
func (u User) Effective() []Permission {
	out := []Permission{}
	for _, pi := range Permissions {
		if u.Can(pi.Name) {
			out = append(out, pi.Name)
		}
	}
	return out
}

// overridesFor turns the set a user should hold with role into the
// overrides to store: only the differences from the role's defaults, so a
// permission added by a later firmware takes its default. It refuses
// unknown names and permissions the role may not hold.
func overridesFor(role string, want []string) (map[string]bool, *failure) {
	if role == RoleAdmin {
		return nil, nil // administrators hold everything; nothing to store
	}
	set := map[Permission]bool{}
	for _, name := range want {
		pi, ok := permInfo(Permission(name))
		if !ok {
			return nil, fail(http.StatusBadRequest, "err.permission.unknown", "permissions", name)
		}
		if !slices.Contains(pi.Roles, role) {
			return nil, fail(http.StatusBadRequest, "err.permission.role", "permissions",
				msg{key: "perm." + name}, msg{key: "role." + role})
		}
		set[pi.Name] = true
	}
	var out map[string]bool
	for _, pi := range Permissions {
		if !slices.Contains(pi.Roles, role) {
			continue
		}
		def := slices.Contains(pi.Default, role)
		if set[pi.Name] != def {
			if out == nil {
				out = map[string]bool{}
			}
			out[string(pi.Name)] = set[pi.Name]
		}
	}
	return out, nil
}

// need lets through only users who hold p; others get 403 naming the
// permission (the API) or the error page.
func (s *Server) need(p Permission) gin.HandlerFunc {
	return func(c *gin.Context) {
		if u, ok := userOf(c); ok && u.Can(p) {
			return
		}
		f := fail(http.StatusForbidden, "err.permission", "", msg{key: "perm." + string(p)})
		f.reason = string(p)
		s.failWith(c, f)
		c.Abort()
	}
}

// permissionView is one permission as GET /api/v1/permissions lists it.
type permissionView struct {
	Name    Permission `json:"name"`
	Label   string     `json:"label"`
	Hint    string     `json:"hint"`
	Roles   []string   `json:"roles"`
	Default []string   `json:"default"`
}

// apiPermissions lists the permissions with their labels in the request's
// language, the roles that may hold each and those that do by default.
func (s *Server) apiPermissions(c *gin.Context) {
	lang := langOf(c)
	out := make([]permissionView, 0, len(Permissions))
	for _, pi := range Permissions {
		out = append(out, permissionView{Name: pi.Name, Label: s.cat.T(lang, "perm."+string(pi.Name)),
			Hint: s.cat.T(lang, "perm.hint."+string(pi.Name)), Roles: append([]string{RoleAdmin}, pi.Roles...),
			Default: append([]string{RoleAdmin}, pi.Default...)})
	}
	c.JSON(http.StatusOK, gin.H{"permissions": out})
}
