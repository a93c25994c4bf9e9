package sqldb

import (
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/casebridge/casebridge/connector"
)

// TestMessageNamesConfirmed: a column or key name read from a server
// message's text is shown only when the table knows it: a value can
// pass for a name ("for key 'VALUE'" in a message cut short).
func TestMessageNamesConfirmed(t *testing.T) {
	const marker = "Somchai_Marker9"
	tb := &table{indexCol: map[string]string{"nick": "nick"}, desc: &connector.Object{Name: "u", Fields: []connector.Field{{Name: "k"}, {Name: "nick"}}}}
	for _, tc := range []struct {
		msg        string
		constraint string
	}{
		{"Duplicate entry 'x' for key '" + marker + "'", ""},
		{"Duplicate entry 'x' for key 'u.nick'", "nick"},
	} {
		se := mysqlDialect{}.classify(&mysql.MySQLError{Number: 1062, Message: tc.msg})
		if strings.Contains(se.Error(), marker) {
			t.Errorf("classified: %s", se)
		}
		tb.errorField(se)
		if se.Constraint != tc.constraint || strings.Contains(se.Error(), marker) {
			t.Errorf("%q: constraint %q (%s), want %q", tc.msg, se.Constraint, se, tc.constraint)
		}
	}
	se := mysqlDialect{}.classify(&mysql.MySQLError{Number: 1406, Message: "Data too long for column '" + marker + "' at row 1"})
	if f := tb.errorField(se); f != "" || se.Column != "" {
		t.Errorf("column %q, field %q", se.Column, f)
	}
	se = mysqlDialect{}.classify(&mysql.MySQLError{Number: 1406, Message: "Data too long for column 'NICK' at row 1"})
	if f := tb.errorField(se); f != "nick" || se.Column != "nick" {
		t.Errorf("column %q, field %q, want nick", se.Column, f)
	}
}
