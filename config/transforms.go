package config

import (
	"slices"
	"strings"
	"sync"
)

// The transforms a field rule's transform may name are the mapping
// package's (its registry); config cannot import it (mapping imports
// config), so mapping registers each at init, as database/sql drivers
// register themselves. Loading then refuses an unknown name with the
// list of known ones, so that validate says what a run would fail on
// and a run stops with a configuration error (exit 3) before it logs in.
// A program that loads configurations without linking mapping registers
// none, and only the names' form is checked.
var transforms = struct {
	sync.RWMutex
	docs map[string]string
}{docs: map[string]string{}}

// TransformDoc is a transform a field rule may name, with a one-line
// description.
type TransformDoc struct {
	Name, Doc string
}

// RegisterTransform declares a transform name a field rule may give, and
// its one-line description (for reference).
func RegisterTransform(name, doc string) {
	transforms.Lock()
	defer transforms.Unlock()
	transforms.docs[name] = doc
}

// Transforms lists the registered transforms, sorted by name.
func Transforms() []TransformDoc {
	transforms.RLock()
	defer transforms.RUnlock()
	out := make([]TransformDoc, 0, len(transforms.docs))
	for n, d := range transforms.docs {
		out = append(out, TransformDoc{n, d})
	}
	slices.SortFunc(out, func(a, b TransformDoc) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// transformKnown reports whether name is registered, and whether any is.
func transformKnown(name string) (known, any bool) {
	transforms.RLock()
	defer transforms.RUnlock()
	_, known = transforms.docs[name]
	return known, len(transforms.docs) > 0
}

// UnknownTransform is the message for a transform name nothing
// registered: the nearest name, and every name.
func UnknownTransform(name string, known []string) string {
	return "unknown transform " + quoteWord(name) + suggest(name, known) + "; the transforms are " + strings.Join(known, ", ")
}

func transformNames() []string {
	var names []string
	for _, t := range Transforms() {
		names = append(names, t.Name)
	}
	return names
}
