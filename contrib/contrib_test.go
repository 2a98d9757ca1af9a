// Package contrib holds files for installing davshare (a systemd unit, a
// sample configuration); this test keeps them honest against the config
// package.
package contrib_test

import (
	"bufio"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/davshare/davshare/config"
)

// keys lists every TOML key of config.Config, "section.key" or "key".
func keys() []string {
	var out []string
	t := reflect.TypeFor[config.Config]()
	for i := range t.NumField() {
		f := t.Field(i)
		name := f.Tag.Get("toml")
		if f.Type.Kind() != reflect.Struct {
			out = append(out, name)
			continue
		}
		for j := range f.Type.NumField() {
			out = append(out, name+"."+f.Type.Field(j).Tag.Get("toml"))
		}
	}
	return out
}

// TestSampleConfig: the sample loads, sets every key there is, and (where
// it keeps a default) says so truthfully.
func TestSampleConfig(t *testing.T) {
	cfg, err := config.Load("davshare.toml", nil)
	if err != nil {
		t.Fatalf("config.Load(davshare.toml): %v", err)
	}
	var raw map[string]any
	md, err := toml.DecodeFile("davshare.toml", &raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys() {
		if !md.IsDefined(strings.Split(k, ".")...) {
			t.Errorf("the sample does not show %s", k)
		}
	}
	// Everything but the data directory is the default, so that the
	// sample documents the defaults.
	def := config.Default()
	def.Data = cfg.Data
	if cfg != def {
		t.Errorf("the sample differs from the defaults beyond data:\n got %+v\nwant %+v", cfg, def)
	}
}

// unit reads the systemd unit into key → values (a key may repeat).
func unit(t *testing.T) map[string][]string {
	t.Helper()
	f, err := os.Open("davshare.service")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == '[' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Errorf("unit line without '=': %q", line)
			continue
		}
		out[k] = append(out[k], v)
	}
	return out
}

func TestSystemdUnit(t *testing.T) {
	u := unit(t)
	cfg, err := config.Load("davshare.toml", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"User": "davshare", "Group": "davshare", "Restart": "on-failure",
		"NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
		"KillSignal": "SIGTERM", "CapabilityBoundingSet": "",
	}
	for k, v := range want {
		if !slices.Contains(u[k], v) {
			t.Errorf("%s=%s missing (have %q)", k, v, u[k])
		}
	}
	if rw := strings.Fields(strings.Join(u["ReadWritePaths"], " ")); !slices.Contains(rw, cfg.Data) {
		t.Errorf("ReadWritePaths %q does not include the sample's data directory %s", rw, cfg.Data)
	}
	if len(u["ExecStart"]) != 1 || !strings.Contains(u["ExecStart"][0], "serve --config /etc/davshare/davshare.toml") {
		t.Errorf("ExecStart %q", u["ExecStart"])
	}
	stop, err := time.ParseDuration(strings.Join(u["TimeoutStopSec"], ""))
	if err != nil {
		t.Fatalf("TimeoutStopSec: %v", err)
	}
	if grace := time.Duration(cfg.Limits.ShutdownTimeout); stop < grace+2*time.Second {
		t.Errorf("TimeoutStopSec %v leaves no margin over limits.shutdown_timeout %v", stop, grace)
	}
}
