// Package openai is the asr provider "openai": any server with OpenAI's
// POST /v1/audio/transcriptions (OpenAI itself, whisper.cpp's server,
// faster-whisper servers, LocalAI, vLLM). Such servers transcribe whole
// files, so streams are cut into utterances by the shared VAD
// (asr.NewSegmentedStream) and each utterance is posted as a 16 kHz WAV in
// a multipart form (file, model, language, response_format=verbose_json,
// timestamp_granularities[]=word and segment). verbose_json gives word and
// segment timings where the server has them; plain {"text"} is accepted
// too. Confidence is exp(avg_logprob) of the segments when present.
//
// Every utterance is its own request, so a server that fails for one
// utterance is simply asked again for the next: that utterance is missing
// from the transcript and the stream's Err reports it. A rejected key
// (HTTP 401/403) or unknown model (404), or max_failures failures in a
// row, end the stream early (Results closes before Close; see asr.Failer),
// so the IVR falls back to DTMF instead of waiting on a dead recogniser.
//
// Options: url (base, default https://api.openai.com/v1; ".../v1" or the
// server root both work), model (default whisper-1), language (ISO-639-1,
// default en; "auto" omits it), api_key (default: env
// CONTACTD_OPENAI_API_KEY; optional for local servers; never logged),
// timeout (per request, default 15s), response_format (default
// verbose_json), max_failures (default 3), silence_ms (VAD end of
// utterance, default 600).
package openai
