package admin_test

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/casebridge/casebridge/admin"
	"github.com/casebridge/casebridge/config"
	"github.com/casebridge/casebridge/state"
)

// The daemon builds a Server from its configuration and state store and
// serves its Handler.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "casebridge-admin")
	defer os.RemoveAll(dir)
	cfg, err := config.Parse(filepath.Join(dir, "casebridge.yaml"), []byte(testYAML), config.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	st, _ := state.OpenSQLite(ctx, filepath.Join(dir, "state.db"))
	defer st.Close()

	srv := admin.New(admin.Options{Config: cfg, Store: st, Token: "change-me"})
	defer srv.Close(ctx)
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()

	resp, _ := ts.Client().Post(ts.URL+"/api/v1/jobs/th_cases/run", "application/json", nil)
	fmt.Println("run without the token:", resp.Status)
	resp.Body.Close()
	resp, _ = ts.Client().Get(ts.URL + "/readyz")
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Print(resp.Status, "\n", string(body))
	// Output:
	// run without the token: 401 Unauthorized
	// 200 OK
	// {
	//   "ready": true,
	//   "checks": [
	//     {
	//       "name": "state store",
	//       "ok": true
	//     },
	//     {
	//       "name": "job th_cases",
	//       "ok": true,
	//       "detail": "no run yet"
	//     },
	//     {
	//       "name": "job th_cases/stipend",
	//       "ok": true,
	//       "detail": "no run yet"
	//     }
	//   ]
	// }
}
