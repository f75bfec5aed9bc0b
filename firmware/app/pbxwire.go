package app

import (
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"callbox/telephony/line"
	"callbox/telephony/pbxconf"
	"callbox/telephony/sip"
	callswitch "callbox/telephony/switch"
	"callbox/telephony/switch/dialplan"
)

// switchConfig is the part of the stored PBX configuration the switch
// runs on, in its own terms (telephony/switch takes plain values).
type switchConfig struct {
	plan    dialplan.Config
	exts    []callswitch.Extension
	inbound map[string]string
	// dids maps each SIP trunk's dialled numbers to extensions.
	dids map[string]map[string]string
	// fxo holds each FXO port's channel settings by port name.
	fxo map[string]line.FXOConfig
	// secrets are the SIP extensions' digest passwords by number.
	secrets map[string]sip.Extension
	trunks  []sip.TrunkConfig
	// nat names the SIP extensions and trunks whose media may come
	// through NAT.
	nat natPeers
}

// natPeers are the SIP extensions and trunks (by number and name) whose
// RTP the box takes from their signalling IP, any port, latched once
// (rtpstream's Config.NAT), rather than only from their SDP's address.
type natPeers struct{ exts, trunks map[string]bool }

// allows reports whether the leg of extension ext or trunk trunk may
// send its media through NAT.
func (n natPeers) allows(ext, trunk string) bool {
	if trunk != "" {
		return n.trunks[trunk]
	}
	return n.exts[ext]
}

// fxsName and fxoName are the board's port names for pbxconf's numbers
// (fxs1 = 1): the names the switch knows channels and trunks by.
func fxsName(port int) string { return "fxs" + strconv.Itoa(port) }
func fxoName(port int) string { return "fxo" + strconv.Itoa(port) }

// adaptPBX turns a validated pbxconf configuration into the switch's,
// the SIP endpoint's and the FXO channels' settings. country is the
// board's tone plan.
func adaptPBX(c pbxconf.Config, country string) switchConfig {
	sc := switchConfig{
		inbound: map[string]string{},
		dids:    map[string]map[string]string{},
		fxo:     map[string]line.FXOConfig{},
		secrets: map[string]sip.Extension{},
		nat:     natPeers{exts: map[string]bool{}, trunks: map[string]bool{}},
	}
	// Route trunks name pbxconf trunks; the switch knows an FXO trunk by
	// its port's channel name and a SIP trunk by its own name.
	trunkName := map[string]string{}
	for _, t := range c.Trunks {
		switch t.Kind {
		case pbxconf.KindFXO:
			name := fxoName(t.Port)
			trunkName[t.Name] = name
			if t.Default != "" {
				sc.inbound[name] = t.Default
			}
			fc := line.FXOConfig{Name: name, Country: country, AnswerAfterRings: t.Rings}
			// The exchange's FSK modem follows the trunk's caller ID scheme
			// (DTMF caller ID is always listened for); "", "none" and
			// "dtmf" keep the port's.
			fc.CallerIDModem = callerIDModem(t.CallerID)
			sc.fxo[name] = fc
		case pbxconf.KindSIP:
			trunkName[t.Name] = t.Name
			if t.Default != "" {
				sc.inbound[t.Name] = t.Default
			}
			if len(t.DIDs) > 0 {
				sc.dids[t.Name] = maps.Clone(t.DIDs)
			}
			if t.NAT {
				sc.nat.trunks[t.Name] = true
			}
			port := t.Port
			if port == 0 {
				port = 5060
			}
			sc.trunks = append(sc.trunks, sip.TrunkConfig{
				Name:      t.Name,
				Proxy:     net.JoinHostPort(t.Host, strconv.Itoa(port)),
				Transport: strings.ToUpper(t.Transport),
				Username:  t.Username,
				AuthUser:  t.AuthUser,
				Password:  t.Secret,
				Register:  t.Register,
			})
		}
	}
	for _, e := range c.Extensions {
		sc.plan.Extensions = append(sc.plan.Extensions, e.Number)
		x := callswitch.Extension{
			Number:          e.Number,
			Name:            e.Name,
			CallerIDNumber:  e.CallerIDNumber,
			CallWaiting:     true,
			DND:             e.DND,
			ForwardAll:      e.Forward.Always,
			ForwardBusy:     e.Forward.Busy,
			ForwardNoAnswer: e.Forward.NoAnswer,
		}
		if e.CallerIDName != "" {
			x.Name = e.CallerIDName
		}
		if e.Forward.NoAnswer != "" {
			s := e.Forward.NoAnswerS
			if s == 0 {
				s = pbxconf.DefaultNoAnswerS
			}
			x.RingTimeout = time.Duration(s) * time.Second
		}
		switch e.Kind {
		case pbxconf.KindFXS:
			x.Port = fxsName(e.Port)
		case pbxconf.KindSIP:
			sc.secrets[e.Number] = sip.Extension{Number: e.Number, Password: e.Secret}
			if e.NAT {
				sc.nat.exts[e.Number] = true
			}
		}
		sc.exts = append(sc.exts, x)
	}
	for _, r := range c.Routes {
		dr := dialplan.Route{
			Name:             r.Name,
			Patterns:         r.Patterns,
			Strip:            r.Strip,
			Prepend:          r.Prepend,
			CallerID:         r.CallerID,
			CallerIDOverride: r.CallerIDOverride,
			Callers:          r.Allowed,
			Blocked:          r.Blocked,
		}
		for _, t := range r.Trunks {
			if n, ok := trunkName[t]; ok {
				dr.Trunks = append(dr.Trunks, n)
			}
		}
		sc.plan.Routes = append(sc.plan.Routes, dr)
	}
	// pbxconf's default lists are dialplan's, and both read an empty list
	// as none (nil, from a configuration built in code, is the defaults):
	// the lists pass as they are, copied so the plan owns them.
	sc.plan.Emergency = slices.Clone(c.Emergency)
	sc.plan.Blocked = slices.Clone(c.Blocked)
	return sc
}

// String summarises the adapted configuration for the log.
func (sc switchConfig) String() string {
	return fmt.Sprintf("%d extensions, %d routes, %d sip trunks, %d fxo trunks",
		len(sc.exts), len(sc.plan.Routes), len(sc.trunks), len(sc.fxo))
}
