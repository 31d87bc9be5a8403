// Package kb is the IVR's knowledge base: short markdown articles in the
// config directory (config/kb/*.md, one sub-directory per extra language,
// e.g. config/kb/es/*.md) split into passages and searched with BM25.
//
// Each article's first "# " heading is its title; every "## " section (or,
// when a section is long, each of its paragraphs) is one passage, indexed
// together with the article's title and the section's heading so that a
// question naming the topic finds it. Tokens are lower-cased words, minus
// stop words, stemmed lightly (plural, -ing, -ed, -ly) so that "deliveries"
// meets "delivery".
//
// Scores are BM25 divided by the best score the query could reach (every
// query term matched at its highest weight), so they fall in [0, 1] and one
// threshold works for short and long questions alike. The IVR speaks the
// best passage above a threshold; the agent desktop shows the top k as
// knowledge suggestions.
package kb
