package cli

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/charterhq/charter/internal/admission"
	"github.com/charterhq/charter/internal/inventory"
	"github.com/charterhq/charter/internal/policy"
	"github.com/charterhq/charter/internal/sign"
)

func newAdmissionCmd(env Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "admission",
		Short: "Kubernetes admission webhook: no valid signature, no entry",
		Long: "charter admission serve runs a validating (and optionally mutating) admission webhook\n" +
			"that admits a pod, or any workload with a pod template, only when every image is signed\n" +
			"by a key in charter.yaml and the pod passes the MAN and Pod Security Standards checks the\n" +
			"charter file's admission section asks for. charter admission certs makes the TLS\n" +
			"certificates the API server needs to call it. See docs/admission.md.",
	}
	cmd.AddCommand(newAdmissionServeCmd(env), newAdmissionCertsCmd(env))
	return cmd
}

func newAdmissionServeCmd(env Env) *cobra.Command {
	var rf registryFlags
	var listen, certFile, keyFile, charterPath string
	var reload time.Duration
	var inv admissionInventory
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the admission webhook over HTTPS",
		Long: "Serve AdmissionReview v1 over HTTPS: /validate admits or denies, /mutate rewrites image\n" +
			"tags to the digests it verified, /healthz and /readyz for probes, /metrics for\n" +
			"Prometheus. The certificate and key are re-read when they change.\n\n" +
			"Each decision is one JSON line on standard output (the audit log); diagnostics go to\n" +
			"standard error. Registry credentials come from the docker config ($DOCKER_CONFIG or\n" +
			"~/.docker/config.json), as for charter scan. SIGTERM stops it gracefully.\n\n" +
			"With --inventory DB, every admitted image digest is recorded in the inventory with\n" +
			"--cluster, the namespace and the workload (a Deployment's pods as the Deployment), so\n" +
			"charter inventory affected and query say where an affected image runs. Recording is\n" +
			"off the request path: it never delays or changes a decision.",
		Example: "  charter admission serve --listen :8443 --tls-cert /tls/tls.crt --tls-key /tls/tls.key --charter /etc/charter/charter.yaml\n" +
			"  charter admission serve --tls-cert tls.crt --tls-key tls.key --inventory postgres://charter@db.internal/inventory --cluster prod-eu\n" +
			"  charter admission serve --listen 127.0.0.1:8443 --tls-cert tls.crt --tls-key tls.key --charter charter.yaml --insecure-registry localhost:5000",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if certFile == "" || keyFile == "" {
				return errors.New("admission serve: --tls-cert and --tls-key are required (charter admission certs makes a pair)")
			}
			logger := slog.New(slog.NewTextHandler(env.Stderr, nil))
			store, err := inv.open(cmd.Context(), env, logger)
			if err != nil {
				return fmt.Errorf("admission serve: %w", err)
			}
			if store != nil {
				defer func() { _ = store.Close() }()
			}
			srv, err := newAdmissionServer(env, rf, charterPath, logger, inv.config(store))
			if err != nil {
				return fmt.Errorf("admission serve: %w", err)
			}
			defer func() { _ = srv.Close() }() // after the HTTP server drained: writes what is queued
			certs, err := admission.NewCertReloader(certFile, keyFile, logger)
			if err != nil {
				return fmt.Errorf("admission serve: %w", err)
			}
			return serveAdmission(cmd.Context(), env, listen, srv, certs, reload, logger)
		},
	}
	rf.register(cmd)
	cmd.Flags().StringVar(&listen, "listen", ":8443", "`ADDR` to listen on (host:port)")
	cmd.Flags().StringVar(&certFile, "tls-cert", "", "serving certificate `FILE` (PEM, the chain first)")
	cmd.Flags().StringVar(&keyFile, "tls-key", "", "serving key `FILE` (PEM)")
	cmd.Flags().StringVar(&charterPath, "charter", "", "charter `FILE` whose admission section and keys apply (default ./charter.yaml)")
	cmd.Flags().DurationVar(&reload, "tls-reload-interval", 10*time.Second, "how often the certificate files are checked for changes")
	inv.register(cmd)
	return cmd
}

// admissionInventory is serve's --inventory and --cluster: where admitted images are
// recorded as running.
type admissionInventory struct {
	db      dbFlag
	cluster string
}

