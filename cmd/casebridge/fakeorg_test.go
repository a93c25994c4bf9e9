package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestFakeorgCommand starts `casebridge fakeorg` on a free port, logs in
// with the client credentials it prints, queries it, and stops it with a
// cancelled context (as Ctrl-C would).
func TestFakeorgCommand(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- runContext(ctx, []string{"fakeorg", "--port", "0", "--log-level", "error"}, strings.NewReader(""), pw, io.Discard)
		pw.Close()
	}()

	sc := bufio.NewScanner(pr)
	printed := map[string]string{}
	var base string
	for len(printed) < 4 && sc.Scan() {
		line := sc.Text()
		if m := regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)`).FindStringSubmatch(line); m != nil {
			base = m[1]
		}
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ":"); ok && base != "" && !strings.HasPrefix(line, "fake org") {
			printed[k] = strings.TrimSpace(v)
		}
	}
	go io.Copy(io.Discard, pr)
	if base == "" {
		t.Fatal("fakeorg did not print its URL")
	}

	resp, err := http.PostForm(base+"/services/oauth2/token", url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {printed["client id"]},
		"client_secret": {printed["client secret"]},
	})
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		InstanceURL string `json:"instance_url"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != 200 || tok.AccessToken == "" {
		t.Fatalf("login with the printed credentials: status %d, err %v", resp.StatusCode, err)
	}
	resp.Body.Close()

	req, _ := http.NewRequest("GET", tok.InstanceURL+"/services/data/v62.0/query?q="+url.QueryEscape("SELECT COUNT() FROM vcms__Survivor_Case__c"), nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		TotalSize int  `json:"totalSize"`
		Done      bool `json:"done"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil || resp.StatusCode != 200 || !page.Done || page.TotalSize == 0 {
		t.Fatalf("query the seed org: status %d, err %v, page %+v", resp.StatusCode, err, page)
	}
	resp.Body.Close()
	if !strings.Contains(resp.Header.Get("Sforce-Limit-Info"), "api-usage=") {
		t.Errorf("no Sforce-Limit-Info header")
	}

	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("fakeorg exited %d after Ctrl-C, want 0", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("fakeorg did not stop when cancelled")
	}
}
