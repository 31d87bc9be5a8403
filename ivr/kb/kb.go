package kb

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path"
	"sort"
	"strings"
	"unicode"
)

// Hit is one passage found by Search.
type Hit struct {
	Title   string  `json:"title"`   // the article's title
	Heading string  `json:"heading"` // the section's heading, "" for the intro
	Passage string  `json:"passage"` // plain text, markdown removed
	Score   float64 `json:"score"`   // in [0, 1]; see the package doc
	Path    string  `json:"path"`    // the article's file, relative to the KB dir
}

// ErrEmpty is returned by Load when a directory holds no article.
var ErrEmpty = errors.New("kb: no articles")

// BM25 parameters: the usual values; passages are short and similar in
// length, so b matters little.
const (
	k1 = 1.2
	b  = 0.75
	// maxPassage is the length above which a section is split into its
	// paragraphs.
	maxPassage = 600
)

type passage struct {
	title, heading, text, path string
	tf                         map[string]int
	length                     int
}

// Index is a searchable set of passages. It is read-only after Load and
// safe for concurrent use.
type Index struct {
	passages []passage
	df       map[string]int
	avgLen   float64
}

// Load reads every *.md file directly in dir of fsys (not sub-directories).
func Load(fsys fs.FS, dir string) (*Index, error) {
	names, err := fs.Glob(fsys, path.Join(dir, "*.md"))
	if err != nil {
		return nil, fmt.Errorf("kb: %s: %w", dir, err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%w in %s", ErrEmpty, dir)
	}
	sort.Strings(names)
	var docs []Article
	for _, n := range names {
		data, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, fmt.Errorf("kb: %w", err)
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(n, dir), "/")
		docs = append(docs, Article{Path: rel, Markdown: string(data)})
	}
	return New(docs)
}

// Article is one markdown document.
type Article struct {
	Path     string
	Markdown string
}

// New indexes articles. An article without any text is an error naming it.
func New(articles []Article) (*Index, error) {
	ix := &Index{df: map[string]int{}}
	for _, a := range articles {
		ps := split(a)
		if len(ps) == 0 {
			return nil, fmt.Errorf("kb: %s: no text", a.Path)
		}
		ix.passages = append(ix.passages, ps...)
	}
	if len(ix.passages) == 0 {
		return nil, ErrEmpty
	}
	total := 0
	for i := range ix.passages {
		p := &ix.passages[i]
		toks := Tokenize(p.title + " " + p.heading + " " + p.text)
		p.tf = map[string]int{}
		for _, t := range toks {
			p.tf[t]++
		}
		p.length = len(toks)
		total += len(toks)
		for t := range p.tf {
			ix.df[t]++
		}
	}
	ix.avgLen = float64(total) / float64(len(ix.passages))
	return ix, nil
}

// Len is the number of passages.
func (ix *Index) Len() int { return len(ix.passages) }

func (ix *Index) idf(t string) float64 {
	n := float64(len(ix.passages))
	df := float64(ix.df[t])
	return math.Log(1 + (n-df+0.5)/(df+0.5))
}

// Search returns up to k passages for query, best first, leaving out those
// that share no word with it. Scores are normalised to [0, 1].
func (ix *Index) Search(query string, k int) []Hit {
	if ix == nil || k <= 0 {
		return nil
	}
	q := map[string]bool{}
	for _, t := range Tokenize(query) {
		q[t] = true
	}
	if len(q) == 0 {
		return nil
	}
	// A word no article uses counts half: it may be filler the stop list
	// missed, but a question made mostly of such words is off topic.
	var best float64
	for t := range q {
		w := ix.idf(t) * (k1 + 1)
		if ix.df[t] == 0 {
			w /= 2
		}
		best += w
	}
	type scored struct {
		i int
		s float64
	}
	var res []scored
	for i, p := range ix.passages {
		var s float64
		for t := range q {
			f := float64(p.tf[t])
			if f == 0 {
				continue
			}
			s += ix.idf(t) * f * (k1 + 1) / (f + k1*(1-b+b*float64(p.length)/ix.avgLen))
		}
		if s > 0 {
			res = append(res, scored{i, s / best})
		}
	}
	sort.SliceStable(res, func(a, c int) bool { return res[a].s > res[c].s })
	if len(res) > k {
		res = res[:k]
	}
	hits := make([]Hit, len(res))
	for j, r := range res {
		p := ix.passages[r.i]
		hits[j] = Hit{Title: p.title, Heading: p.heading, Passage: p.text, Score: math.Min(1, r.s), Path: p.path}
	}
	return hits
}

