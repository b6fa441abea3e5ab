// The driver matrix's HTTP scenario with Go's net/http: client_go BASE [EXTRA_PATH]
// (built with GO111MODULE=off go build: standard library only).
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

var client = &http.Client{Timeout: 10 * time.Second}

func call(method, url, body string) (*http.Response, string) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	return resp, string(data)
}

func main() {
	base := os.Args[1]
	r, b := call("GET", base+"/items/42", "")
	fmt.Println("GET /items/42", r.StatusCode, b)
	r, b = call("POST", base+"/echo", `{"word": "hello", "n": 7}`)
	fmt.Println("POST /echo", r.StatusCode, b)
	r, b = call("GET", base+"/missing", "")
	fmt.Println("GET /missing", r.StatusCode, b)
	r, b = call("GET", base+"/headers", "")
	trace := r.Header.Get("X-Reel-Trace")
	if trace == "" {
		trace = "-"
	}
	fmt.Println("GET /headers", r.StatusCode, b, "x-reel-trace="+trace)
	if len(os.Args) > 2 {
		r, _ = call("GET", base+os.Args[2], "")
		fmt.Println("GET", os.Args[2], r.StatusCode)
	}
}
