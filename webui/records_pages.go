package webui

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"callbox/telephony/crm"
	"callbox/telephony/crm/kb"
	"callbox/telephony/crm/workorder"
)

// The records' pages: plain server-rendered forms in the admin's layout,
// usable without JavaScript (the desks will restyle them and link them
// into the screen-pop):
//
//	/customers, /customers/new, /customers/:id (the card), /customers/import,
//	/customers/settings (administrators), /kb, /kb/:id, /kb/new,
//	/workorders, /workorders/new, /workorders/:id
func (s *Server) recordsPages(e *gin.Engine) {
	g := e.Group("", s.requireUser(false), s.needRecords)
	g.GET("/customers", s.pageCustomers)
	g.POST("/customers", s.postCustomer)
	g.GET("/customers/:id", s.pageCustomer)
	g.POST("/customers/:id", s.postCustomer)
	g.POST("/customers/:id/delete", s.postCustomerDelete)
	g.POST("/customers/:id/comms", s.postComm)
	g.GET("/customers/import", s.need(PermCustomersImport), s.pageImport)
	g.POST("/customers/import", s.need(PermCustomersImport), s.postImport)
	g.GET("/customers/settings", s.need(PermCustomersSettings), s.pageCustomerSettings)
	g.POST("/customers/settings", s.need(PermCustomersSettings), s.postCustomerSettings)
	g.GET("/kb", s.pageKB)
	g.GET("/kb/:id", s.pageArticle)
	g.POST("/kb", s.postArticle)
	g.POST("/kb/:id", s.postArticle)
	g.POST("/kb/categories", s.postKBCategory)
	g.GET("/workorders", s.pageOrders)
	g.GET("/workorders/new", s.pageOrderNew)
	g.POST("/workorders", s.postOrder)
	g.GET("/workorders/:id", s.pageOrder)
	g.POST("/workorders/:id/steps/:step", s.postOrderStep)
	g.POST("/workorders/:id/assign", s.postOrderAssign)
	g.POST("/workorders/:id/ack", s.postOrderAck)
	g.POST("/notices/read", s.postNoticesRead)
}

// HasRecords reports whether the menu links to the records' pages.
func (p *pageData) HasRecords() bool { return p.s.cfg.Records != nil && p.User != nil }

// Pending is the number on the banner of every page of a user with work
// waiting: open orders assigned to them or their groups, unread notices.
// A failure to count shows no banner rather than no page.
func (p *pageData) Pending() int {
	if !p.HasRecords() {
		return 0
	}
	n, err := p.s.cfg.Records.Orders.PendingFor(p.User.Login)
	if err != nil {
		p.s.log.Error("webui: pending work orders not counted", "err", err)
		return 0
	}
	return n.Total()
}

// IsSupervisor reports whether the viewer is a supervisor or an administrator.
func (p *pageData) IsSupervisor() bool {
	return p.User != nil && (p.User.Role == RoleAdmin || p.User.Role == RoleSupervisor)
}

// renderRecords renders a records page, with the error of f if any.
func (s *Server) renderRecords(c *gin.Context, name string, f *failure, d gin.H) {
	status := http.StatusOK
	if f != nil {
		if f.status >= 500 || f.status == http.StatusNotFound || f.status == http.StatusForbidden {
			s.failWith(c, f)
			return
		}
		status, d["Error"], d["Field"] = f.status, s.failText(c, f), f.field
	}
	if k := c.Query("msg"); k != "" && d["Error"] == nil {
		var args []any
		if k == "opened" {
			args = append(args, c.Query("opened"))
		}
		d["Notice"] = s.cat.T(langOf(c), "records.msg."+k, args...)
	}
	s.render(c, status, name, d)
}

// redirectMsg is the answer to a form that worked.
func redirectMsg(c *gin.Context, path, msg string) {
	c.Redirect(http.StatusSeeOther, path+"?msg="+url.QueryEscape(msg))
}

// customerForm reads the customer form.
func customerForm(c *gin.Context) crm.Customer {
	in := crm.Customer{
		Category: atoiDefault(c.PostForm("category"), 0), Name: c.PostForm("name"), Company: c.PostForm("company"),
		Address: c.PostForm("address"), Region: c.PostForm("region"), Notes: c.PostForm("notes"),
		Private: c.PostForm("private") != "", Version: atoiDefault(c.PostForm("version"), 0),
	}
	for line := range strings.SplitSeq(c.PostForm("numbers"), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			in.Phones = append(in.Phones, crm.Phone{Number: line})
		}
	}
	for k, v := range c.Request.PostForm {
		if key, ok := strings.CutPrefix(k, "field_"); ok && len(v) > 0 {
			if in.Fields == nil {
				in.Fields = map[string]string{}
			}
			in.Fields[key] = v[0]
		}
	}
	return in
}

