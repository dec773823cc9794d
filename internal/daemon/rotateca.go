package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/hashicorp/go-hclog"

	"github.com/sirsinexus/terraform-provider-sirsi/internal/config"
	"github.com/sirsinexus/terraform-provider-sirsi/internal/pki"
)

// rotateCACommand is `agentd server rotate-ca stage|promote|retire`: the
// three steps of internal/pki's CA rotation, each followed by a restart of
// the server (pki/rotate.go says why three).
var rotateCACommand = &command{
	name: "rotate-ca",
	about: `Rotates the CA that signs agent and server certificates in three steps,
restarting the server after each, so no agent or client is ever shown a
certificate it cannot verify:

  stage    create the next CA beside the active one; after the restart both
           are trusted and handed out as the CA bundle. Wait one agent
           certificate lifetime (agent_cert_ttl) so every agent renews.
  promote  sign with the next CA from the restart on; the old certificate
           stays trusted. Wait one agent certificate lifetime again.
  retire   stop trusting the old CA from the restart on.`,
	subs: []*command{
		rotateCAStep("stage", "create the next CA beside the active one (step 1 of 3)", func(ctx context.Context, env *environment, cfg *config.Server, dir string) error {
			s, _, err := newSealer(ctx, cfg, hclog.New(&hclog.LoggerOptions{Name: "agentd", Output: env.stderr, Level: hclog.Warn}))
			if err != nil {
				return err
			}
			next, err := pki.StageNextCA(pki.Options{Dir: dir, Name: cfg.TrustDomain, Sealer: s})
			if err != nil {
				return err
			}
			fmt.Fprintf(env.stdout, "staged the next CA %q (serial %s, valid until %s)\nrestart the server, wait one agent certificate lifetime, then run rotate-ca promote\n",
				next.Subject.CommonName, next.SerialNumber, next.NotAfter.UTC().Format("2006-01-02"))
			return nil
		}),
		rotateCAStep("promote", "make the staged CA the signing one (step 2 of 3)", func(_ context.Context, env *environment, _ *config.Server, dir string) error {
			if err := pki.PromoteNextCA(dir); err != nil {
				return err
			}
			fmt.Fprintln(env.stdout, "promoted the next CA; the old one stays trusted\nrestart the server, wait one agent certificate lifetime, then run rotate-ca retire")
			return nil
		}),
		rotateCAStep("retire", "stop trusting the previous CA (step 3 of 3)", func(_ context.Context, env *environment, _ *config.Server, dir string) error {
			if err := pki.RetirePreviousCA(dir); err != nil {
				return err
			}
			fmt.Fprintln(env.stdout, "retired the previous CA\nrestart the server: certificates it signed are refused from then on")
			return nil
		}),
	},
}

func rotateCAStep(name, synopsis string, step func(ctx context.Context, env *environment, cfg *config.Server, pkiDir string) error) *command {
	path := "agentd server rotate-ca " + name
	return offlineCommand(name, synopsis, "", func(env *environment, cfg *config.Server, _ string) int {
		// The CA lives in the data dir even when the store is PostgreSQL.
		if cfg.DataDir == "" {
			fmt.Fprintf(env.stderr, "%s: configuration:\n%s\n", path, errors.New("data_dir: required: the CA is in the data dir"))
			return exitUsage
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		if err := step(ctx, env, cfg, filepath.Join(cfg.DataDir, pkiDir)); err != nil {
			fmt.Fprintf(env.stderr, "%s: %s\n", path, err)
			return exitFailure
		}
		return exitOK
	})
}
