package ivr

import "github.com/contactd/contactd/ivr/slots"

// ParseDigits turns a spoken digit string into digits ("five eight two one
// three" → "58213", "double five" → "55"); see slots.ParseDigits.
func ParseDigits(text string) string { return slots.ParseDigits(text) }

// ExtractOrderNumber finds an order number of 4 to 10 digits in what the
// caller said; see slots.ExtractOrderNumber.
func ExtractOrderNumber(text string) (string, bool) { return slots.ExtractOrderNumber(text) }

// ParseYesNo reads a yes/no answer; ok is false when text is neither. See
// slots.ParseYesNo.
func ParseYesNo(text string) (yes, ok bool) { return slots.ParseYesNo(text) }
