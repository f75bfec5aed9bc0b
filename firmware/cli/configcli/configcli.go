// Package configcli implements the configuration commands of callboxctl:
//
//	callboxctl config export [--secrets] [--data DIR] [--socket PATH] [FILE|-]
//	callboxctl config import [--data DIR] [--socket PATH] FILE
//
// They read and write the box's configuration as one JSON document, which
// is also the backup format: the PBX configuration (extensions, trunks,
// routes and the dialling rules; telephony/pbxconf) with the call centre's
// (groups, agents, customer types, blacklist, inbound routes, calendars,
// bindings, caller IDs and the IVR flows; telephony/ccconf) under
// "call_centre" (Document). An import file may leave either part out; the
// stored one is then kept, and checked against the file's other part. When
// the daemon runs they go through its control socket, so the daemon checks
// the file against its board and puts it in force; when no daemon answers
// they open the store file in DIR directly. An import is validated
// completely before anything is written, and is written in one
// transaction: a refused file changes nothing. A SIP extension secret the
// file sets or changes must be strong; a weak one the store already holds
// is kept with a warning. Agents' PINs are stored hashed; flows whose
// content changed are stored as new versions.
//
// An export shows every SIP secret as pbxconf.SecretMask unless --secrets
// asks for them (a backup that can rebuild the box needs them); importing
// the mask keeps the stored secret, so a masked export can be edited and
// imported again. An import prints what is valid but dangerous
// (pbxconf.Config.Warnings), such as an explicitly empty blocked list.
//
// The package also holds what the daemon shares with the commands: Load and
// Save on a store transaction (LoadCallCentre, SaveCallCentre and the flow
// versions for the call centre), ReadFile, and Live, the commands the
// daemon serves on its control socket and serial console.
package configcli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"callbox/firmware/cli"
	"callbox/firmware/control"
	"callbox/firmware/store"
	"callbox/telephony/ccconf"
	"callbox/telephony/ivr"
	"callbox/telephony/pbxconf"
)

// DBName is the store's file name in the data directory (as firmware/app
// opens it).
const DBName = "callbox.db"

const summary = "PBX and call-centre configuration: export [--secrets] [FILE|-], import FILE (JSON; daemon or store file)"

const usage = `usage: config export [--secrets] [--data DIR | --socket PATH] [FILE|-]
       config import [--data DIR | --socket PATH] FILE
Export writes the whole configuration as JSON to FILE (mode 0600) or
standard output: the PBX's (extensions, trunks, routes, emergency and
blocked numbers) and the call centre's under "call_centre" (groups, agents,
customer types, blacklist, inbound routes, calendars, bindings, caller IDs,
IVR flows), with every SIP secret shown as ` + pbxconf.SecretMask + ` unless
--secrets asks for them. Import replaces what FILE holds (either part may
be left out) after checking all of it; a masked secret keeps the one
stored. Through the running daemon when it answers on DIR's control
socket, otherwise on DIR's store file.
`

// liveUsage is the usage of the command the daemon serves.
const liveUsage = `usage: config export [--secrets]
       config import FILE
Export shows every SIP secret as ` + pbxconf.SecretMask + ` unless --secrets asks
for them; import FILE (a path on the box) keeps the stored secret for a
masked one.
`

// ErrNone means the store holds no PBX configuration yet (a store the
// daemon never booted on).
var ErrNone = errors.New("configcli: no pbx configuration stored yet")

// Load returns the configuration stored in tx; it wraps ErrNone when there
// is none.
func Load(tx *store.Tx) (pbxconf.Config, error) {
	doc, err := tx.PBXConfig()
	if errors.Is(err, store.ErrNotFound) {
		return pbxconf.Config{}, ErrNone
	}
	if err != nil {
		return pbxconf.Config{}, err
	}
	c, err := pbxconf.Parse(doc)
	if err != nil {
		return pbxconf.Config{}, fmt.Errorf("configcli: stored configuration: %w", err)
	}
	return c, nil
}

