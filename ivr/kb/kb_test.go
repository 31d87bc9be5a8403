package kb

import (
	"errors"
	"os"
	"strings"
	"testing"
	"testing/fstest"
)

func demo(t *testing.T) *Library {
	t.Helper()
	l, err := LoadLibrary(os.DirFS("../../config"), "kb", "en")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestSearchDemoArticles(t *testing.T) {
	l := demo(t)
	tests := []struct {
		lang, query, wantPath, wantHeading string
	}{
		{"en", "how long does standard delivery take", "delivery-times.md", "Standard delivery"},
		{"en", "when are your phone lines open on saturday", "opening-hours.md", "Phone lines"},
		{"en", "i forgot my password how do i reset it", "reset-password.md", "Forgotten password"},
		{"en", "the light on my router is flashing orange", "router-lights.md", "Flashing orange or amber light"},
		{"en", "when is the direct debit taken from my account", "billing-dates.md", "When you are billed"},
		{"en", "how many days do i have to return something", "returns-policy.md", ""},
		{"en", "how long do refunds take to come back", "returns-policy.md", "Refund times"},
		{"en", "where do i find the wifi password", "wifi-password.md", "Where to find it"},
		{"es", "cuánto tarda la entrega", "es/plazos-de-entrega.md", "Entrega estándar"},
		{"es", "horario de teléfono", "es/horario.md", "Teléfono"},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			hits := l.SearchLang(tc.lang, tc.query, 3)
			if len(hits) == 0 {
				t.Fatal("no hits")
			}
			h := hits[0]
			if h.Path != tc.wantPath || (tc.wantHeading != "" && h.Heading != tc.wantHeading) {
				t.Fatalf("best = %s / %s (%.2f), want %s / %s; all %+v", h.Path, h.Heading, h.Score, tc.wantPath, tc.wantHeading, hits)
			}
			if h.Score < 0.3 || h.Score > 1 {
				t.Fatalf("score %.2f out of the expected range", h.Score)
			}
			for i := 1; i < len(hits); i++ {
				if hits[i].Score > hits[i-1].Score {
					t.Fatalf("hits not sorted: %+v", hits)
				}
			}
		})
	}
}

func TestOffTopicScoresLow(t *testing.T) {
	l := demo(t)
	for _, q := range []string{"what is the capital of france", "play me a song", "", "the and of"} {
		if hits := l.Search(q, 1); len(hits) > 0 && hits[0].Score >= 0.25 {
			t.Errorf("%q: best %q scores %.2f", q, hits[0].Heading, hits[0].Score)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	fsys := fstest.MapFS{
		"kb/empty.md": {Data: []byte("# Only a title\n")},
		"none/x.txt":  {Data: []byte("hi")},
	}
	if _, err := Load(fsys, "kb"); err == nil || !strings.Contains(err.Error(), "empty.md: no text") {
		t.Fatalf("empty article: err = %v", err)
	}
	if _, err := Load(fsys, "none"); !errors.Is(err, ErrEmpty) {
		t.Fatalf("no articles: err = %v", err)
	}
}

func TestMarkdownToPlainAndSpeakable(t *testing.T) {
	ix, err := New([]Article{{Path: "a.md", Markdown: "# Title\n\n## Steps\n- **Open** the [account page](https://x)\n- press `Save`\n\n1. Done now\n"}})
	if err != nil {
		t.Fatal(err)
	}
	hits := ix.Search("account page", 1)
	if len(hits) != 1 || hits[0].Passage != "Open the account page. press Save. Done now." || hits[0].Title != "Title" {
		t.Fatalf("hits = %+v", hits)
	}
	if got := Speakable("One two. Three four. Five six.", 20); got != "One two. Three four." {
		t.Fatalf("Speakable = %q", got)
	}
	if got := Speakable("A very long first sentence here.", 5); got != "A very long first sentence here." {
		t.Fatalf("Speakable keeps one sentence: %q", got)
	}
}

func TestStem(t *testing.T) {
	for _, group := range [][]string{{"deliver", "delivered", "delivering"}, {"delivery", "deliveries"}, {"return", "returns", "returned", "returning"}, {"charge", "charges", "charged"}, {"box", "boxes"}} {
		for _, w := range group[1:] {
			if Stem(w) != Stem(group[0]) {
				t.Errorf("Stem(%q)=%q, Stem(%q)=%q", w, Stem(w), group[0], Stem(group[0]))
			}
		}
	}
}

func TestTexts(t *testing.T) {
	l, err := LoadLibrary(fstest.MapFS{
		"kb/a.md":    {Data: []byte("# Returns\n\nSend it back within **30 days**.\n\n## Labels\nPrint a [label](https://x.example/l).\n")},
		"kb/es/b.md": {Data: []byte("# Devoluciones\n\nEn treinta días.\n")},
	}, "kb", "en")
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(l.Texts(), "|")
	if want := "Returns|Send it back within 30 days.|Labels|Print a label."; got != want {
		t.Errorf("texts %q, want %q (default language only, markdown removed, each once)", got, want)
	}
	var none *Library
	if none.Texts() != nil {
		t.Error("nil library: want no texts")
	}
}