// numbersText is a customer's numbers one a line, as the form takes them.
func numbersText(c crm.Customer) string {
	var b strings.Builder
	for _, p := range c.Phones {
		b.WriteString(crm.Number{Digits: p.Number, Ext: p.Ext}.String())
		b.WriteByte('\n')
	}
	return b.String()
}

func (s *Server) customerMeta(d gin.H) *failure {
	dir := s.rec().Customers
	cats, err := dir.Categories()
	if err != nil {
		return recordsFailure(err)
	}
	fields, err := dir.Fields()
	if err != nil {
		return recordsFailure(err)
	}
	names := map[uint64]string{}
	for _, c := range cats {
		names[c.ID] = c.Name
	}
	d["Categories"], d["Fields"], d["CategoryName"] = cats, fields, names
	return nil
}

func (s *Server) pageCustomers(c *gin.Context) {
	s.renderCustomers(c, nil, crm.Customer{})
}

func (s *Server) renderCustomers(c *gin.Context, f *failure, form crm.Customer) {
	d := gin.H{"Q": c.Query("q"), "Form": form, "FormNumbers": numbersText(form)}
	if ff := s.customerMeta(d); ff != nil {
		s.failWith(c, ff)
		return
	}
	a := actorOf(c)
	if q := c.Query("q"); q != "" {
		t0 := time.Now()
		res, err := s.rec().Customers.Search(a, q, 50)
		if err != nil {
			s.failWith(c, recordsFailure(err))
			return
		}
		d["Customers"], d["Truncated"], d["Took"] = res.Customers, res.Truncated, time.Since(t0).Round(time.Microsecond).String()
	} else {
		offset := int(atoiDefault(c.Query("offset"), 0))
		list, total, err := s.rec().Customers.List(a, offset, 50)
		if err != nil {
			s.failWith(c, recordsFailure(err))
			return
		}
		d["Customers"], d["Total"] = list, total
		if offset+50 < total {
			d["Next"] = offset + 50
		}
	}
	s.renderRecords(c, "customers", f, d)
}

// postCustomer creates (POST /customers) or saves (POST /customers/:id).
func (s *Server) postCustomer(c *gin.Context) {
	in := customerForm(c)
	dir := s.rec().Customers
	if c.Param("id") == "" {
		out, err := dir.Create(actorOf(c), in)
		if err != nil {
			s.renderCustomers(c, recordsFailure(err), in)
			return
		}
		redirectMsg(c, fmt.Sprintf("/customers/%d", out.ID), "saved")
		return
	}
	id, ok := s.idParam(c, "id")
	if !ok {
		return
	}
	in.ID = id
	if _, err := dir.Update(actorOf(c), in); err != nil {
		s.renderCard(c, id, recordsFailure(err), &in)
		return
	}
	redirectMsg(c, fmt.Sprintf("/customers/%d", id), "saved")
}

func (s *Server) postCustomerDelete(c *gin.Context) {
	id, ok := s.idParam(c, "id")
	if !ok {
		return
	}
	if err := s.rec().Customers.Delete(actorOf(c), id); err != nil {
		s.renderCard(c, id, recordsFailure(err), nil)
		return
	}
	redirectMsg(c, "/customers", "deleted")
}

func (s *Server) pageCustomer(c *gin.Context) {
	if id, ok := s.idParam(c, "id"); ok {
		s.renderCard(c, id, nil, nil)
	}
}

// renderCard shows the customer card; form, when set, is a refused edit
// to show again.
func (s *Server) renderCard(c *gin.Context, id uint64, f *failure, form *crm.Customer) {
	card, err := s.rec().Customers.Card(actorOf(c), id)
	if err != nil {
		s.failWith(c, recordsFailure(err))
		return
	}
	d := gin.H{"Card": card, "Form": card.Customer}
	if form != nil {
		d["Form"] = *form
	}
	d["FormNumbers"] = numbersText(d["Form"].(crm.Customer))
	if ff := s.customerMeta(d); ff != nil {
		s.failWith(c, ff)
		return
	}
	types, err := s.rec().Customers.CommTypes()
	if err != nil {
		s.failWith(c, recordsFailure(err))
		return
	}
	typeName := map[uint64]string{}
	for _, t := range types {
		typeName[t.ID] = t.Name
	}
	d["CommTypes"], d["CommTypeName"] = types, typeName
	d["CanSMS"] = s.canSMS(c)
	s.renderRecords(c, "customer", f, d)
}

