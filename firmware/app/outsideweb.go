package app

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"callbox/firmware/export"
	"callbox/firmware/mail"
	"callbox/firmware/store"
	"callbox/firmware/webhook"
	"callbox/telephony/cc/ccevent"
	"callbox/telephony/sms"
	"callbox/webui"
)

// outsideWeb implements webui.Outside over the running outside interfaces.
type outsideWeb struct{ a *App }

var _ webui.Outside = outsideWeb{}

var errOutsideOff = errors.New("app: the outside interfaces are not running")

func (w outsideWeb) run() (*outsideRun, error) {
	o := w.a.outsideOf()
	if o == nil {
		return nil, errOutsideOff
	}
	return o, nil
}

// refused wraps a check's error for a 400 answer.
func refused(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w: %v", webui.ErrInvalid, err)
}

// decodeStrict reads a JSON object into v, refusing unknown fields.
func decodeStrict(body json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	return refused(dec.Decode(v))
}

// smsView, mailView and exportView are the settings as served: secrets
// replaced by whether one is set.
type smsView struct {
	smsSettings
	PINSet bool `json:"pin_set"`
}

type mailView struct {
	mail.Settings
	PasswordSet bool `json:"password_set"`
}

type exportView struct {
	export.Settings
	PasswordSet bool `json:"password_set"`
}

func (w outsideWeb) Settings(_ context.Context, part string) (any, error) {
	o, err := w.run()
	if err != nil {
		return nil, err
	}
	switch part {
	case "sms":
		var s smsSettings
		err := getSetting(o.db, settingSMS, &s)
		v := smsView{smsSettings: s, PINSet: s.PIN != ""}
		v.PIN = ""
		return v, err
	case "mail":
		var s mail.Settings
		err := getSetting(o.db, settingMail, &s)
		v := mailView{Settings: s, PasswordSet: s.Password != ""}
		v.Password = ""
		return v, err
	case "export":
		var s export.Settings
		err := getSetting(o.db, settingExport, &s)
		v := exportView{Settings: s, PasswordSet: s.Password != ""}
		v.Password = ""
		return v, err
	}
	return nil, webui.ErrNotFound
}

// keepSecret keeps the stored secret when an edit leaves it out; "clear"
// set to true empties it.
func keepSecret(body json.RawMessage, field string, stored string, edited *string) {
	var probe map[string]json.RawMessage
	_ = json.Unmarshal(body, &probe)
	if _, given := probe[field]; !given {
		*edited = stored
	}
}

func (w outsideWeb) SetSettings(ctx context.Context, part string, body json.RawMessage) (any, error) {
	o, err := w.run()
	if err != nil {
		return nil, err
	}
	switch part {
	case "sms":
		var old, s smsSettings
		_ = getSetting(o.db, settingSMS, &old)
		if err := decodeStrict(body, &s); err != nil {
			return nil, err
		}
		keepSecret(body, "pin", old.PIN, &s.PIN)
		if s.PIN != "" && (len(s.PIN) < 4 || len(s.PIN) > 8 || strings.Trim(s.PIN, "0123456789") != "") {
			return nil, refused(errors.New("sms: the PIN is 4-8 digits"))
		}
		if s.Port != "" && !strings.HasPrefix(s.Port, "/dev/") {
			return nil, refused(errors.New("sms: the port is a device path such as /dev/ttyUSB2"))
		}
		if err := putSetting(o.db, settingSMS, s); err != nil {
			return nil, err
		}
		o.sms.SetPort(smsPort(s))
	case "mail":
		var old, s mail.Settings
		_ = getSetting(o.db, settingMail, &old)
		if err := decodeStrict(body, &s); err != nil {
			return nil, err
		}
		keepSecret(body, "password", old.Password, &s.Password)
		if err := s.Check(); err != nil {
			return nil, refused(err)
		}
		if err := putSetting(o.db, settingMail, s); err != nil {
			return nil, err
		}
	case "export":
		var old, s export.Settings
		_ = getSetting(o.db, settingExport, &old)
		if err := decodeStrict(body, &s); err != nil {
			return nil, err
		}
		keepSecret(body, "password", old.Password, &s.Password)
		if s.Enabled {
			if err := s.Check(); err != nil {
				return nil, refused(err)
			}
		}
		if err := putSetting(o.db, settingExport, s); err != nil {
			return nil, err
		}
		o.push.SetSettings(s)
	default:
		return nil, webui.ErrNotFound
	}
	return w.Settings(ctx, part)
}

