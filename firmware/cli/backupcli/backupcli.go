// Package backupcli implements the backup commands the daemon serves on
// its control socket and serial console, and callboxctl's forwarders:
//
//	backup [--recordings] FILE   write the whole box to FILE
//	restore FILE                 check FILE completely, then restart into it
//
// FILE is on the box (callboxctl runs there and passes the full path).
package backupcli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"callbox/firmware/backup"
	"callbox/firmware/cli"
	"callbox/firmware/control"
)

const usage = `usage: backup [--data DIR | --socket PATH] [--recordings] FILE
       restore [--data DIR | --socket PATH] FILE
backup writes the whole box (store, prompts, with --recordings the
recordings) to FILE (mode 0600: it holds password hashes and secrets).
restore checks all of FILE first and changes nothing if any of it is
wrong; then the box restarts into it (the replaced data is kept in
restore.previous in the data directory).
`

// Daemon is what the daemon's backup commands reach.
type Daemon struct {
	Backup  func(w io.Writer, recordings bool) (backup.Manifest, error)
	Restore func(r io.Reader) (backup.Manifest, error)
	Reboot  func()
}

// Live returns the backup and restore commands the daemon serves.
func Live(d Daemon) []cli.Command {
	return []cli.Command{
		{Name: "backup", Summary: "backup [--recordings] FILE: the whole box as one file", Run: func(ctx context.Context, args []string, std cli.IO) int {
			return runBackup(d, args, std)
		}},
		{Name: "restore", Summary: "restore FILE: check a backup completely, then restart into it", Run: func(ctx context.Context, args []string, std cli.IO) int {
			return runRestore(d, args, std)
		}},
	}
}

func parse(name string, args []string, std cli.IO) (*flag.FlagSet, *bool, *string, *string, bool) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(std.Err)
	fs.Usage = func() { fmt.Fprint(std.Err, usage) }
	rec := fs.Bool("recordings", false, "include the recordings")
	data := fs.String("data", "./var", "the daemon's data directory (its control socket)")
	sock := fs.String("socket", "", "the daemon's control socket")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		if err == nil {
			fmt.Fprint(std.Err, usage)
		}
		return nil, nil, nil, nil, false
	}
	return fs, rec, data, sock, true
}

func runBackup(d Daemon, args []string, std cli.IO) int {
	fs, rec, _, _, ok := parse("backup", args, std)
	if !ok {
		return 2
	}
	path := fs.Arg(0)
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		fmt.Fprintf(std.Err, "backup: %v\n", err)
		return 1
	}
	defer os.Remove(tmp.Name())
	m, err := d.Backup(tmp, *rec)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		fmt.Fprintf(std.Err, "backup: %v\n", err)
		return 1
	}
	fmt.Fprintf(std.Out, "backup: wrote %s: %d files (recordings: %v), firmware %s\n", path, len(m.Files), m.Recordings, m.Version)
	return 0
}

func runRestore(d Daemon, args []string, std cli.IO) int {
	fs, _, _, _, ok := parse("restore", args, std)
	if !ok {
		return 2
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(std.Err, "restore: %v\n", err)
		return 1
	}
	defer f.Close()
	m, err := d.Restore(f)
	if err != nil {
		fmt.Fprintf(std.Err, "restore: %v\n", err)
		return 1
	}
	fmt.Fprintf(std.Out, "restore: %d files checked (backup of %s, firmware %s); restarting into them\n",
		len(m.Files), m.Created.Format("2006-01-02 15:04"), m.Version)
	d.Reboot()
	return 0
}

// Commands are callboxctl's backup and restore: they run in the daemon
// through its control socket.
var Commands = []cli.Command{
	{Name: "backup", Summary: "backup [--recordings] FILE: the whole box as one file (through the daemon)", Run: forward("backup")},
	{Name: "restore", Summary: "restore FILE: check a backup, then restart the box into it (through the daemon)", Run: forward("restore")},
}

func forward(name string) func(ctx context.Context, args []string, std cli.IO) int {
	return func(ctx context.Context, args []string, std cli.IO) int {
		fs, rec, data, sock, ok := parse(name, args, std)
		if !ok {
			return 2
		}
		abs, err := filepath.Abs(fs.Arg(0))
		if err != nil {
			fmt.Fprintf(std.Err, "callboxctl: %s: %v\n", name, err)
			return 1
		}
		path := *sock
		if path == "" {
			path = control.Path(*data)
		}
		fwd := []string{name}
		if *rec {
			fwd = append(fwd, "--recordings")
		}
		code, err := control.Run(ctx, path, append(fwd, abs), std)
		if err != nil {
			if errors.Is(err, control.ErrNoDaemon) {
				err = fmt.Errorf("%w (start the daemon first)", err)
			}
			fmt.Fprintf(std.Err, "callboxctl: %s: %v\n", name, err)
			return 1
		}
		return code
	}
}