func (s *Server) postComm(c *gin.Context) {
	id, ok := s.idParam(c, "id")
	if !ok {
		return
	}
	in := crm.Comm{Customer: id, Type: atoiDefault(c.PostForm("type"), 0), Text: c.PostForm("text"),
		Call: strings.TrimSpace(c.PostForm("call")), WorkOrder: atoiDefault(c.PostForm("work_order"), 0)}
	if _, err := s.rec().Customers.AddComm(actorOf(c), in); err != nil {
		s.renderCard(c, id, recordsFailure(err), nil)
		return
	}
	redirectMsg(c, fmt.Sprintf("/customers/%d", id), "comm_saved")
}

// importTargets are the choices of the mapping step.
func (s *Server) importTargets() ([]string, error) {
	fields, err := s.rec().Customers.Fields()
	t := []string{"", crm.ColName, crm.ColNumbers, crm.ColCompany, crm.ColAddress, crm.ColRegion, crm.ColNotes, crm.ColCategory}
	for _, f := range fields {
		t = append(t, crm.ColFieldPfx+f.Key)
	}
	return t, err
}

func (s *Server) pageImport(c *gin.Context) {
	s.renderImport(c, nil, gin.H{})
}

func (s *Server) renderImport(c *gin.Context, f *failure, d gin.H) {
	if ff := s.customerMeta(d); ff != nil {
		s.failWith(c, ff)
		return
	}
	targets, err := s.importTargets()
	if err != nil {
		s.failWith(c, recordsFailure(err))
		return
	}
	d["Targets"], d["DupPolicies"] = targets, []crm.DupPolicy{crm.DupSkip, crm.DupMerge, crm.DupKeep}
	s.renderRecords(c, "customer_import", f, d)
}

// postImport is each step of the import page: an upload (multipart), then
// the mapping with "dry_run" or "commit".
func (s *Server) postImport(c *gin.Context) {
	if strings.HasPrefix(c.ContentType(), "multipart/form-data") {
		data, f := readImportFile(c)
		if f != nil {
			s.renderImport(c, f, gin.H{})
			return
		}
		p, f := s.preview(c, data)
		if f != nil {
			s.renderImport(c, f, gin.H{})
			return
		}
		s.renderImport(c, nil, gin.H{"Preview": p, "Opts": crm.ImportOptions{Columns: p.Columns, Header: true, Duplicates: crm.DupSkip}})
		return
	}
	up, ok := s.imports.get(c.PostForm("id"), actorOf(c).Login, s.now())
	if !ok {
		s.renderImport(c, fail(http.StatusNotFound, "err.import.expired", ""), gin.H{})
		return
	}
	p, f := s.readPreview(up)
	if f != nil {
		s.renderImport(c, f, gin.H{})
		return
	}
	opts := crm.ImportOptions{Header: c.PostForm("header") != "", Category: atoiDefault(c.PostForm("category"), 0),
		Duplicates: crm.DupPolicy(c.PostForm("duplicates")), SkipBad: c.PostForm("skip_bad") != ""}
	for i := range p.Header {
		opts.Columns = append(opts.Columns, c.PostForm("col"+strconv.Itoa(i)))
	}
	dry := c.PostForm("commit") == ""
	rep, f := s.runImport(c, p.ID, opts, dry)
	d := gin.H{"Preview": p, "Opts": opts, "Report": rep}
	if f == nil && !dry {
		d = gin.H{"Report": rep}
	}
	s.renderImport(c, f, d)
}

func (s *Server) pageCustomerSettings(c *gin.Context) {
	s.renderCustomerSettings(c, nil)
}

func (s *Server) renderCustomerSettings(c *gin.Context, f *failure) {
	d := gin.H{"Settings": s.rec().Customers.Settings()}
	if ff := s.customerMeta(d); ff != nil {
		s.failWith(c, ff)
		return
	}
	types, err := s.rec().Customers.CommTypes()
	if err != nil {
		s.failWith(c, recordsFailure(err))
		return
	}
	d["CommTypes"] = types
	s.renderRecords(c, "customer_settings", f, d)
}

