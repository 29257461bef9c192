package feeds

import (
	"bytes"
	"testing"
)

func FuzzParseChanges(f *testing.F) {
	f.Add([]byte("\"2024/icsma-24-151-01.json\",\"2024-09-10T10:00:00Z\"\n"))
	f.Add([]byte("\"../x.json\",\"2024-09-10T10:00:00Z\"\n"))
	f.Add([]byte("a,b,c\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		es, err := ParseChanges(bytes.NewReader(data), "changes.csv")
		if err != nil {
			return
		}
		for _, e := range es {
			if checkRelPath(e.URL) != nil {
				t.Fatalf("accepted unsafe path %q", e.URL)
			}
		}
	})
}

func FuzzParseIndex(f *testing.F) {
	f.Add([]byte("2024/icsma-24-151-01.json\n2023/a.json\n"))
	f.Add([]byte("/etc/passwd.json\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		es, err := ParseIndex(bytes.NewReader(data), "index.txt")
		if err != nil {
			return
		}
		for _, e := range es {
			if checkRelPath(e.URL) != nil {
				t.Fatalf("accepted unsafe path %q", e.URL)
			}
		}
	})
}

func FuzzParseIndexes(f *testing.F) {
	tr := buildTree(f, "https://example.org", csafDocs(f), treeOpts{rolie: true})
	f.Add(tr[".well-known/csaf/provider-metadata.json"])
	f.Add(tr[".well-known/csaf/feed-tlp-white.json"])
	f.Add([]byte(`{"aggregator":{},"csaf_providers":[{"metadata":{"url":"https://example.org/p.json"}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ParseProviderMetadata(bytes.NewReader(data), "pm")   //nolint:errcheck // must not panic
		ParseROLIE(bytes.NewReader(data), "rolie")           //nolint:errcheck // must not panic
		ParseAggregator(bytes.NewReader(data), "aggregator") //nolint:errcheck // must not panic
		detect(data)
	})
}
