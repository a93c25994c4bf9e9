package mapping

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

// TestForeignEachKey: a key shaped like a classified each value's record
// (prefix, parent key, suffix, ":" and as many lowercase hexadecimal
// digits as the current parts) whose part is none of the current values'
// is another key's; the current values' keys, other jobs' keys, readable
// keys and keys of another shape are not.
func TestForeignEachKey(t *testing.T) {
	classified := strings.Replace(khServicesJob, "          sf: vcms__Service_Type__c\n", "          sf: vcms__Service_Type__c\n          pii: sensitive\n", 1)
	cfg := parseInline(t, classified)
	part := func(key string) func(child, value string) string {
		return func(child, value string) string {
			h := sha256.Sum256([]byte(key + "\x00" + child + "\x00" + value))
			return hex.EncodeToString(h[:])[:12]
		}
	}
	cur, old := part("current"), part("old")
	m, err := CompileWith(cfg.Jobs["j"], seedObjects(t), CompileOptions{EachKey: cur})
	if err != nil {
		t.Fatal(err)
	}
	mem := m.Children[0]
	for key, want := range map[string]bool{
		"ngo-kh-bb:KH-RT-24-031:svc:" + old("services", "Shelter"):                    true,
		" ngo-kh-bb:KH-RT-24-031:svc:" + old("services", "Medical"):                   true,
		"ngo-kh-bb:KH-RT-24-031:svc:" + cur("services", "Shelter"):                    false, // the current key's
		"ngo-kh-bb:KH-RT-24-031:svc:" + strings.ToUpper(cur("services", "Medical")):   false, // keys compare case-insensitively
		"ngo-kh-bb:KH-RT-24-031:svc:" + strings.ToUpper(old("services", "Medical")):   false, // not a hex part the runner makes
		"ngo-kh-bb:KH-RT-24-031:svc:Shelter":                                          false, // readable (LegacyEachKey's)
		"ngo-kh-bb::svc:" + old("services", "Shelter"):                                false, // an empty parent key
		":svc:" + old("services", "Shelter"):                                          false, // no parent
		"ngo-th-cm:TH-1:svc:" + old("services", "Shelter"):                            false, // another job's prefix
		"ngo-kh-bb:KH-RT-24-031:svc:" + old("services", "Shelter")[:11]:               false, // another length
		"ngo-kh-bb:KH-RT-24-031:svcx" + old("services", "Shelter"):                    false, // another suffix
		"ngo-kh-bb:KH-RT-24-031:other:" + old("services", "Shelter"):                  false,
		"ngo-kh-bb:KH-RT-24-031:svc:" + old("services", "Shelter")[:11] + "g":         false,
		"ngo-kh-bb:KH-RT-24-031:svc:" + old("services", "Shelter") + ":svc:0123abcd0": false,
	} {
		if got := m.ForeignEachKey(mem, key); got != want {
			t.Errorf("ForeignEachKey(%q) = %v, want %v", key, got, want)
		}
	}
	plain := khServices(t)
	if plain.ForeignEachKey(plain.Children[0], "ngo-kh-bb:KH-RT-24-031:svc:"+old("services", "Shelter")) {
		t.Error("an unclassified each takes a hashed key for another key's")
	}
}