// postCustomerSettings is every form of the settings page, told apart by
// its "form" field.
func (s *Server) postCustomerSettings(c *gin.Context) {
	dir, a := s.rec().Customers, actorOf(c)
	var err error
	switch c.PostForm("form") {
	case "category":
		_, err = dir.SaveCategory(a, crm.Category{ID: atoiDefault(c.PostForm("id"), 0), Name: c.PostForm("name")})
	case "category_delete":
		err = dir.DeleteCategory(a, atoiDefault(c.PostForm("id"), 0))
	case "field":
		var choices []string
		for ch := range strings.SplitSeq(c.PostForm("choices"), ",") {
			if ch = strings.TrimSpace(ch); ch != "" {
				choices = append(choices, ch)
			}
		}
		_, err = dir.SaveField(a, crm.FieldDef{Key: strings.TrimSpace(c.PostForm("key")), Label: c.PostForm("label"),
			Type: crm.FieldType(c.PostForm("type")), Choices: choices, Required: c.PostForm("required") != "",
			Search: c.PostForm("search") != ""})
	case "field_delete":
		err = dir.DeleteField(a, c.PostForm("key"))
	case "comm_type":
		_, err = dir.SaveCommType(a, crm.CommType{ID: atoiDefault(c.PostForm("id"), 0), Name: c.PostForm("name"),
			Disabled: c.PostForm("disabled") != ""})
	case "comm_type_delete":
		err = dir.DeleteCommType(a, atoiDefault(c.PostForm("id"), 0))
	case "settings":
		_, err = dir.SaveSettings(a, crm.Settings{LocalArea: strings.TrimSpace(c.PostForm("local_area"))})
	default:
		err = crm.Invalid("form", "form", "unknown form")
	}
	if err != nil {
		s.renderCustomerSettings(c, recordsFailure(err))
		return
	}
	redirectMsg(c, "/customers/settings", "saved")
}

func (s *Server) pageKB(c *gin.Context) {
	s.renderKB(c, nil, kb.Article{})
}

func (s *Server) renderKB(c *gin.Context, f *failure, form kb.Article) {
	base := s.rec().KB
	cats, err := base.Categories()
	if err != nil {
		s.failWith(c, recordsFailure(err))
		return
	}
	d := gin.H{"Categories": cats, "Q": c.Query("q"), "Form": form}
	if q := c.Query("q"); q != "" {
		res, err := base.Search(q, 30)
		if err != nil {
			s.failWith(c, recordsFailure(err))
			return
		}
		d["Results"] = res
	} else {
		cat := atoiDefault(c.Query("category"), 0)
		list, err := base.List(cat)
		if err != nil {
			s.failWith(c, recordsFailure(err))
			return
		}
		d["Articles"], d["Category"] = list, cat
	}
	s.renderRecords(c, "kb", f, d)
}

func (s *Server) pageArticle(c *gin.Context) {
	if id, ok := s.idParam(c, "id"); ok {
		s.renderArticle(c, id, nil, nil)
	}
}

func (s *Server) renderArticle(c *gin.Context, id uint64, f *failure, form *kb.Article) {
	base := s.rec().KB
	art, err := base.Get(id)
	if err != nil {
		s.failWith(c, recordsFailure(err))
		return
	}
	vs, err := base.Versions(id)
	if err != nil {
		s.failWith(c, recordsFailure(err))
		return
	}
	cats, err := base.Categories()
	if err != nil {
		s.failWith(c, recordsFailure(err))
		return
	}
	shown := art
	if v := atoiDefault(c.Query("version"), 0); v != 0 {
		if i := slices.IndexFunc(vs, func(a kb.Article) bool { return a.Version == v }); i >= 0 {
			shown = vs[i]
		}
	}
	if form == nil {
		form = &art
	}
	slices.Reverse(vs)
	s.renderRecords(c, "kb_article", f, gin.H{"Article": art, "Shown": shown, "Blocks": kb.Blocks(shown.Body),
		"Versions": vs, "Categories": cats, "Form": *form})
}

