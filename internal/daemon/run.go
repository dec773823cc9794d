package daemon

import (
	"errors"
	"os"
	"os/signal"
	"syscall"

	"github.com/oklog/run"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/config"
)

// errShutdown ends the run group on SIGINT/SIGTERM; it is the normal way
// out, so it maps to exit code 0.
var errShutdown = errors.New("shutdown requested by signal")

// serve runs the instance's actors plus the signal handler until a signal
// or a failure, then drains. SIGHUP calls reload; a second SIGINT/SIGTERM
// during the drain cuts every connection and exits at once with
// exitForced. Further actors (agent, simulated account) come in extra.
//
// sigs comes from notifySignals, called before anything is printed or
// bound, so a signal sent as soon as the daemon looks ready is handled
// rather than killing the process.
func serve(env *environment, sigs chan os.Signal, in *instance, reload func() (*config.Server, error), extra ...func(*run.Group)) int {
	log := in.log
	var g run.Group
	in.addActors(&g)
	for _, add := range extra {
		add(&g)
	}

	finished := make(chan struct{})
	defer close(finished)
	stop := make(chan struct{})
	g.Add(func() error {
		for {
			select {
			case s := <-sigs:
				if s == syscall.SIGHUP {
					in.reload(reload)
					continue
				}
				log.Info("shutting down: draining in-flight RPCs (send the signal again to force)", "signal", s.String(), "shutdown_timeout", in.cfg.ShutdownTimeout)
				go forceOnSecondSignal(env, in, sigs, finished)
				return errShutdown
			case <-stop:
				return nil
			}
		}
	}, func(error) { close(stop) })

	err := g.Run()
	in.close()
	if err != nil && !errors.Is(err, errShutdown) {
		log.Error("stopped on an error", "error", err)
		return exitFailure
	}
	log.Info("stopped")
	return exitOK
}

func forceOnSecondSignal(env *environment, in *instance, sigs <-chan os.Signal, finished <-chan struct{}) {
	for {
		select {
		case s := <-sigs:
			if s == syscall.SIGHUP {
				continue
			}
			in.log.Warn("second signal: forcing exit without waiting for in-flight RPCs", "signal", s.String())
			in.forceStop()
			env.exit(exitForced)
			return
		case <-finished:
			return
		}
	}
}

// notifySignals starts catching SIGINT, SIGTERM and SIGHUP; the returned
// function stops it.
func notifySignals() (chan os.Signal, func()) {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	return sigs, func() { signal.Stop(sigs) }
}
