package config

import (
	"strings"
	"testing"
)

func TestTicketsConfig(t *testing.T) {
	good := `
tickets:
  priority_rules:
    - {if: {sentiment: negative}, set: high}
    - {if: {keywords: [lawyer, outage]}, set: urgent}
    - {if: {categories: [sales], vip: false}, set: low}
  repeat_days: 7
  sla:
    timezone: Europe/London
    hours: {mon-fri: "09:00-17:00", sat: closed}
    holidays: ["2025-12-25"]
    targets: {urgent: {first_response: 15m, resolution: 2h}}
  llm: {provider: openai, options: {url: "http://127.0.0.1:11434/v1", model: llama3, timeout: 1500ms}}
webhooks:
  - {url: "https://hooks.example.com/contactd", secret: "0123456789abcdef", events: [ticket.created]}
`
	c, err := Parse("t.yaml", append(Demo(), []byte(good)...))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Tickets.PriorityRules) != 3 || c.Tickets.PriorityRules[1].If.Keywords[0] != "lawyer" ||
		c.Tickets.SLA.Targets["urgent"].FirstResponse.D().Minutes() != 15 || len(c.Webhooks) != 1 {
		t.Errorf("parsed %+v %+v", c.Tickets, c.Webhooks)
	}
	for _, tc := range []struct{ name, yaml, want string }{
		{"bad set", "tickets: {priority_rules: [{if: {sentiment: negative}, set: asap}]}", "tickets.priority_rules[0].set: want low, normal, high or urgent"},
		{"bad sentiment", "tickets: {priority_rules: [{if: {sentiment: livid}, set: high}]}", "tickets.priority_rules[0].if.sentiment"},
		{"unknown category", "tickets: {priority_rules: [{if: {categories: [pizza]}, set: high}]}", `tickets.priority_rules[0].if.categories[0]: "pizza" is not in intents`},
		{"empty condition", "tickets: {priority_rules: [{set: high}]}", "tickets.priority_rules[0].if: empty condition"},
		{"bad hours", `tickets: {sla: {hours: {mon-fri: "9 to 5"}}}`, "tickets.sla.hours.mon-fri"},
		{"bad zone", "tickets: {sla: {timezone: Mars/Base}}", "tickets.sla.timezone"},
		{"bad target", "tickets: {sla: {targets: {asap: {first_response: 1h}}}}", "tickets.sla.targets.asap"},
		{"llm without model", "tickets: {llm: {provider: openai, options: {url: http://x}}}", "tickets.llm.options: provider openai needs url and model"},
		{"webhook url", "webhooks: [{url: ftp://x, secret: 0123456789abcdef}]", "webhooks[0].url"},
		{"webhook secret", "webhooks: [{url: https://x, secret: short}]", "webhooks[0].secret"},
		{"webhook event", "webhooks: [{url: https://x, secret: 0123456789abcdef, events: [call.ended]}]", "webhooks[0].events[0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("t.yaml", append(Demo(), []byte("\n"+tc.yaml+"\n")...))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