func (s *Server) postArticle(c *gin.Context) {
	in := kb.Article{Category: atoiDefault(c.PostForm("category"), 0), Title: c.PostForm("title"), Body: c.PostForm("body")}
	version := atoiDefault(c.PostForm("version"), 0)
	if c.Param("id") != "" {
		id, ok := s.idParam(c, "id")
		if !ok {
			return
		}
		in.ID = id
		if c.PostForm("delete") != "" {
			if err := s.rec().KB.Delete(actorOf(c), id); err != nil {
				s.renderArticle(c, id, recordsFailure(err), nil)
				return
			}
			redirectMsg(c, "/kb", "deleted")
			return
		}
	}
	out, err := s.rec().KB.Save(actorOf(c), in, version)
	if err != nil {
		if in.ID != 0 {
			s.renderArticle(c, in.ID, recordsFailure(err), &in)
		} else {
			s.renderKB(c, recordsFailure(err), in)
		}
		return
	}
	redirectMsg(c, fmt.Sprintf("/kb/%d", out.ID), "saved")
}

func (s *Server) postKBCategory(c *gin.Context) {
	_, err := s.rec().KB.SaveCategory(actorOf(c), kb.Category{Name: c.PostForm("name"), Parent: atoiDefault(c.PostForm("parent"), 0)})
	if err != nil {
		s.renderKB(c, recordsFailure(err), kb.Article{})
		return
	}
	redirectMsg(c, "/kb", "saved")
}

// orderRow is an order in a list, with the names the page shows.
type orderRow struct {
	workorder.Order
	CategoryName, StateName string
	Overdue                 bool
}

// orderNames gives category paths ("故障报修 / 低压故障") and state names.
func (s *Server) orderNames() (cats map[uint64]string, states map[string]string, err error) {
	o := s.rec().Orders
	cs, err := o.Categories()
	if err != nil {
		return nil, nil, err
	}
	byID := map[uint64]workorder.Category{}
	for _, c := range cs {
		byID[c.ID] = c
	}
	cats = map[uint64]string{}
	for _, c := range cs {
		if p, ok := byID[c.Parent]; ok && c.Parent != 0 {
			cats[c.ID] = p.Name + " / " + c.Name
		} else {
			cats[c.ID] = c.Name
		}
	}
	states, err = o.StateNames()
	return cats, states, err
}

func (s *Server) orderRows(os []workorder.Order) ([]orderRow, error) {
	cats, states, err := s.orderNames()
	out := make([]orderRow, 0, len(os))
	now := s.now()
	for _, o := range os {
		out = append(out, orderRow{Order: o, CategoryName: cats[o.Category], StateName: states[o.Lifecycle+"/"+o.State],
			Overdue: o.Closed.IsZero() && !o.Due.IsZero() && now.After(o.Due)})
	}
	return out, err
}

func (s *Server) pageOrders(c *gin.Context) {
	o, a := s.rec().Orders, actorOf(c)
	d := gin.H{}
	for _, l := range []struct {
		key string
		f   workorder.Filter
	}{{"Mine", workorder.Filter{Mine: true}}, {"Open", workorder.Filter{Open: true, Limit: 100}}, {"Recent", workorder.Filter{Limit: 50}}} {
		os, err := o.List(a, l.f)
		if err != nil {
			s.failWith(c, recordsFailure(err))
			return
		}
		rows, err := s.orderRows(os)
		if err != nil {
			s.failWith(c, recordsFailure(err))
			return
		}
		d[l.key] = rows
	}
	ns, err := o.Notices(a.Login)
	if err != nil {
		s.failWith(c, recordsFailure(err))
		return
	}
	d["Notices"] = ns
	s.renderRecords(c, "workorders", nil, d)
}

func (s *Server) postNoticesRead(c *gin.Context) {
	if err := s.rec().Orders.MarkRead(actorOf(c).Login); err != nil {
		s.failWith(c, recordsFailure(err))
		return
	}
	redirectMsg(c, "/workorders", "read")
}

// categoryOption is a 小类 (or a 大类 without any) to open an order in.
type categoryOption struct {
	ID    uint64
	Group string // the 大类
	Name  string
}

func (s *Server) pageOrderNew(c *gin.Context) {
	in := workorder.NewOrder{Category: atoiDefault(c.Query("category"), 0), Customer: atoiDefault(c.Query("customer"), 0),
		Contact: c.Query("contact"), Phone: c.Query("phone")}
	if in.Customer != 0 && in.Contact == "" {
		if cu, err := s.rec().Customers.Get(actorOf(c), in.Customer); err == nil {
			in.Contact = cu.Name
			if len(cu.Phones) > 0 {
				in.Phone = cu.Phones[0].Number
			}
		}
	}
	s.renderOrderNew(c, nil, in)
}

