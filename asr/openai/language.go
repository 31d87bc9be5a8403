package openai

import "strings"

// whisperLanguages maps the language names Whisper's verbose_json
// reports (openai/whisper tokenizer.py LANGUAGES) to ISO 639-1 codes.
var whisperLanguages = func() map[string]string {
	const table = `en english|zh chinese|de german|es spanish|ru russian|ko korean|fr french|ja japanese|
pt portuguese|tr turkish|pl polish|ca catalan|nl dutch|ar arabic|sv swedish|it italian|id indonesian|
hi hindi|fi finnish|vi vietnamese|he hebrew|uk ukrainian|el greek|ms malay|cs czech|ro romanian|
da danish|hu hungarian|ta tamil|no norwegian|th thai|ur urdu|hr croatian|bg bulgarian|lt lithuanian|
la latin|mi maori|ml malayalam|cy welsh|sk slovak|te telugu|fa persian|lv latvian|bn bengali|
sr serbian|az azerbaijani|sl slovenian|kn kannada|et estonian|mk macedonian|br breton|eu basque|
is icelandic|hy armenian|ne nepali|mn mongolian|bs bosnian|kk kazakh|sq albanian|sw swahili|
gl galician|mr marathi|pa punjabi|si sinhala|km khmer|sn shona|yo yoruba|so somali|af afrikaans|
oc occitan|ka georgian|be belarusian|tg tajik|sd sindhi|gu gujarati|am amharic|yi yiddish|lo lao|
uz uzbek|fo faroese|ht haitian creole|ps pashto|tk turkmen|nn nynorsk|mt maltese|sa sanskrit|
lb luxembourgish|my myanmar|bo tibetan|tl tagalog|mg malagasy|as assamese|tt tatar|haw hawaiian|
ln lingala|ha hausa|ba bashkir|jw javanese|su sundanese|yue cantonese`
	m := map[string]string{}
	for _, e := range strings.Split(strings.ReplaceAll(table, "\n", ""), "|") {
		code, name, _ := strings.Cut(strings.TrimSpace(e), " ")
		m[name] = code
	}
	// Whisper's aliases.
	for alias, code := range map[string]string{"burmese": "my", "valencian": "ca", "flemish": "nl",
		"haitian": "ht", "letzeburgesch": "lb", "pushto": "ps", "panjabi": "pa", "moldavian": "ro",
		"moldovan": "ro", "sinhalese": "si", "castilian": "es", "mandarin": "zh"} {
		m[alias] = code
	}
	return m
}()

// languageCode turns what a transcription server says the language was
// ("spanish", "es", "es-MX", "Spanish") into an ISO 639-1 code; "" when it
// says nothing or something unknown.
func languageCode(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return ""
	}
	if c, ok := whisperLanguages[s]; ok {
		return c
	}
	if base, _, _ := strings.Cut(strings.ReplaceAll(s, "_", "-"), "-"); languageCodes[base] {
		return base
	}
	return ""
}

var languageCodes = func() map[string]bool {
	m := map[string]bool{}
	for _, c := range whisperLanguages {
		m[c] = true
	}
	return m
}()