func (f *admissionInventory) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.db.location, "inventory", "", "record where each admitted image runs in this inventory: a SQLite `FILE` or a postgres:// URL (as charter inventory --db; the password is better given as PGPASSWORD)")
	cmd.Flags().StringVar(&f.cluster, "cluster", admission.DefaultCluster, "with --inventory: the `NAME` this cluster is recorded under")
}

// open returns the inventory to record in, or nil without --inventory. A database that
// cannot be opened now does not stop the webhook (admission must not depend on it): it
// is said on stderr, and opened again on a later write.
func (f *admissionInventory) open(ctx context.Context, env Env, logger *slog.Logger) (*lazyInventory, error) {
	if f.db.location == "" {
		if f.cluster != admission.DefaultCluster {
			return nil, errors.New("--cluster names the cluster in the inventory: give --inventory too")
		}
		return nil, nil
	}
	if f.cluster == "" {
		return nil, errors.New("--cluster: empty name")
	}
	inv := &lazyInventory{open: func(ctx context.Context) (inventory.Store, error) { return f.db.open(ctx, env) }}
	octx, cancel := context.WithTimeout(ctx, inventoryReopen)
	defer cancel()
	if _, err := inv.get(octx); err != nil {
		logger.Warn("inventory: cannot be opened now; admitting without recording, and trying again on later admissions",
			"inventory", inventory.Describe(f.db.location), "err", err)
	}
	return inv, nil
}

// config is the part of the webhook's configuration the flags give.
func (f *admissionInventory) config(inv *lazyInventory) admission.Config {
	if inv == nil {
		return admission.Config{}
	}
	return admission.Config{Inventory: inv, Cluster: f.cluster}
}

// inventoryReopen spaces the attempts to open an inventory that could not be opened.
const inventoryReopen = 10 * time.Second

// lazyInventory is an inventory opened on first use, and again after a failure (at most
// once per inventoryReopen; writes in between fail at once, and the webhook counts them).
type lazyInventory struct {
	open  func(context.Context) (inventory.Store, error)
	mu    sync.Mutex
	store inventory.Store
	err   error
	tried time.Time
}

func (l *lazyInventory) get(ctx context.Context) (inventory.Store, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.store != nil {
		return l.store, nil
	}
	if !l.tried.IsZero() && time.Since(l.tried) < inventoryReopen {
		return nil, l.err
	}
	l.tried = time.Now()
	l.store, l.err = l.open(ctx)
	return l.store, l.err
}

// RecordDeployments records places in the inventory, opening it when needed.
func (l *lazyInventory) RecordDeployments(ctx context.Context, ds []inventory.Deployment) error {
	s, err := l.get(ctx)
	if err != nil {
		return err
	}
	return s.RecordDeployments(ctx, ds)
}

// Close closes the inventory when it was opened.
func (l *lazyInventory) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.store == nil {
		return nil
	}
	err := l.store.Close()
	l.store = nil
	return err
}

// newAdmissionServer loads the charter file and its keys and builds the webhook.
// inv carries the inventory settings.
func newAdmissionServer(env Env, rf registryFlags, charterPath string, logger *slog.Logger, inv admission.Config) (*admission.Server, error) {
	if charterPath == "" {
		p, ok := policy.Find(".")
		if !ok {
			return nil, errors.New("no charter file: pass --charter FILE (its admission section and signing.keys say what is admitted)")
		}
		charterPath = p
	}
	pf, err := policy.Load(charterPath)
	if err != nil {
		return nil, err
	}
	var v *sign.Verifier
	if refs := pf.AdmissionKeyRefs(); len(refs) > 0 {
		if v, err = loadVerifier(refs, ""); err != nil {
			return nil, err
		}
	}
	var nsVerifiers map[int]*sign.Verifier
	for i := range pf.Admission.Namespaces {
		refs := pf.AdmissionNamespaceKeyRefs(i)
		if len(refs) == 0 {
			continue
		}
		nv, err := loadVerifier(refs, "")
		if err != nil {
			return nil, fmt.Errorf("admission.namespaces[%d].keys: %w", i, err)
		}
		if nsVerifiers == nil {
			nsVerifiers = map[int]*sign.Verifier{}
		}
		nsVerifiers[i] = nv
	}
	cfg := admission.Config{Policy: pf, Verifier: v, NamespaceVerifiers: nsVerifiers, Image: rf.options(env), Now: env.Now,
		Audit: slog.New(slog.NewJSONHandler(env.Stdout, nil)), Logger: logger,
		Inventory: inv.Inventory, Cluster: inv.Cluster}
	if env.Getenv("KUBERNETES_SERVICE_HOST") != "" {
		nl, err := admission.InClusterNamespaces(env.Getenv)
		if err != nil {
			logger.Warn("namespace labels cannot be read; namespaceSelector entries will deny", "err", err)
		} else {
			cfg.Namespaces = nl
		}
	}
	return admission.New(cfg)
}