func (s *Server) renderOrderNew(c *gin.Context, f *failure, in workorder.NewOrder) {
	o := s.rec().Orders
	cats, err := o.Categories()
	if err != nil {
		s.failWith(c, recordsFailure(err))
		return
	}
	byID := map[uint64]workorder.Category{}
	hasSub := map[uint64]bool{}
	for _, c := range cats {
		byID[c.ID] = c
		hasSub[c.Parent] = true
	}
	var opts []categoryOption
	for _, c := range cats {
		if c.Disabled || hasSub[c.ID] {
			continue
		}
		group := c.Name
		if c.Parent != 0 {
			group = byID[c.Parent].Name
		}
		opts = append(opts, categoryOption{ID: c.ID, Group: group, Name: c.Name})
	}
	groups, err := o.Groups()
	if err != nil {
		s.failWith(c, recordsFailure(err))
		return
	}
	d := gin.H{"Options": opts, "Groups": groups, "Form": in}
	if cat, ok := byID[in.Category]; ok {
		var fields []workorder.FieldDef
		descs := cat.Descriptions
		if p, ok := byID[cat.Parent]; ok && cat.Parent != 0 {
			fields = append(fields, p.Fields...)
			descs = append(slices.Clone(p.Descriptions), descs...)
		}
		d["Category"], d["Fields"], d["Descriptions"] = cat, append(fields, cat.Fields...), descs
	}
	s.renderRecords(c, "workorder_new", f, d)
}

// stepValues reads the fields of a form prefixed "v_".
func stepValues(c *gin.Context, prefix string) map[string]string {
	out := map[string]string{}
	for k, v := range c.Request.PostForm {
		if key, ok := strings.CutPrefix(k, prefix); ok && len(v) > 0 && strings.TrimSpace(v[0]) != "" {
			out[key] = v[0]
		}
	}
	return out
}

// formTime reads a datetime-local field (the box's local time).
func formTime(v string) (time.Time, error) {
	if strings.TrimSpace(v) == "" {
		return time.Time{}, nil
	}
	return time.ParseInLocation("2006-01-02T15:04", v, time.Local)
}

func (s *Server) postOrder(c *gin.Context) {
	c.Request.ParseForm()
	in := workorder.NewOrder{Category: atoiDefault(c.PostForm("category"), 0), Title: c.PostForm("title"),
		Description: c.PostForm("description"), Customer: atoiDefault(c.PostForm("customer"), 0),
		Contact: c.PostForm("contact"), Phone: c.PostForm("phone"), Fields: stepValues(c, "f_"),
		Assignee: strings.TrimSpace(c.PostForm("assignee")), Group: atoiDefault(c.PostForm("group"), 0)}
	due, err := formTime(c.PostForm("due"))
	if err != nil {
		s.renderOrderNew(c, fail(http.StatusBadRequest, "err.records.invalid", "due", "due", err.Error()), in)
		return
	}
	in.Due = due
	out, err := s.rec().Orders.Create(actorOf(c), in)
	if err != nil {
		s.renderOrderNew(c, recordsFailure(err), in)
		return
	}
	redirectMsg(c, fmt.Sprintf("/workorders/%d", out.ID), "created")
}

// trailRow is an audit entry with its step's name.
type trailRow struct {
	workorder.Audit
	StepName, FromName, ToName string
}

func (s *Server) pageOrder(c *gin.Context) {
	if id, ok := s.idParam(c, "id"); ok {
		s.renderOrder(c, id, nil, "")
	}
}