// split cuts an article into passages.
func split(a Article) []passage {
	title := strings.TrimSuffix(path.Base(a.Path), ".md")
	var out []passage
	heading := ""
	var body []string
	flush := func() {
		text := strings.TrimSpace(strings.Join(body, "\n"))
		body = body[:0]
		if text == "" {
			return
		}
		paras := []string{text}
		if len(text) > maxPassage {
			paras = strings.Split(text, "\n\n")
		}
		for _, para := range paras {
			if t := plain(para); t != "" {
				out = append(out, passage{heading: heading, text: t, path: a.Path})
			}
		}
	}
	for _, line := range strings.Split(strings.ReplaceAll(a.Markdown, "\r\n", "\n"), "\n") {
		trim := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trim, "# "):
			flush()
			title = strings.TrimSpace(trim[2:])
		case strings.HasPrefix(trim, "#"):
			flush()
			heading = strings.TrimSpace(strings.TrimLeft(trim, "#"))
		default:
			body = append(body, line)
		}
	}
	flush()
	for i := range out {
		out[i].title = title
	}
	return out
}

// plain removes markdown: list markers, emphasis, links (keeping their
// text), code ticks, and joins lines into sentences.
func plain(md string) string {
	var parts []string
	for _, line := range strings.Split(md, "\n") {
		l := strings.TrimSpace(line)
		if l == "" {
			continue
		}
		for _, p := range []string{"- ", "* ", "+ ", "> "} {
			l = strings.TrimPrefix(l, p)
		}
		if i := strings.Index(l, ". "); i > 0 && i < 4 && strings.Trim(l[:i], "0123456789") == "" {
			l = l[i+2:]
		}
		l = strings.NewReplacer("**", "", "__", "", "`", "", "*", "").Replace(l)
		l = stripLinks(l)
		if l != "" && !strings.ContainsAny(l[len(l)-1:], ".!?:;") {
			l += "."
		}
		parts = append(parts, l)
	}
	return strings.Join(parts, " ")
}

// stripLinks turns [text](url) into text.
func stripLinks(s string) string {
	for {
		i := strings.Index(s, "](")
		if i < 0 {
			return s
		}
		open := strings.LastIndex(s[:i], "[")
		end := strings.Index(s[i:], ")")
		if open < 0 || end < 0 {
			return s
		}
		s = s[:open] + s[open+1:i] + s[i+end+1:]
	}
}

// Speakable shortens a passage for a voice prompt: whole sentences up to
// about max characters (at least one sentence).
func Speakable(passage string, max int) string {
	var b strings.Builder
	rest := strings.TrimSpace(passage)
	for rest != "" {
		end := len(rest)
		for i, r := range rest {
			if (r == '.' || r == '!' || r == '?') && (i+1 == len(rest) || rest[i+1] == ' ') {
				end = i + 1
				break
			}
		}
		sentence := rest[:end]
		if b.Len() > 0 && b.Len()+1+len(sentence) > max {
			break
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(sentence)
		rest = strings.TrimSpace(rest[end:])
	}
	return b.String()
}

// stopwords are English and Spanish function words; they never decide a
// match.
var stopwords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a an the i im me my we our you your it its is are was were be been am do does did
to of in on at for from with about and or but so if then than this that these those there here what whats when where
who why how can could would should will wont may might must please hi hello hey yes no not just like want need get got
have has had some any thanks thank um uh okay ok well oh really very also still again now long much many
something anything come take tell know go going make let say see look use thing things up out back
el la los las un una unos unas de del y o que en por para con mi mis su sus es son está esta estoy como cómo qué
cuando cuándo dónde donde hola gracias quiero necesito puedo se me lo le al por favor`) {
		m[w] = true
	}
	return m
}()

// Tokenize lower-cases text, splits it into words, drops stop words and
// stems what is left.
func Tokenize(text string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\''
	}) {
		w = strings.ReplaceAll(strings.Trim(w, "'"), "'", "")
		if w == "" || stopwords[w] {
			continue
		}
		out = append(out, Stem(w))
	}
	return out
}

// Stem strips a few suffixes so that inflected forms meet. It is crude on
// purpose: only collisions matter, not real words.
func Stem(w string) string {
	switch {
	case len(w) > 5 && strings.HasSuffix(w, "ing"):
		w = w[:len(w)-3]
	case len(w) > 4 && strings.HasSuffix(w, "ies"):
		w = w[:len(w)-3] + "y"
	case len(w) > 4 && strings.HasSuffix(w, "ly"):
		w = w[:len(w)-2]
	case len(w) > 4 && strings.HasSuffix(w, "ed"):
		w = w[:len(w)-2]
	case len(w) > 4 && strings.HasSuffix(w, "es") && strings.ContainsAny(w[len(w)-3:len(w)-2], "sxz"):
		w = w[:len(w)-2]
	case len(w) > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") && !strings.HasSuffix(w, "us"):
		w = w[:len(w)-1]
	}
	if len(w) > 4 && strings.HasSuffix(w, "e") {
		w = w[:len(w)-1] // "deliver"/"delivered" vs "returne": drop a final e
	}
	return w
}

// Texts returns the plain text of every title, heading and passage, in
// article order, each once: what a recogniser's language model learns the
// knowledge base's words from.
func (ix *Index) Texts() []string {
	if ix == nil {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for _, p := range ix.passages {
		for _, s := range []string{p.title, p.heading, p.text} {
			if s != "" && !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	return out
}
