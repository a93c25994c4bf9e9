package config

// Classified each values (children[].each.pii).
//
// A child declared with each keys one record per Salesforce value; with a
// class set, the value's part of the key is a keyed hash of the value
// (the mapping derives it from the fingerprint key), so that keys, plans,
// reports, the state and Salesforce's external key do not say which
// service a person receives.

// Classified reports whether the each's values are classified (pii set to
// a class other than none).
func (e *ChildEach) Classified() bool {
	return e != nil && e.PII != "" && e.PII != PIINone
}

// validateEachPII checks a classified each: a child keyed by_parent has
// its keys derived by the Salesforce connector from the each field's value
// (parent key, suffix and the value itself), so it cannot hide the value;
// such a child needs a key field of its own.
func (d *decoder) validateEachPII(ch *Child, e *ChildEach) {
	if !e.Classified() {
		return
	}
	if ch.ByParent() {
		d.errAt(&e.Meta, "pii", "a child keyed by_parent is keyed by the each value itself, which a classified each keeps out of keys: give the child's object an External ID field and name it in the child's key, or remove pii")
	}
}
