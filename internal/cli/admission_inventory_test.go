package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/charterhq/charter/internal/imagecheck/imagetest"
	"github.com/charterhq/charter/internal/inventory"
	"github.com/charterhq/charter/internal/testutil"
)

// An image with log4j-core 2.14.1 is added to the inventory from the registry, admitted
// by `charter admission serve --inventory`, and `charter inventory query` and `affected`
// then say where it runs: on SQLite, and on the PostgreSQL scripts/it/inventory.sh starts.
func TestAdmissionInventorySQLite(t *testing.T) {
	testAdmissionInventory(t, filepath.Join(t.TempDir(), "inventory.db"))
}

func TestAdmissionInventoryPostgres(t *testing.T) {
	testAdmissionInventory(t, postgresSchema(t, "admission"))
}

func testAdmissionInventory(t *testing.T, db string) {
	advisory, err := filepath.Abs(filepath.Join("..", "inventory", "testdata", "GHSA-jfh8-c2jx-5x3c.json"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	host := testRegistryHost(t)
	ref := host + "/shop/api:1.0"
	img := imagetest.Image(t, v1.Config{User: "65532"}, imagetest.Step{CreatedBy: log4jStep, Layer: imagetest.Layer(t,
		imagetest.Dir("app/"), imagetest.Dir("app/lib/"),
		imagetest.File("app/lib/log4j-core-2.14.1.jar", jar(t, "org.apache.logging.log4j", "log4j-core", "2.14.1")))})
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatal(err)
	}
	pw := map[string]string{"CHARTER_PASSWORD": testPassword}
	if code, _, errOut := signEnv(t, dir, pw, "", "keygen"); code != 0 {
		t.Fatalf("keygen: %s", errOut)
	}
	if code, _, errOut := signEnv(t, dir, pw, "", "sign", "--key", "cosign.key", "--insecure-registry", host, ref); code != 0 {
		t.Fatalf("sign: %s", errOut)
	}
	vars := map[string]string{"CHARTER_CACHE_DIR": t.TempDir()}
	if code, out, errOut := charterWith(t, vars, "inventory", "add", "--db", db, "--insecure-registry", host, "registry:"+ref); code != 0 {
		t.Fatalf("inventory add: exit %d: %s%s", code, out, errOut)
	}
	code, out, errOut := run(t, dir, "", "admission", "certs", "--service", "localhost", "--namespace", "test", "--out", "tls")
	if code != 0 {
		t.Fatalf("certs: exit %d: %s", code, errOut)
	}
	caPEM, err := base64.StdEncoding.DecodeString(strings.TrimSpace(out))
	if err != nil {
		t.Fatal(err)
	}
	writeTestFile(t, filepath.Join(dir, "charter.yaml"), "version: 1\nsigning:\n  keys: [./cosign.pub]\n")

	var stdout, stderr testutil.SyncBuffer
	env := Env{Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }, Now: time.Now}
	ctx, cancel := context.WithCancel(context.Background())
	exited := make(chan int, 1)
	go func() {
		exited <- Run(ctx, []string{"admission", "serve", "--listen", "127.0.0.1:0", "--insecure-registry", host,
			"--tls-cert", filepath.Join(dir, "tls", "tls.crt"), "--tls-key", filepath.Join(dir, "tls", "tls.key"),
			"--charter", filepath.Join(dir, "charter.yaml"), "--inventory", db, "--cluster", "prod-eu"}, env)
	}()
	addr := waitServing(t, &stderr, exited)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{ForceAttemptHTTP2: true,
		TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "localhost.test.svc", MinVersion: tls.VersionTLS12}}}
	if allowed, msg, _ := postPod(t, client, "https://"+addr+"/validate", ref); !allowed {
		t.Fatalf("denied: %s", msg)
	}
	cancel()
	waitStopped(t, &stderr, exited)

	code, out, errOut = charterWith(t, vars, "inventory", "query", "--db", db, "--purl", "pkg:maven/org.apache.logging.log4j/log4j-core", "--range", "<2.17.1")
	if code != 0 || !strings.Contains(out, "prod-eu/shop/Pod/web") || !strings.Contains(out, "1 of them running") {
		t.Errorf("query: exit %d, want the image running in prod-eu/shop/Pod/web:\n%s%s", code, out, errOut)
	}
	code, out, errOut = charterWith(t, vars, "inventory", "affected", "--db", db, advisory, "-o", "csv")
	if code != 1 || !strings.Contains(out, "prod-eu/shop/Pod/web") {
		t.Errorf("affected: exit %d, want 1 and where it runs:\n%s%s", code, out, errOut)
	}
}

// An inventory that cannot be opened when the webhook starts does not stop it: it is
// said once, and writes fail (counted by the webhook) until it can be opened.
func TestAdmissionInventoryDownAtStart(t *testing.T) {
	var logs testutil.SyncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	env := Env{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }, Now: time.Now}
	f := admissionInventory{db: dbFlag{location: "postgres://charter:s3cret-pw@127.0.0.1:1/inventory?connect_timeout=2"}, cluster: "prod-eu"}
	inv, err := f.open(context.Background(), env, logger)
	if err != nil || inv == nil {
		t.Fatalf("open = %v, %v; want a webhook that starts", inv, err)
	}
	if !strings.Contains(logs.String(), "cannot be opened now") || strings.Contains(logs.String(), "s3cret-pw") {
		t.Errorf("the warning does not say so, or shows the password: %s", logs.String())
	}
	d := inventory.Deployment{Digest: "sha256:aa", Namespace: "shop", Workload: "Pod/web"}
	if err := inv.RecordDeployments(context.Background(), []inventory.Deployment{d}); err == nil {
		t.Error("a write to an inventory that could not be opened succeeded")
	}
	if err := inv.Close(); err != nil {
		t.Errorf("Close of an inventory never opened: %v", err)
	}
	if code, _, errOut := charterWith(t, nil, "admission", "serve", "--tls-cert", "c", "--tls-key", "k", "--cluster", "prod-eu"); code != 2 ||
		!strings.Contains(errOut, "give --inventory too") {
		t.Errorf("--cluster without --inventory: exit %d: %s", code, errOut)
	}
}
