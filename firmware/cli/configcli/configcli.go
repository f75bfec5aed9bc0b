// Package configcli implements the configuration commands of callboxctl:
//
//	callboxctl config export [--data DIR] [--socket PATH] [FILE|-]
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

const summary = "PBX configuration: export [FILE|-], import FILE (JSON; daemon or store file)"

const usage = `usage: config export [--data DIR | --socket PATH] [FILE|-]
       config import [--data DIR | --socket PATH] FILE
Export writes the whole PBX configuration (extensions, trunks, routes,
emergency and blocked numbers) as JSON to FILE (mode 0600: it holds the
secrets) or standard output; import replaces it with FILE after checking
all of it. Through the running daemon when it answers on DIR's control
socket, otherwise on DIR's store file.
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

// ReadFile reads and validates a configuration file.
func ReadFile(path string) (pbxconf.Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return pbxconf.Config{}, fmt.Errorf("configcli: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, pbxconf.MaxDocument+1))
	if err != nil {
		return pbxconf.Config{}, fmt.Errorf("configcli: %s: %w", path, err)
	}
	c, err := pbxconf.Parse(data)
	if err != nil {
		return pbxconf.Config{}, fmt.Errorf("configcli: %s: %w", path, err)
	}
	return c, nil
}

// Import reads the file at path, checks it (check may refuse what this box
// cannot run, such as ports it lacks; nil accepts) and replaces the stored
// configuration with it in one transaction. On any error the store is
// unchanged.
func Import(db *store.DB, path string, check func(pbxconf.Config) error) (pbxconf.Config, error) {
	c, err := ReadFile(path)
	if err != nil {
		return pbxconf.Config{}, err
	}
	if check != nil {
		if err := check(c); err != nil {
			return pbxconf.Config{}, fmt.Errorf("configcli: %s: %w", path, err)
		}
	}
	if err := db.Update(func(tx *store.Tx) error {
		// New or changed SIP secrets must be strong; the stored ones
		// keep working (WeakSecrets warns). A stored configuration that
		// cannot be read is not held against the file that replaces it.
		if stored, err := Load(tx); err == nil || errors.Is(err, ErrNone) {
			prev := &stored
			if err != nil {
				prev = nil
			}
			if err := c.CheckNewSecrets(prev); err != nil {
				return fmt.Errorf("configcli: %s: %w", path, err)
			}
		}
		return Save(tx, c)
	}); err != nil {
		return pbxconf.Config{}, err
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

// Export returns the stored configuration as a document.
func Export(db *store.DB) ([]byte, error) {
	var c pbxconf.Config
	if err := db.View(func(tx *store.Tx) (err error) { c, err = Load(tx); return err }); err != nil {
		return nil, err
	}
	return pbxconf.Marshal(c)
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
// socket and the serial console: export writes the document to standard
// output, import FILE reads FILE (an absolute path on the box).
func Live(d Daemon) cli.Command {
	return cli.Command{Name: "config", Summary: "PBX configuration: export, import FILE", Run: func(ctx context.Context, args []string, std cli.IO) int {
		db := d.DB()
		if db == nil {
			fmt.Fprintln(std.Err, "config: the store is not open")
			return 1
		}
		switch {
		case len(args) == 1 && args[0] == "export":
			doc, err := Export(db)
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
			fmt.Fprintf(std.Out, "config: imported %s: %d extensions, %d trunks, %d routes\n",
				args[1], len(c.Extensions), len(c.Trunks), len(c.Routes))
			WarnWeakSecrets(std.Out, c)
			return 0
		}
		fmt.Fprint(std.Err, usage)
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
		return export(ctx, path, *dataDir, file, std)
	case verb == "import" && len(rest) == 1:
		return importFile(ctx, path, *dataDir, rest[0], std)
	}
	fmt.Fprint(std.Err, usage)
	return 2
}

func export(ctx context.Context, socket, dataDir, file string, std cli.IO) int {
	var doc bytes.Buffer
	code, err := control.Run(ctx, socket, []string{"config", "export"}, cli.IO{Out: &doc, Err: std.Err})
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
		b, err := Export(db)
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
	if _, err := pbxconf.Parse(doc.Bytes()); err != nil {
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
	fmt.Fprintf(std.Out, "config: imported %s into %s (no daemon running; ports are checked at its next boot): %d extensions, %d trunks, %d routes\n",
		abs, filepath.Join(dataDir, DBName), len(c.Extensions), len(c.Trunks), len(c.Routes))
	WarnWeakSecrets(std.Out, c)
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