// renderOrder shows an order; failedStep names the step form whose
// submission f refused.
func (s *Server) renderOrder(c *gin.Context, id uint64, f *failure, failedStep string) {
	v, err := s.orderView(c, id)
	if err != nil {
		s.failWith(c, recordsFailure(err))
		return
	}
	rows, err := s.orderRows([]workorder.Order{v.Order})
	if err != nil {
		s.failWith(c, recordsFailure(err))
		return
	}
	var trail []trailRow
	for _, a := range v.Trail {
		t := trailRow{Audit: a}
		if st, ok := v.Lifecycle.Step(a.Step); ok {
			t.StepName = st.Name
		}
		if st, ok := v.Lifecycle.State(a.From); ok {
			t.FromName = st.Name
		}
		if st, ok := v.Lifecycle.State(a.To); ok {
			t.ToName = st.Name
		}
		trail = append(trail, t)
	}
	// What each step recorded, in the lifecycle's order, with labels.
	type recorded struct {
		Step   string
		Values [][2]string
	}
	var rec []recorded
	for _, st := range v.Lifecycle.Steps {
		vals, ok := v.Order.Steps[st.ID]
		if !ok {
			continue
		}
		r := recorded{Step: st.Name}
		for _, fd := range st.Fields {
			if val := vals[fd.Key]; val != "" {
				r.Values = append(r.Values, [2]string{fd.Label, val})
			}
		}
		rec = append(rec, r)
	}
	o := s.rec().Orders
	cats, err := o.Categories()
	if err != nil {
		s.failWith(c, recordsFailure(err))
		return
	}
	var fieldDefs []workorder.FieldDef
	for _, cat := range cats {
		if cat.ID == v.Order.Category {
			for _, p := range cats {
				if p.ID == cat.Parent && cat.Parent != 0 {
					fieldDefs = append(fieldDefs, p.Fields...)
				}
			}
			fieldDefs = append(fieldDefs, cat.Fields...)
		}
	}
	var fields [][2]string
	for _, fd := range fieldDefs {
		if val := v.Order.Fields[fd.Key]; val != "" {
			fields = append(fields, [2]string{fd.Label, val})
		}
	}
	groups, err := o.Groups()
	if err != nil {
		s.failWith(c, recordsFailure(err))
		return
	}
	a := actorOf(c)
	isAssignee := v.Order.Assignee == a.Login
	for _, g := range groups {
		if g.ID == v.Order.Group && slices.Contains(g.Members, a.Login) {
			isAssignee = true
		}
	}
	s.renderRecords(c, "workorder", f, gin.H{"V": v, "Row": rows[0], "Trail": trail, "Recorded": rec, "Fields": fields,
		"Groups": groups, "CanAck": isAssignee && v.Order.AckedBy == "" && v.Order.Closed.IsZero(),
		"CanAssign":  v.Order.Closed.IsZero() && (a.Role != RoleAgent || v.Order.Creator == a.Login || isAssignee),
		"FailedStep": failedStep, "Calls": s.orderCalls(v.Order.Calls), "CanDial": s.canDialOrders(c)})
}

// canDialOrders: the page offers calls from the order (the user is an
// agent who may call out, and the box dials them).
func (s *Server) canDialOrders(c *gin.Context) bool {
	u, ok := userOf(c)
	return ok && u.Can(PermDeskOutbound) && agentOf(u) != "" && s.rec().Dial != nil
}

func (s *Server) postOrderStep(c *gin.Context) {
	id, ok := s.idParam(c, "id")
	if !ok {
		return
	}
	c.Request.ParseForm()
	_, opened, err := s.rec().Orders.Take(actorOf(c), id, c.Param("step"), atoiDefault(c.PostForm("version"), 0), stepValues(c, "v_"))
	if err != nil {
		s.renderOrder(c, id, recordsFailure(err), c.Param("step"))
		return
	}
	if opened != 0 {
		c.Redirect(http.StatusSeeOther, fmt.Sprintf("/workorders/%d?msg=opened&opened=%d", id, opened))
		return
	}
	redirectMsg(c, fmt.Sprintf("/workorders/%d", id), "step")
}

func (s *Server) postOrderAssign(c *gin.Context) {
	id, ok := s.idParam(c, "id")
	if !ok {
		return
	}
	due, err := formTime(c.PostForm("due"))
	if err != nil {
		s.renderOrder(c, id, fail(http.StatusBadRequest, "err.records.invalid", "due", "due", err.Error()), "")
		return
	}
	if _, err := s.rec().Orders.Assign(actorOf(c), id, c.PostForm("assignee"), atoiDefault(c.PostForm("group"), 0), due); err != nil {
		s.renderOrder(c, id, recordsFailure(err), "")
		return
	}
	redirectMsg(c, fmt.Sprintf("/workorders/%d", id), "assigned")
}

func (s *Server) postOrderAck(c *gin.Context) {
	id, ok := s.idParam(c, "id")
	if !ok {
		return
	}
	if _, err := s.rec().Orders.Ack(actorOf(c), id); err != nil {
		s.renderOrder(c, id, recordsFailure(err), "")
		return
	}
	redirectMsg(c, fmt.Sprintf("/workorders/%d", id), "acked")
}
