package ivr

import (
	"context"
	"os"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestTrainLanguagesOnDemoSpanish(t *testing.T) {
	b, err := os.ReadFile("../config/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		IVR struct {
			Languages map[string]struct {
				Intents map[string][]string `yaml:"intents"`
			} `yaml:"languages"`
		} `yaml:"ivr"`
		Intents []struct {
			Name               string   `yaml:"name"`
			Examples           []string `yaml:"examples"`
			ClassifierExamples []string `yaml:"classifier_examples"`
		} `yaml:"intents"`
	}
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	ex := map[string]map[string][]string{"en": {}, "es": c.IVR.Languages["es"].Intents}
	for _, in := range c.Intents {
		ex["en"][in.Name] = append(append([]string(nil), in.Examples...), in.ClassifierExamples...)
	}
	l, err := TrainLanguages("en", ex)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ lang, text, want string }{
		{"es", "hola dónde está mi pedido", "order_status"},
		{"es", "me han cobrado de más en la factura", "billing"},
		{"es", "el wifi va fatal", "tech_support"},
		{"es", "quiero hablar con una persona", "human"},
		{"en", "where is my parcel", "order_status"},
		{"fr", "where is my parcel", "order_status"}, // unknown language: the default's
	}
	for _, tc := range tests {
		u, err := l.Understand(context.Background(), tc.text, tc.lang)
		if err != nil || u.Intent != tc.want || u.Source != "embedded" {
			t.Errorf("%s %q: %+v %v, want %s", tc.lang, tc.text, u, err, tc.want)
		}
	}
	u, _ := l.Understand(context.Background(), "my order number is five eight two one three", "en")
	if u.Slots[SlotOrderNumber] != "58213" {
		t.Errorf("slots = %v", u.Slots)
	}
}

func TestSwearsAndDetect(t *testing.T) {
	for text, want := range map[string]bool{"this is bloody useless": true, "hello there": false, "what the hell": true, "shell account": false} {
		if swears(text) != want {
			t.Errorf("swears(%q) != %v", text, want)
		}
	}
	langs := []string{"en", "es"}
	for text, want := range map[string]string{"hola quiero saber dónde está mi pedido": "es", "where is my order please": "en", "agent": "", "pedido": ""} {
		if got := detectLanguage(text, langs); got != want {
			t.Errorf("detectLanguage(%q) = %q, want %q", text, got, want)
		}
	}
}
