package app

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"syscall"
	"time"
)

// watchdog pets the hardware watchdog while the box runs, so a hung
// daemon resets the board; a clean stop disarms it with the magic 'V'.
type watchdog struct {
	f    *os.File
	done chan struct{}
}

const watchdogPet = 5 * time.Second

func (a *App) startWatchdog(ctx context.Context) error {
	if a.cfg.NoWatchdog || a.boardSim() {
		return nil
	}
	f, err := os.OpenFile(a.cfg.Watchdog, os.O_WRONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		a.log.Info("no watchdog device", "path", a.cfg.Watchdog)
		return nil
	}
	if err != nil {
		return err
	}
	w := &watchdog{f: f, done: make(chan struct{})}
	go w.run(ctx, a.log)
	a.mu.Lock()
	a.dog = w
	a.mu.Unlock()
	a.log.Info("petting watchdog", "path", a.cfg.Watchdog, "every", watchdogPet)
	return nil
}

func (w *watchdog) run(ctx context.Context, log *slog.Logger) {
	defer close(w.done)
	t := time.NewTicker(watchdogPet)
	defer t.Stop()
	for {
		if _, err := w.f.Write([]byte{0}); err != nil {
			log.Error("watchdog write failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (a *App) stopWatchdog(ctx context.Context) error {
	a.mu.Lock()
	w := a.dog
	a.dog = nil
	a.mu.Unlock()
	if w == nil {
		return nil
	}
	<-w.done
	_, err := w.f.Write([]byte("V"))
	return errors.Join(err, w.f.Close())
}

// rebootNow reboots the board after the components have stopped.
func rebootNow(log *slog.Logger) error {
	log.Warn("rebooting")
	syscall.Sync()
	return syscall.Reboot(syscall.LINUX_REBOOT_CMD_RESTART)
}
