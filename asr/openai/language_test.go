package openai

import "testing"

func TestLanguageCode(t *testing.T) {
	for in, want := range map[string]string{"english": "en", "Spanish": "es", "es": "es", "es-MX": "es", "pt_BR": "pt",
		"castilian": "es", "haitian creole": "ht", "": "", "klingon": "", "xx": "", "e": ""} {
		if got := languageCode(in); got != want {
			t.Errorf("languageCode(%q) = %q, want %q", in, got, want)
		}
	}
}
