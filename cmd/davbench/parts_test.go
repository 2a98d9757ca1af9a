package main

import (
	"bytes"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestHistogramQuantiles(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var h, a, b histogram
	var all []int64
	for i := range 100_000 {
		// Log-normal-ish latencies from 1µs to about a second.
		v := int64(math.Exp(r.Float64()*14) * 1000)
		all = append(all, v)
		h.record(time.Duration(v))
		if i%2 == 0 {
			a.record(time.Duration(v))
		} else {
			b.record(time.Duration(v))
		}
	}
	a.merge(&b)
	slices.Sort(all)
	for _, q := range []float64{0.01, 0.5, 0.9, 0.99, 0.999, 1} {
		exact := all[int(math.Ceil(q*float64(len(all))))-1]
		for name, hh := range map[string]*histogram{"one": &h, "merged": &a} {
			got := int64(hh.quantile(q))
			if rel := math.Abs(float64(got-exact)) / float64(exact); rel > 0.02 {
				t.Errorf("%s: q%v = %d, exact %d (%.1f%% off)", name, q, got, exact, rel*100)
			}
		}
	}
	if h.n != 100_000 || a.n != h.n || a.min != h.min || a.max != h.max {
		t.Errorf("n %d/%d, min %d/%d, max %d/%d", h.n, a.n, h.min, a.min, h.max, a.max)
	}
	var empty histogram
	if empty.quantile(0.5) != 0 {
		t.Error("empty histogram: quantile not 0")
	}
	var small histogram
	for _, v := range []time.Duration{3, 5, 7} {
		small.record(v)
	}
	if small.quantile(0.5) != 5 || small.quantile(1) != 7 {
		t.Errorf("small values: p50 %v, p100 %v; want exact", small.quantile(0.5), small.quantile(1))
	}
	for v := int64(0); v < 1<<20; v = v*2 + 1 {
		if i := bucketOf(v); bucketMid(i) > v+v/32+1 || bucketMid(i) < v-v/32-1 {
			t.Errorf("bucket of %d: mid %d", v, bucketMid(i))
		}
	}
	if i := bucketOf(math.MaxInt64); i >= len(h.counts) {
		t.Errorf("bucket of MaxInt64: %d", i)
	}
}

// TestTagCounter: responses are counted the same however the body is cut.
func TestTagCounter(t *testing.T) {
	body := `<D:multistatus xmlns:D="DAV:"><D:response><D:href>/a</D:href></D:response>` +
		`<response xmlns="DAV:"><href>/b</href><responsedescription>x</responsedescription></response>` +
		`<ns0:response><ns0:href>/c</ns0:href></ns0:response>` +
		`<D:response><D:href>/d</D:href><x:myresponse>1</x:myresponse></D:response>` +
		`<a:response><a:href>/e</a:href></a:response>` +
		"</D:multistatus>"
	for chunk := 1; chunk <= len(body); chunk++ {
		var c tagCounter
		for i := 0; i < len(body); i += chunk {
			c.Write([]byte(body[i:min(i+chunk, len(body))]))
		}
		if c.count() != 5 {
			t.Fatalf("chunks of %d: %d responses, want 5", chunk, c.count())
		}
	}
}

func TestPattern(t *testing.T) {
	const n = 3*64<<10 + 123
	a, err := io.ReadAll(newPattern(n)) // Read only
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if m, err := newPattern(n).WriteTo(&b); err != nil || m != n {
		t.Fatalf("WriteTo: %d, %v", m, err)
	}
	if len(a) != n || !bytes.Equal(a, b.Bytes()) {
		t.Fatalf("Read gave %d bytes, WriteTo %d, equal %v", len(a), b.Len(), bytes.Equal(a, b.Bytes()))
	}
	if !bytes.Equal(a[64<<10:2*64<<10], pattern) || bytes.Equal(pattern[:4096], pattern[4096:8192]) {
		t.Error("not the repeated 64 KiB pattern")
	}
}

func TestParseStatus(t *testing.T) {
	st, err := parseStatus([]byte("Name:\tdavshare\nVmPeak:\t  99999 kB\nVmHWM:\t   40000 kB\nVmRSS:\t   30000 kB\nThreads:\t9\n"))
	if err != nil || st.rss != 30000<<10 || st.hwm != 40000<<10 {
		t.Errorf("parseStatus: %+v, %v", st, err)
	}
	if _, err := parseStatus([]byte("Name:\tkthreadd\nState:\tS\n")); err == nil {
		t.Error("no VmRSS: no error")
	}
	self, err := readStatus(os.Getpid())
	if err != nil || self.rss <= 0 || self.hwm < self.rss {
		t.Errorf("own status: %+v, %v", self, err)
	}
	s := startRSS(os.Getpid())
	buf := make([]byte, 32<<20) // touch 32 MB: the peak must see it
	for i := 0; i < len(buf); i += 4096 {
		buf[i] = 1
	}
	time.Sleep(3 * rssInterval)
	p := s.stop()
	if p.before <= 0 || p.peak < p.before || (s.hwmReset && p.peak < 32<<20) {
		t.Errorf("sampled %+v (HWM reset %v)", p, s.hwmReset)
	}
	_ = buf[len(buf)-1]
}

func TestLabels(t *testing.T) {
	for n, want := range map[int]string{10_000: "10k", 1_000: "1k", 100_000: "100k", 300: "300", 1500: "1500"} {
		if got := countLabel(n); got != want {
			t.Errorf("countLabel(%d) = %q, want %q", n, got, want)
		}
	}
	for n, want := range map[int64]string{4096: "4k", 64 << 20: "64m", 256 << 20: "256m", 100: "100"} {
		if got := sizeLabel(n); got != want {
			t.Errorf("sizeLabel(%d) = %q, want %q", n, got, want)
		}
	}
	var ids []string
	for _, sc := range scenarios(defaultSizes) {
		ids = append(ids, sc.id)
	}
	want := "propfind-10k propfind-1k propfind-file get-4k get-64m put-256m put-4k mkcol-delete move propfind-100k"
	if got := strings.Join(ids, " "); got != want {
		t.Errorf("scenarios: %s\nwant %s", got, want)
	}
}

func TestSelectScenarios(t *testing.T) {
	names := func(cfg config) string {
		cfg.sizes = defaultSizes
		scs, err := selectScenarios(cfg)
		if err != nil {
			return "error: " + err.Error()
		}
		var ids []string
		for _, sc := range scs {
			ids = append(ids, sc.id)
		}
		return strings.Join(ids, " ")
	}
	for _, tc := range []struct {
		cfg  config
		want string
	}{
		{config{big: true}, "propfind-10k propfind-1k propfind-file get-4k get-64m put-256m put-4k mkcol-delete move"},
		{config{big: false}, "propfind-10k propfind-1k propfind-file get-4k put-4k mkcol-delete move"},
		{config{big: true, scenarios: "all"}, "propfind-10k propfind-1k propfind-file get-4k get-64m put-256m put-4k mkcol-delete move propfind-100k"},
		{config{big: true, scenarios: "move, propfind-100k,get-4k"}, "get-4k move propfind-100k"},
		{config{big: false, scenarios: "put-256m"}, "error: --scenarios: nothing selected (the large transfers need --big)"},
	} {
		if got := names(tc.cfg); got != tc.want {
			t.Errorf("%+v: %s\nwant %s", tc.cfg, got, tc.want)
		}
	}
}
