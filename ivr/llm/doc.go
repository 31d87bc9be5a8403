// Package llm understands callers with a large language model behind an
// OpenAI-compatible chat-completions endpoint (Ollama, vLLM, llama.cpp
// server, OpenAI): POST {url}/v1/chat/completions with response_format
// {type: json_schema} so that the reply is {"intent", "confidence",
// "slots"} and nothing else.
//
// The model is an option, never a dependency: on a timeout, a transport
// error, a non-2xx status, a reply that is not the schema or an intent
// that is not configured, Client falls back to the embedded classifier and
// says so in Understanding.Source ("fallback").
package llm
