// Package configcli implements the configuration commands of callboxctl:
//
//	callboxctl config export [--secrets] [--data DIR] [--socket PATH] [FILE|-]
//	callboxctl config import [--data DIR] [--socket PATH] FILE
//
// They read and write the PBX configuration (extensions, trunks, routes and
// the dialling rules) as the JSON document of telephony/pbxconf, which is
// also the backup format. When the daemon runs they go through its control
// socket, so the daemon checks the file against its board and applies it;
// when no daemon answers they open the store file in DIR directly. An
// import is validated completely before anything is written, and is
// written in one transaction: a refused file changes nothing. A SIP
// extension secret the file sets or changes must be strong; a weak one
// the store already holds is kept with a warning.
//
// An export shows every secret as pbxconf.SecretMask unless --secrets asks
// for them (a backup that can rebuild the box needs them); importing the
// mask keeps the stored secret, so a masked export can be edited and
// imported again. An import prints what is valid but dangerous
// (pbxconf.Config.Warnings), such as an explicitly empty blocked list.
//
// The package also holds what the daemon shares with the commands: Load and
// Save on a store transaction, ReadFile, and Live, the commands the daemon
// serves on its control socket and serial console.
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

	"callbox/firmware/cli"
	"callbox/firmware/control"
	"callbox/firmware/store"
	"callbox/telephony/pbxconf"
)

// DBName is the store's file name in the data directory (as firmware/app
// opens it).
const DBName = "callbox.db"

const summary = "PBX configuration: export [--secrets] [FILE|-], import FILE (JSON; daemon or store file)"

const usage = `usage: config export [--secrets] [--data DIR | --socket PATH] [FILE|-]
       config import [--data DIR | --socket PATH] FILE
Export writes the whole PBX configuration (extensions, trunks, routes,
emergency and blocked numbers) as JSON to FILE (mode 0600) or standard
output, with every secret shown as ` + pbxconf.SecretMask + ` unless --secrets
asks for them. Import replaces it with FILE after checking all of it; a
masked secret keeps the one stored. Through the running daemon when it
answers on DIR's control socket, otherwise on DIR's store file.
`

// liveUsage is the usage of the command the daemon serves.
const liveUsage = `usage: config export [--secrets]
       config import FILE
Export shows every secret as ` + pbxconf.SecretMask + ` unless --secrets asks for
them; import FILE (a path on the box) keeps the stored secret for a masked one.
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

// ReadFile reads and validates a configuration file. A masked secret
// (pbxconf.SecretMask) passes: only the store being replaced can say
// whether a secret stands behind it (Import).
func ReadFile(path string) (pbxconf.Config, error) {
	c, err := readDoc(path)
	if err != nil {
		return pbxconf.Config{}, err
	}
	if err := validateMasked(c); err != nil {
		return pbxconf.Config{}, fmt.Errorf("configcli: %s: %w", path, err)
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

// readDoc reads and decodes a configuration file without validating it.
func readDoc(path string) (pbxconf.Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return pbxconf.Config{}, fmt.Errorf("configcli: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, pbxconf.MaxDocument+1))
	if err != nil {
		return pbxconf.Config{}, fmt.Errorf("configcli: %s: %w", path, err)
	}
	c, err := pbxconf.Decode(data)
	if err != nil {
		return pbxconf.Config{}, fmt.Errorf("configcli: %s: %w", path, err)
	}
	return c, nil
}

// Import reads the file at path, puts the stored secrets back for masked
// ones, checks it (check may refuse what this box cannot run, such as
// ports it lacks; nil accepts) and replaces the stored configuration with
// it in one transaction. On any error the store is unchanged. A SIP
// extension secret the file sets or changes must be strong. The caller
// shows the result's Warnings and WeakSecrets.
func Import(db *store.DB, path string, check func(pbxconf.Config) error) (pbxconf.Config, error) {
	c, err := readDoc(path)
	if err != nil {
		return pbxconf.Config{}, err
	}
	err = db.Update(func(tx *store.Tx) error {
		// A stored configuration that cannot be read is not held against
		// the file that replaces it (its masked secrets then have nothing
		// to keep).
		stored, lerr := Load(tx)
		var prev *pbxconf.Config
		if lerr == nil {
			prev = &stored
			c.KeepSecrets(stored)
		}
		if err := c.Validate(); err != nil {
			return err
		}
		if check != nil {
			if err := check(c); err != nil {
				return err
			}
		}
		// New or changed SIP secrets must be strong; the stored ones keep
		// working (WarnWeakSecrets).
		if lerr == nil || errors.Is(lerr, ErrNone) {
			if err := c.CheckNewSecrets(prev); err != nil {
				return err
			}
		}
		return Save(tx, c)
	})
	if err != nil {
		return pbxconf.Config{}, fmt.Errorf("configcli: %s: %w", path, err)
	}
	return c, nil
}

// WarnWeakSecrets writes a line to w for each SIP extension of c whose
// secret is weak: it keeps working, but should be replaced.
func WarnWeakSecrets(w io.Writer, c pbxconf.Config) {
	for _, fe := range c.WeakSecrets() {
		fmt.Fprintf(w, "config: warning: %s: secret: %s (it keeps working; set a strong one, the web admin can generate it)\n",
			fe.Object, fe.Reason)
	}
}

// Export returns the stored configuration as a document, its secrets
// masked unless secrets is set.
func Export(db *store.DB, secrets bool) ([]byte, error) {
	var c pbxconf.Config
	if err := db.View(func(tx *store.Tx) (err error) { c, err = Load(tx); return err }); err != nil {
		return nil, err
	}
	if !secrets {
		c = c.MaskSecrets()
	}
	return pbxconf.Marshal(c)
}

// printImported reports an applied import and its warnings.
func printImported(w io.Writer, c pbxconf.Config, what string) {
	fmt.Fprintf(w, "config: imported %s: %d extensions, %d trunks, %d routes\n",
		what, len(c.Extensions), len(c.Trunks), len(c.Routes))
	for _, warn := range c.Warnings() {
		fmt.Fprintf(w, "config: warning: %s\n", warn)
	}
	WarnWeakSecrets(w, c)
}

// Daemon is what the daemon's config commands reach.
type Daemon struct {
	// DB returns the open store, or nil while none is open.
	DB func() *store.DB
	// Check refuses configurations this box cannot run; nil accepts.
	Check func(pbxconf.Config) error
	// Imported, when set, is told of each import the daemon applies.
	Imported func(pbxconf.Config)
}

// Live returns the config command as the daemon serves it on the control
// socket and the serial console: export [--secrets] writes the document to
// standard output (secrets masked unless asked for), import FILE reads
// FILE (an absolute path on the box).
func Live(d Daemon) cli.Command {
	return cli.Command{Name: "config", Summary: "PBX configuration: export [--secrets], import FILE", Run: func(ctx context.Context, args []string, std cli.IO) int {
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
			c, err := Import(db, args[1], d.Check)
			if err != nil {
				fmt.Fprintf(std.Err, "config: import refused, nothing changed: %v\n", err)
				return 1
			}
			if d.Imported != nil {
				d.Imported(c)
			}
			printImported(std.Out, c, args[1])
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
	c, err := pbxconf.Decode(doc.Bytes())
	if err == nil {
		err = validateMasked(c)
	}
	if err != nil {
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
	c, err := Import(db, abs, nil)
	if cerr := db.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintf(std.Err, "callboxctl: config import refused, nothing changed: %v\n", err)
		return 1
	}
	printImported(std.Out, c, abs+" into "+filepath.Join(dataDir, DBName)+" (no daemon running; ports are checked at its next boot)")
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
