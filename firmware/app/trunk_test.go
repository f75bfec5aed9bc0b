package app

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"callbox/telephony/pbxconf"
	"callbox/telephony/sip"
)

// A SIP trunk edited through the web API applies at once, without a
// restart: sipp as the provider's registrar (on 127.0.0.2) sees the trunk
// register with its first account, then, when the administrator gives
// the trunk a new account and secret, that registration removed and the
// new account register, each checked against the credentials the provider
// expects; deleting the trunk removes the new registration. Before, the
// API answered 200 and the box went on registering the old account.
func TestTrunkEditAppliesLive(t *testing.T) {
	needSipp(t)
	t.Parallel() // each test has its own daemon, ports and RTP range
	far := farUDP(t)
	accounts := filepath.Join(t.TempDir(), "accounts.csv")
	if err := os.WriteFile(accounts, []byte("SEQUENTIAL\ntrunkuser;old-secret-1\nnewuser;new-secret-2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	carrier := pbxconf.Trunk{Name: "carrier", Kind: pbxconf.KindSIP, Host: "127.0.0.2", Port: far,
		Transport: pbxconf.TransportUDP, Username: "trunkuser", Secret: "old-secret-1", Register: true}
	conf := testPBX()
	conf.Trunks = append(conf.Trunks, carrier)
	// The provider is up before the box registers; it takes two accounts
	// in turn (a registration and its removal each).
	provider := startSipp(t, "127.0.0.1:5060", far, "provider_register.xml", "-i", "127.0.0.2", "-m", "2", "-inf", accounts)
	a := bootTelephonyWith(t, 24200, conf)
	ep := a.telephony().ep
	registered := func(what string) {
		t.Helper()
		eventually(t, 10*time.Second, what, func() bool {
			ts := ep.Trunks()
			return len(ts) == 1 && ts[0].State == sip.TrunkRegistered
		})
	}
	registered("the first account registered")

	admin := newWebAdmin(t, a)
	carrier.Username, carrier.Secret = "newuser", "new-secret-2"
	admin.doJSON(http.MethodPut, "/api/v1/trunks/carrier", carrier, http.StatusOK)
	registered("the new account registered")
	admin.doJSON(http.MethodDelete, "/api/v1/trunks/carrier", nil, http.StatusNoContent)
	if err := provider.wait(); err != nil {
		t.Fatalf("provider: %v", err)
	}
	if ts := ep.Trunks(); len(ts) != 0 {
		t.Errorf("trunks after delete: %+v", ts)
	}
}