// serveAdmission serves until ctx ends, then drains: not ready first, so probes move
// traffic away, then a graceful shutdown.
func serveAdmission(ctx context.Context, env Env, addr string, srv *admission.Server, certs *admission.CertReloader,
	reload time.Duration, logger *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("admission serve: --listen %s: %w", addr, err)
	}
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
		// ServeTLS below adds HTTP/2, which the API server uses to call webhooks.
		TLSConfig: certs.TLSConfig(),
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if reload > 0 {
		go certs.Watch(ctx, reload)
	}
	fmt.Fprintf(env.Stderr, "charter admission: serving https://%s (/validate, /mutate, /healthz, /readyz, /metrics)\n", ln.Addr())
	done := make(chan error, 1)
	go func() { done <- hs.ServeTLS(ln, "", "") }()
	select {
	case err := <-done:
		return fmt.Errorf("admission serve: %w", err)
	case <-ctx.Done():
	}
	srv.SetReady(false)
	shut, stop := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer stop()
	if err := hs.Shutdown(shut); err != nil {
		return fmt.Errorf("admission serve: shutdown: %w", err)
	}
	fmt.Fprintln(env.Stderr, "charter admission: stopped")
	return nil
}

func newAdmissionCertsCmd(env Env) *cobra.Command {
	var service, namespace, out string
	var validity time.Duration
	cmd := &cobra.Command{
		Use:   "certs",
		Short: "Make a CA and a serving certificate for the webhook's Service",
		Long: "Make a CA and a serving certificate whose names are the ones the API server calls the\n" +
			"webhook by (SERVICE.NAMESPACE.svc and its other forms). Writes ca.crt, ca.key, tls.crt and\n" +
			"tls.key (keys mode 0600) into --out, and prints the base64 CA bundle for the webhook\n" +
			"configurations' caBundle on standard output.",
		Example: "  charter admission certs --service charter-admission --namespace charter-system --out ./tls\n" +
			"  kubectl -n charter-system create secret tls charter-admission-tls --cert tls/tls.crt --key tls/tls.key",
		Args: cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			if service == "" || namespace == "" || out == "" {
				return errors.New("admission certs: --service, --namespace and --out are required")
			}
			c, err := admission.MakeCerts(service, namespace, validity, env.Now())
			if err != nil {
				return fmt.Errorf("admission certs: %w", err)
			}
			if err := os.MkdirAll(out, 0o755); err != nil {
				return fmt.Errorf("admission certs: %w", err)
			}
			files := []struct {
				name string
				data []byte
				mode os.FileMode
			}{{"ca.crt", c.CACert, 0o644}, {"ca.key", c.CAKey, 0o600}, {"tls.crt", c.ServerCert, 0o644}, {"tls.key", c.Key, 0o600}}
			for _, f := range files {
				path := filepath.Join(out, f.name)
				if err := os.WriteFile(path, f.data, f.mode); err != nil {
					return fmt.Errorf("admission certs: %w", err)
				}
				if err := os.Chmod(path, f.mode); err != nil { // an existing file keeps its mode otherwise
					return fmt.Errorf("admission certs: %w", err)
				}
			}
			fmt.Fprintln(env.Stdout, base64.StdEncoding.EncodeToString(c.CACert))
			fmt.Fprintf(env.Stderr, "Wrote %s/{ca.crt,ca.key,tls.crt,tls.key}: serving certificate for %s, valid until %s.\n"+
				"The line above is the caBundle for the ValidatingWebhookConfiguration and MutatingWebhookConfiguration.\n",
				out, c.DNSNames[2], c.NotAfter.UTC().Format(time.DateOnly))
			return nil
		},
	}
	cmd.Flags().StringVar(&service, "service", "", "the webhook's Service `NAME`")
	cmd.Flags().StringVar(&namespace, "namespace", "", "the Service's `NAMESPACE`")
	cmd.Flags().StringVar(&out, "out", "", "`DIR` to write ca.crt, ca.key, tls.crt and tls.key to")
	cmd.Flags().DurationVar(&validity, "validity", 365*24*time.Hour, "how long the certificates are valid")
	return cmd
}