// Save validates c and replaces the stored configuration with it.
func Save(tx *store.Tx, c pbxconf.Config) error {
	if err := c.Validate(); err != nil {
		return err
	}
	doc, err := pbxconf.Marshal(c)
	if err != nil {
		return err
	}
	return tx.SetPBXConfig(doc)
}

// ReadFile reads a configuration file: the PBX part validated (a masked
// secret passes: only the store being replaced can say whether a secret
// stands behind it), the call centre's parsed (Import validates both
// against what they refer to).
func ReadFile(path string) (Document, error) {
	f, err := os.Open(path)
	if err != nil {
		return Document{}, fmt.Errorf("configcli: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, pbxconf.MaxDocument+ccconf.MaxDocument+1))
	if err != nil {
		return Document{}, fmt.Errorf("configcli: %s: %w", path, err)
	}
	d, err := ParseDocument(data)
	if err != nil {
		return Document{}, fmt.Errorf("configcli: %s: %w", path, err)
	}
	return d, nil
}

// Hooks let the daemon take part in an import.
type Hooks struct {
	// Check refuses PBX configurations this box cannot run (ports it
	// lacks); nil accepts.
	Check func(pbxconf.Config) error
	// Apply is given the call-centre configuration an import is about to
	// store, checked, before it is stored: the daemon puts it in force
	// (the ACD's Reconfigure, which refuses to remove an agent in a call).
	// An error refuses the import. Import then calls finish once, with
	// what it stored, or with nil when storing failed (the daemon puts
	// the previous configuration back). nil applies nothing.
	Apply func(ccconf.Config) (finish func(stored *Imported), err error)
}

// Imported is what an import stored.
type Imported struct {
	// Document is the file: a nil part was left as stored.
	Document
	// CallCentre is the call-centre configuration now stored (PINs
	// hashed), whether the file had one or not, with the flows it named.
	CallCentre ccconf.Config
	// NewFlows are the flow versions the import stored (flows whose
	// content changed, or new ones).
	NewFlows []*ivr.Flow
}

// Import reads the file at path, checks all of it (the PBX part, the call
// centre's against the PBX configuration that will be in force and the
// stored flows, or the stored call centre against a new PBX part) and
// stores both parts in one transaction, with the flow versions the file
// changes. On any error the store is unchanged.
func Import(db *store.DB, path string, h Hooks) (res Imported, err error) {
	d, err := ReadFile(path)
	if err != nil {
		return Imported{}, err
	}
	if d.PBX != nil && h.Check != nil {
		if err := h.Check(*d.PBX); err != nil {
			return Imported{}, fmt.Errorf("configcli: %s: %w", path, err)
		}
	}
	var cc ccconf.Config
	if d.CallCentre != nil {
		// Check and hash the PINs before the write transaction: hashing
		// takes a while and the transaction holds the store.
		cc = d.CallCentre.Clone()
		err = db.View(func(tx *store.Tx) error {
			stored, _, err := LoadCallCentre(tx)
			if err != nil {
				stored = ccconf.Default() // an unreadable one is replaced
			}
			cc.KeepPINs(&stored)
			return checkCallCentre(tx, cc, d.PBX)
		})
		if err != nil {
			return Imported{}, fmt.Errorf("configcli: %s: %w", path, err)
		}
		if err := cc.HashPINs(); err != nil {
			return Imported{}, fmt.Errorf("configcli: %s: %w", path, err)
		}
		if h.Apply != nil {
			finish, aerr := h.Apply(cc)
			if aerr != nil {
				return Imported{}, fmt.Errorf("configcli: %s: %w", path, aerr)
			}
			if finish != nil {
				defer func() {
					if err != nil {
						finish(nil) // not stored: what was in force goes back
					} else {
						finish(&res)
					}
				}()
			}
		}
	}
	res = Imported{Document: d}
	err = db.Update(func(tx *store.Tx) error {
		if d.PBX != nil {
			// Masked secrets keep the stored ones; new or changed SIP
			// secrets must be strong, while the stored ones keep working
			// (WeakSecrets warns). A stored configuration that cannot be
			// read is not held against the file that replaces it (its
			// masks then have nothing to keep, and are refused).
			stored, lerr := Load(tx)
			var prev *pbxconf.Config
			if lerr == nil {
				prev = &stored
				d.PBX.KeepSecrets(stored)
			}
			if err := d.PBX.Validate(); err != nil {
				return err
			}
			if lerr == nil || errors.Is(lerr, ErrNone) {
				if err := d.PBX.CheckNewSecrets(prev); err != nil {
					return err
				}
			}
		}
		if d.CallCentre == nil {
			// The stored call centre must still be valid with the new
			// PBX part.
			if d.PBX != nil {
				var before *pbxconf.Config
				if p, err := Load(tx); err == nil {
					before = &p
				}
				if err := CheckCallCentre(tx, before, d.PBX); err != nil {
					return err
				}
			}
			c, _, err := LoadCallCentre(tx)
			res.CallCentre = c
			if err != nil {
				return err
			}
		} else {
			// Again inside the transaction: the store may have moved
			// since the check above.
			if err := checkCallCentre(tx, cc, d.PBX); err != nil {
				return err
			}
			stored, err := LoadFlows(tx)
			if err != nil {
				return err
			}
			if res.NewFlows, err = SaveFlows(tx, stored, cc.Flows); err != nil {
				return err
			}
			if err := SaveCallCentre(tx, cc); err != nil {
				return err
			}
			res.CallCentre = cc
		}
		if d.PBX != nil {
			return Save(tx, *d.PBX)
		}
		return nil
	})
	if err != nil {
		return Imported{}, fmt.Errorf("configcli: %s: %w", path, err)
	}
	return res, nil
}

// checkCallCentre validates cc against the PBX configuration that will be
// in force (pbx, or the stored one when nil) and the stored flows.
func checkCallCentre(tx *store.Tx, cc ccconf.Config, pbx *pbxconf.Config) error {
	if pbx == nil {
		p, err := Load(tx)
		switch {
		case err == nil:
			pbx = &p
		case !errors.Is(err, ErrNone):
			return err
		}
	}
	flows, err := LoadFlows(tx)
	if err != nil {
		return err
	}
	return cc.Validate(ccconf.Context{PBX: pbx, Flows: flows})
}

// Summary is the one line an import prints about what it stored.
func (r Imported) Summary() string {
	var parts []string
	if p := r.PBX; p != nil {
		parts = append(parts, fmt.Sprintf("%d extensions, %d trunks, %d routes", len(p.Extensions), len(p.Trunks), len(p.Routes)))
	}
	if r.Document.CallCentre != nil {
		c := r.CallCentre
		parts = append(parts, fmt.Sprintf("call centre: %d groups, %d agents, %d inbound routes, %d flows (%d new versions)",
			len(c.Groups), len(c.Agents), len(c.InboundRoutes), len(c.Flows), len(r.NewFlows)))
	}
	return strings.Join(parts, "; ")
}

// WarnWeakSecrets writes a line to w for each SIP extension of c whose
// secret is weak: it keeps working, but should be replaced.
func WarnWeakSecrets(w io.Writer, c pbxconf.Config) {
	for _, fe := range c.WeakSecrets() {
		fmt.Fprintf(w, "config: warning: %s: secret: %s (it keeps working; set a strong one, the web admin can generate it)\n",
			fe.Object, fe.Reason)
	}
}

// printImported reports an applied import (what, and its Summary) and its
// warnings: the dangerous settings (pbxconf.Config.Warnings) and the weak
// secrets kept.
func printImported(w io.Writer, r Imported, what string) {
	fmt.Fprintf(w, "config: imported %s: %s\n", what, r.Summary())
	if r.PBX != nil {
		for _, warn := range r.PBX.Warnings() {
			fmt.Fprintf(w, "config: warning: %s\n", warn)
		}
		WarnWeakSecrets(w, *r.PBX)
	}
}

// parsePBX decodes and validates a document's PBX part, letting masked
// secrets (pbxconf.SecretMask) pass for Import to fill from the store.
func parsePBX(data []byte) (pbxconf.Config, error) {
	c, err := pbxconf.Decode(data)
	if err != nil {
		return pbxconf.Config{}, err
	}
	if err := validateMasked(c); err != nil {
		return pbxconf.Config{}, err
	}
	return c, nil
}

// validateMasked validates c, letting masked secrets pass.
func validateMasked(c pbxconf.Config) error {
	err := c.Validate()
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		var keep []error
		for _, e := range joined.Unwrap() {
			if !errors.Is(e, pbxconf.ErrMaskedSecret) {
				keep = append(keep, e)
			}
		}
		return errors.Join(keep...)
	}
	return err
}

// Export returns the stored configuration as a document: the PBX's and
// the call centre's, with the latest version of every flow; the SIP
// secrets masked unless secrets is set.
func Export(db *store.DB, secrets bool) ([]byte, error) {
	var d Document
	err := db.View(func(tx *store.Tx) error {
		p, err := Load(tx)
		if err != nil {
			return err
		}
		if !secrets {
			p = p.MaskSecrets()
		}
		c, err := ExportCallCentre(tx)
		d = Document{PBX: &p, CallCentre: &c}
		return err
	})
	if err != nil {
		return nil, err
	}
	return MarshalDocument(d)
}

// Daemon is what the daemon's config commands reach.
type Daemon struct {
	// DB returns the open store, or nil while none is open.
	DB func() *store.DB
	// Hooks check and apply what an import brings.
	Hooks Hooks
	// Imported, when set, is told of each import the daemon stored.
	Imported func(Imported)
}

// Live returns the config command as the daemon serves it on the control
// socket and the serial console: export [--secrets] writes the document to
// standard output (SIP secrets masked unless asked for), import FILE reads
// FILE (an absolute path on the box).
func Live(d Daemon) cli.Command {
	return cli.Command{Name: "config", Summary: "PBX and call-centre configuration: export [--secrets], import FILE", Run: func(ctx context.Context, args []string, std cli.IO) int {
		db := d.DB()
		if db == nil {
			fmt.Fprintln(std.Err, "config: the store is not open")
			return 1
		}
		switch {
		case len(args) >= 1 && len(args) <= 2 && args[0] == "export" && (len(args) == 1 || args[1] == "--secrets"):
			doc, err := Export(db, len(args) == 2)
			if err != nil {
				fmt.Fprintf(std.Err, "config: export: %v\n", err)
				return 1
			}
			_, err = std.Out.Write(doc)
			return exitOf(err, std)
		case len(args) == 2 && args[0] == "import":
			r, err := Import(db, args[1], d.Hooks)
			if err != nil {
				fmt.Fprintf(std.Err, "config: import refused, nothing changed: %v\n", err)
				return 1
			}
			if d.Imported != nil {
				d.Imported(r)
			}
			printImported(std.Out, r, args[1])
			return 0
		}
		fmt.Fprint(std.Err, liveUsage)
		return 2
	}}
}

func exitOf(err error, std cli.IO) int {
	if err != nil {
		fmt.Fprintf(std.Err, "config: %v\n", err)
		return 1
	}
	return 0
}

// Command is "callboxctl config".
var Command = cli.Command{Name: "config", Summary: summary, Run: run}

func run(ctx context.Context, args []string, std cli.IO) int {
	if len(args) == 0 || (args[0] != "export" && args[0] != "import") {
		if len(args) > 0 && (args[0] == "help" || args[0] == "-h" || args[0] == "--help") {
			fmt.Fprint(std.Out, usage)
			return 0
		}
		fmt.Fprint(std.Err, usage)
		return 2
	}
	verb := args[0]
	fs := flag.NewFlagSet("config "+verb, flag.ContinueOnError)
	fs.SetOutput(std.Err)
	fs.Usage = func() { fmt.Fprint(std.Err, usage) }
	dataDir := fs.String("data", "./var", "the daemon's data directory (control socket and store file)")
	socket := fs.String("socket", "", "the daemon's control socket (overrides --data for the socket)")
	secrets := false
	if verb == "export" {
		fs.BoolVar(&secrets, "secrets", false, "show the SIP secrets instead of "+pbxconf.SecretMask)
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	rest := fs.Args()
	path := *socket
	if path == "" {
		path = control.Path(*dataDir)
	}
	switch {
	case verb == "export" && len(rest) <= 1:
		file := "-"
		if len(rest) == 1 {
			file = rest[0]
		}
		return export(ctx, path, *dataDir, file, secrets, std)
	case verb == "import" && len(rest) == 1:
		return importFile(ctx, path, *dataDir, rest[0], std)
	}
	fmt.Fprint(std.Err, usage)
	return 2
}

func export(ctx context.Context, socket, dataDir, file string, secrets bool, std cli.IO) int {
	var doc bytes.Buffer
	args := []string{"config", "export"}
	if secrets {
		args = append(args, "--secrets")
	}
	code, err := control.Run(ctx, socket, args, cli.IO{Out: &doc, Err: std.Err})
	switch {
	case err == nil && code != 0:
		return code
	case err == nil:
	case errors.Is(err, control.ErrNoDaemon):
		db, err := openStore(dataDir, false)
		if err != nil {
			fmt.Fprintf(std.Err, "callboxctl: config export: %v\n", err)
			return 1
		}
		b, err := Export(db, secrets)
		if cerr := db.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			fmt.Fprintf(std.Err, "callboxctl: config export: %v\n", err)
			return 1
		}
		doc.Write(b)
	default:
		fmt.Fprintf(std.Err, "callboxctl: config export: %v\n", err)
		return 1
	}
	// What the daemon sent must be a document this firmware reads back.
	if _, err := ParseDocument(doc.Bytes()); err != nil {
		fmt.Fprintf(std.Err, "callboxctl: config export: the daemon sent an unreadable document: %v\n", err)
		return 1
	}
	if file == "-" {
		_, err := std.Out.Write(doc.Bytes())
		return exitOf(err, std)
	}
	if err := writeFile(file, doc.Bytes()); err != nil {
		fmt.Fprintf(std.Err, "callboxctl: config export: %v\n", err)
		return 1
	}
	return 0
}

func importFile(ctx context.Context, socket, dataDir, file string, std cli.IO) int {
	abs, err := filepath.Abs(file)
	if err != nil {
		fmt.Fprintf(std.Err, "callboxctl: config import: %v\n", err)
		return 1
	}
	// Check here first: the installer sees every problem with the file
	// before the daemon is involved.
	if _, err := ReadFile(abs); err != nil {
		fmt.Fprintf(std.Err, "callboxctl: config import refused, nothing changed: %v\n", err)
		return 1
	}
	code, err := control.Run(ctx, socket, []string{"config", "import", abs}, std)
	if err == nil {
		return code
	}
	if !errors.Is(err, control.ErrNoDaemon) {
		fmt.Fprintf(std.Err, "callboxctl: config import: %v\n", err)
		return 1
	}
	db, err := openStore(dataDir, true)
	if err != nil {
		fmt.Fprintf(std.Err, "callboxctl: config import: %v\n", err)
		return 1
	}
	r, err := Import(db, abs, Hooks{})
	if cerr := db.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintf(std.Err, "callboxctl: config import refused, nothing changed: %v\n", err)
		return 1
	}
	printImported(std.Out, r, abs+" into "+filepath.Join(dataDir, DBName)+" (no daemon running; ports are checked at its next boot)")
	return 0
}

// openStore opens the store file in dataDir. Export refuses a missing file
// (store.Open would create one); import may create it, so an installer can
// provision a box before its first boot.
func openStore(dataDir string, create bool) (*store.DB, error) {
	path := filepath.Join(dataDir, DBName)
	if _, err := os.Stat(path); err != nil {
		if !create || !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no daemon answers and the store cannot be read: %w", err)
		}
		if err := os.MkdirAll(dataDir, 0o750); err != nil {
			return nil, err
		}
	}
	db, err := store.Open(path)
	if errors.Is(err, store.ErrLocked) {
		return nil, fmt.Errorf("%w: a daemon holds the store but does not answer on its control socket", err)
	}
	return db, err
}

// writeFile writes data to path with mode 0600 (the document holds the
// secrets), through a temporary file renamed into place, so an interrupted
// export never leaves half a backup under the name.
func writeFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