func (w outsideWeb) Status(_ context.Context, part string) (any, error) {
	o, err := w.run()
	if err != nil {
		return nil, err
	}
	switch part {
	case "sms":
		return o.sms.Status(), nil
	case "export":
		return o.push.Status(), nil
	case "webhooks":
		return o.hooks.Status(), nil
	}
	return nil, webui.ErrNotFound
}

// smsSend is a send request.
type smsSend struct {
	To       []string          `json:"to"`
	Text     string            `json:"text,omitempty"`
	Template string            `json:"template,omitempty"`
	Vars     map[string]string `json:"vars,omitempty"`
	At       time.Time         `json:"at,omitzero"`
	Customer string            `json:"customer,omitempty"`
}

// template is an SMS template: text with {name} placeholders.
type template struct {
	Name string `json:"name"`
	Text string `json:"text"`
}

var placeholder = regexp.MustCompile(`\{([a-z0-9_]+)\}`)

// render fills a template's placeholders; a missing variable is refused
// rather than sent as "{name}".
func (t template) render(vars map[string]string) (string, error) {
	var missing []string
	out := placeholder.ReplaceAllStringFunc(t.Text, func(m string) string {
		v, ok := vars[m[1:len(m)-1]]
		if !ok {
			missing = append(missing, m)
		}
		return v
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("sms: template %s needs %s", t.Name, strings.Join(missing, ", "))
	}
	return out, nil
}

func (w outsideWeb) SendSMS(_ context.Context, body json.RawMessage, by string) (any, error) {
	o, err := w.run()
	if err != nil {
		return nil, err
	}
	var req smsSend
	if err := decodeStrict(body, &req); err != nil {
		return nil, err
	}
	if len(req.To) == 0 || len(req.To) > 1000 {
		return nil, refused(errors.New("sms: 1-1000 numbers in to"))
	}
	text := req.Text
	if req.Template != "" {
		if text != "" {
			return nil, refused(errors.New("sms: text or template, not both"))
		}
		var t template
		err := o.db.View(func(tx *store.Tx) (err error) {
			t, err = getJSON[template](tx, store.SMSTemplates, []byte(req.Template))
			return err
		})
		if errors.Is(err, store.ErrNotFound) {
			return nil, refused(fmt.Errorf("sms: no template %q", req.Template))
		}
		if err != nil {
			return nil, err
		}
		if text, err = t.render(req.Vars); err != nil {
			return nil, refused(err)
		}
	}
	batch := ""
	if len(req.To) > 1 {
		b := make([]byte, 6)
		_, _ = rand.Read(b)
		batch = hex.EncodeToString(b)
	}
	reqs := make([]sms.Request, len(req.To))
	for i, to := range req.To {
		reqs[i] = sms.Request{To: strings.TrimSpace(to), Text: text, At: req.At, By: by, Batch: batch, Customer: req.Customer}
	}
	msgs, err := o.sms.Queue(reqs)
	if errors.Is(err, sms.ErrBadMessage) {
		return nil, refused(err)
	}
	if err != nil {
		return nil, err
	}
	return jsonObject{"queued": msgs}, nil
}

// jsonObject is an answer's JSON object.
type jsonObject = map[string]any

func (w outsideWeb) SMSMessages(_ context.Context, box string, limit int) (any, error) {
	o, err := w.run()
	if err != nil {
		return nil, err
	}
	r := store.SMSOut
	if box == "in" {
		r = store.SMSIn
	}
	list, err := latest(o.db, r, limit)
	return jsonObject{"messages": list}, err
}

func (w outsideWeb) SMSTemplates(context.Context) (any, error) {
	o, err := w.run()
	if err != nil {
		return nil, err
	}
	list, err := latest(o.db, store.SMSTemplates, 1000)
	slices.Reverse(list)
	return jsonObject{"templates": list}, err
}

var templateName = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)

