package tickets_test

import (
	"os"
	"testing"
)

func TestTmpSet(t *testing.T) {
	t.Logf("%s: %v", os.Getenv("SET"), measure(t, os.Getenv("SET"), true))
}
