package kb

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
)

// Library holds one Index per language. The articles directly in the KB
// directory are the default language's; each sub-directory whose name is a
// language code ("es", "fr") holds that language's.
type Library struct {
	def    string
	byLang map[string]*Index
}

// LoadLibrary loads dir of fsys: the *.md files in it under the language
// def, and each sub-directory with *.md files under its own name.
func LoadLibrary(fsys fs.FS, dir, def string) (*Library, error) {
	l := &Library{def: def, byLang: map[string]*Index{}}
	root, err := Load(fsys, dir)
	if err != nil {
		return nil, err
	}
	l.byLang[def] = root
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("kb: %w", err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		ix, err := Load(fsys, path.Join(dir, e.Name()))
		if errors.Is(err, ErrEmpty) {
			continue
		}
		if err != nil {
			return nil, err
		}
		l.byLang[e.Name()] = ix
	}
	return l, nil
}

// NewLibrary makes a library from indexes per language; def must be one of
// them.
func NewLibrary(def string, byLang map[string]*Index) (*Library, error) {
	if byLang[def] == nil {
		return nil, fmt.Errorf("kb: no index for the default language %q", def)
	}
	return &Library{def: def, byLang: byLang}, nil
}

// Languages lists the languages with articles, sorted.
func (l *Library) Languages() []string {
	var out []string
	for k := range l.byLang {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Search searches the default language's articles; it is what the agent
// desktop's knowledge suggestions call.
func (l *Library) Search(query string, k int) []Hit {
	return l.SearchLang(l.def, query, k)
}

// SearchLang searches lang's articles, or the default language's when lang
// has none.
func (l *Library) SearchLang(lang, query string, k int) []Hit {
	if l == nil {
		return nil
	}
	ix := l.byLang[lang]
	if ix == nil {
		ix = l.byLang[l.def]
	}
	hits := ix.Search(query, k)
	for i := range hits {
		if lang != l.def && l.byLang[lang] != nil {
			hits[i].Path = path.Join(lang, hits[i].Path)
		}
	}
	return hits
}

// Texts is Index.Texts of the default language's articles.
func (l *Library) Texts() []string {
	if l == nil {
		return nil
	}
	return l.byLang[l.def].Texts()
}
