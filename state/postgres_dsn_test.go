package state

import (
	"context"
	"strings"
	"testing"
)

// TestOpenPostgresDSNNotQuoted checks that a connection string the driver
// cannot parse is not quoted in the error: pgx redacts a password it can
// find ("best effort"), and quotes the rest, which may be the password
// itself (dsn: ${PGPASSWORD} by mistake) or hold it where it does not look.
func TestOpenPostgresDSNNotQuoted(t *testing.T) {
	const secret = "รหัสลับS3cretPW"
	for _, dsn := range []string{
		secret,
		"postgres://cb:" + secret + "%zz@127.0.0.1:5432/db",
		"postgres://cb@127.0.0.1:5432/db?password=" + secret + "&sslmode=bogus",
		"host=127.0.0.1 password='" + secret,
		"host=127.0.0.1 password='" + secret + " x' port=abc",
		"postgres://cb:" + secret + "@127.0.0.1:5432/db?connect_timeout=" + secret,
	} {
		_, err := OpenPostgres(context.Background(), dsn)
		if err == nil {
			t.Errorf("a malformed dsn opened")
			continue
		}
		if strings.Contains(err.Error(), "S3cretPW") || strings.Contains(err.Error(), "รหัสลับ") {
			t.Errorf("the error quotes the dsn: %v", err)
		}
	}
}