func (w outsideWeb) PutSMSTemplate(_ context.Context, name string, body json.RawMessage) (any, error) {
	o, err := w.run()
	if err != nil {
		return nil, err
	}
	var t template
	if err := decodeStrict(body, &t); err != nil {
		return nil, err
	}
	if t.Name == "" {
		t.Name = name
	}
	switch {
	case t.Name != name || !templateName.MatchString(name):
		return nil, refused(errors.New("sms: a template's name is 1-64 of a-z 0-9 _ . - and matches its path"))
	case strings.TrimSpace(t.Text) == "":
		return nil, refused(errors.New("sms: a template needs text"))
	}
	if _, _, err := sms.Split(t.Text); err != nil {
		return nil, refused(err)
	}
	data, _ := json.Marshal(t)
	return t, o.db.Update(func(tx *store.Tx) error { return tx.Put(store.SMSTemplates, []byte(name), data) })
}

func (w outsideWeb) DeleteSMSTemplate(_ context.Context, name string) error {
	o, err := w.run()
	if err != nil {
		return err
	}
	if !templateName.MatchString(name) {
		return webui.ErrNotFound
	}
	return o.db.Update(func(tx *store.Tx) error { return tx.Delete(store.SMSTemplates, []byte(name)) })
}

func (w outsideWeb) TestMail(ctx context.Context, to string) error {
	err := w.a.SendMail(ctx, mail.Message{To: []string{to}, Subject: "callbox: test message 测试邮件",
		Text: "This test message shows that the box can send email.\n这封测试邮件说明本机可以发送邮件。\n"})
	if errors.Is(err, errOutsideOff) {
		return err
	}
	return refused(err) // the server's or the settings' refusal, for the admin to read
}

// webhookEdit is a subscriber as the API takes it.
type webhookEdit struct {
	URL     string         `json:"url"`
	Secret  string         `json:"secret,omitempty"`
	Types   []ccevent.Type `json:"types,omitempty"`
	Enabled *bool          `json:"enabled,omitempty"`
}

func viewWebhook(s webhook.Subscriber) webhook.Subscriber {
	s.Secret = ""
	return s
}

func (w outsideWeb) Webhooks(context.Context) (any, error) {
	o, err := w.run()
	if err != nil {
		return nil, err
	}
	subs, err := o.hooks.Subscribers()
	if subs == nil {
		subs = []webhook.Subscriber{} // [] rather than null for clients
	}
	for i := range subs {
		subs[i] = viewWebhook(subs[i])
	}
	return jsonObject{"webhooks": subs}, err
}

func (w outsideWeb) PutWebhook(_ context.Context, id string, body json.RawMessage) (any, error) {
	o, err := w.run()
	if err != nil {
		return nil, err
	}
	var e webhookEdit
	if err := decodeStrict(body, &e); err != nil {
		return nil, err
	}
	s, created, err := o.hooks.Put(id, e.URL, e.Secret, e.Types, e.Enabled)
	if err != nil {
		if errors.Is(err, webhook.ErrNoSubscriber) {
			return nil, fmt.Errorf("%w: %v", webui.ErrNotFound, err)
		}
		return nil, refused(err)
	}
	if !created {
		s = viewWebhook(s)
	}
	return s, nil
}

func (w outsideWeb) DeleteWebhook(_ context.Context, id string) error {
	o, err := w.run()
	if err != nil {
		return err
	}
	if err := o.hooks.Delete(id); errors.Is(err, webhook.ErrNoSubscriber) {
		return fmt.Errorf("%w: %v", webui.ErrNotFound, err)
	} else if err != nil {
		return err
	}
	return nil
}

func (w outsideWeb) Deliveries(_ context.Context, id string, limit int) (any, error) {
	o, err := w.run()
	if err != nil {
		return nil, err
	}
	d, err := o.hooks.Deliveries(id, limit)
	return jsonObject{"deliveries": d}, err
}
