// The HTTPS dependency: Go's net/http server, which negotiates HTTP/2 by ALPN.
//
//	rates -listen 127.0.0.1:C -cert up.crt -key up.key
package main

import (
	"encoding/json"
	"flag"
	"log"
	"net/http"
)

func main() {
	listen := flag.String("listen", "", "")
	cert := flag.String("cert", "", "")
	key := flag.String("key", "", "")
	flag.Parse()
	http.HandleFunc("/rates", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]interface{}{
			"base": r.URL.Query().Get("base"), "EUR": 0.92, "JPY": 151.2, "served_over": r.Proto})
	})
	log.Fatal(http.ListenAndServeTLS(*listen, *cert, *key, nil))
}
