package daemon

import (
	"errors"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/oklog/run"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/config"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/sdnotify"
)

// errShutdown ends the run group on SIGINT/SIGTERM; it is the normal way
// out, so it maps to exit code 0.
var errShutdown = errors.New("shutdown requested by signal")

// serve runs the instance's actors, plus extra ones (agent, simulated
// account), until a signal or a failure, then drains and closes the
// instance.
//
// sigs comes from notifySignals, called before anything is printed or
// bound, so a signal sent as soon as the daemon looks ready is handled
// rather than killing the process.
func serve(env *environment, sigs chan os.Signal, in *instance, reload func() (*config.Server, error), extra ...func(*run.Group)) int {
	var g run.Group
	in.addActors(&g)
	for _, add := range extra {
		add(&g)
	}
	return runUntilSignal(env, in.log, &g, sigs, shutdown{
		message:  "shutting down: draining in-flight RPCs (send the signal again to force)",
		kv:       []any{"shutdown_timeout", in.cfg.ShutdownTimeout},
		reload:   func() { in.reload(reload) },
		force:    in.forceStop,
		finished: in.close,
	})
}

// shutdown says how runUntilSignal ends a daemon.
type shutdown struct {
	// message (with kv) is logged on the first SIGINT/SIGTERM.
	message string
	kv      []any
	// reload handles SIGHUP.
	reload func()
	// force, when set, cuts whatever the drain waits for before a forced
	// exit.
	force func()
	// deadline, when positive, forces the exit if the drain takes longer.
	deadline time.Duration
	// finished, when set, runs after the group stopped, before the last
	// log line.
	finished func()
}

// runUntilSignal runs g plus the signal handler until a signal or a
// failure. SIGHUP calls reload; a second SIGINT/SIGTERM during the drain
// (or the drain outlasting the deadline) exits at once with exitForced.
func runUntilSignal(env *environment, log hclog.Logger, g *run.Group, sigs chan os.Signal, sd shutdown) int {
	finished := make(chan struct{})
	defer close(finished)
	stop := make(chan struct{})
	g.Add(func() error {
		for {
			select {
			case s := <-sigs:
				if s == syscall.SIGHUP {
					notifySystemd(log, sdnotify.Reloading)
					sd.reload()
					notifySystemd(log, sdnotify.Ready)
					continue
				}
				notifySystemd(log, sdnotify.Stopping)
				log.Info(sd.message, append([]any{"signal", s.String()}, sd.kv...)...)
				go forceOnSecondSignal(env, log, sigs, finished, sd)
				return errShutdown
			case <-stop:
				return nil
			}
		}
	}, func(error) { close(stop) })

	// The listeners are bound before the group runs, so a client that
	// systemd starts after READY=1 connects.
	notifySystemd(log, sdnotify.Ready)
	err := g.Run()
	if sd.finished != nil {
		sd.finished()
	}
	if err != nil && !errors.Is(err, errShutdown) {
		log.Error("stopped on an error", "error", err)
		return exitFailure
	}
	log.Info("stopped")
	return exitOK
}

func forceOnSecondSignal(env *environment, log hclog.Logger, sigs <-chan os.Signal, finished <-chan struct{}, sd shutdown) {
	var deadline <-chan time.Time
	if sd.deadline > 0 {
		t := time.NewTimer(sd.deadline)
		defer t.Stop()
		deadline = t.C
	}
	force := func() {
		if sd.force != nil {
			sd.force()
		}
		env.exit(exitForced)
	}
	for {
		select {
		case s := <-sigs:
			if s == syscall.SIGHUP {
				continue
			}
			log.Warn("second signal: forcing exit without waiting for the drain", "signal", s.String())
			force()
			return
		case <-deadline:
			log.Warn("the drain took longer than shutdown_timeout: forcing exit", "shutdown_timeout", sd.deadline)
			force()
			return
		case <-finished:
			return
		}
	}
}

// notifySystemd sends state to systemd (Type=notify units); failing to is
// worth a warning, not a stop: the daemon works, only systemd's view lags.
func notifySystemd(log hclog.Logger, state string) {
	if err := sdnotify.Notify(state); err != nil {
		log.Warn("could not notify systemd", "state", state, "error", err)
	}
}

// notifySignals starts catching SIGINT, SIGTERM and SIGHUP; the returned
// function stops it.
func notifySignals() (chan os.Signal, func()) {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	return sigs, func() { signal.Stop(sigs) }
}
