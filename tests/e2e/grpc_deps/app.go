// An HTTP service whose handlers call gRPC dependencies (h2c and TLS, through Go's gRPC) and a
// Go HTTPS dependency (HTTP/2 negotiated by ALPN). Messages are protobuf bytes built by hand
// (field 1, a string), sent through a raw codec: no generated code is needed.
//
//	app -listen 127.0.0.1:P -grpc 127.0.0.1:A -grpcs 127.0.0.1:B -rates https://127.0.0.1:C
package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
)

type rawCodec struct{}

func (rawCodec) Marshal(v interface{}) ([]byte, error) { return *(v.(*[]byte)), nil }
func (rawCodec) Unmarshal(data []byte, v interface{}) error {
	*(v.(*[]byte)) = append([]byte(nil), data...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

// field1 encodes {1: s}; text1 reads field 1 back (a string) from a message.
func field1(s string) []byte {
	b := []byte{0x0a}
	n := len(s)
	for n >= 0x80 {
		b = append(b, byte(n)|0x80)
		n >>= 7
	}
	return append(append(b, byte(n)), s...)
}

func text1(m []byte) string {
	if len(m) < 2 || m[0] != 0x0a {
		return ""
	}
	n, shift, i := 0, 0, 1
	for ; i < len(m); i++ {
		n |= int(m[i]&0x7f) << shift
		shift += 7
		if m[i] < 0x80 {
			i++
			break
		}
	}
	if i+n > len(m) {
		return ""
	}
	return string(m[i : i+n])
}

func reply(w http.ResponseWriter, v interface{}) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func main() {
	listen := flag.String("listen", "127.0.0.1:8080", "")
	plain := flag.String("grpc", "", "h2c gRPC dependency")
	secure := flag.String("grpcs", "", "TLS gRPC dependency")
	rates := flag.String("rates", "", "HTTPS dependency base URL")
	flag.Parse()

	codec := grpc.WithDefaultCallOptions(grpc.ForceCodec(rawCodec{}))
	h2c, err := grpc.Dial(*plain, grpc.WithInsecure(), codec)
	if err != nil {
		log.Fatal(err)
	}
	// System roots: SSL_CERT_FILE, which reel points at its CA bundle while it records.
	tlsConn, err := grpc.Dial(*secure, grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{})), codec)
	if err != nil {
		log.Fatal(err)
	}
	client := &http.Client{Timeout: 5 * time.Second}

	hello := func(conn *grpc.ClientConn) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
			defer cancel()
			req, resp := field1(r.URL.Query().Get("name")), []byte(nil)
			if err := conn.Invoke(ctx, "/demo.Greeter/SayHello", &req, &resp); err != nil {
				w.WriteHeader(http.StatusBadGateway)
				reply(w, map[string]string{"error": status.Convert(err).Message()})
				return
			}
			reply(w, map[string]string{"greeting": text1(resp)})
		}
	}
	http.HandleFunc("/hello", hello(h2c))
	http.HandleFunc("/secure", hello(tlsConn))
	http.HandleFunc("/count", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		desc := &grpc.StreamDesc{ServerStreams: true}
		s, err := h2c.NewStream(ctx, desc, "/demo.Greeter/Count")
		if err == nil {
			req := field1(r.URL.Query().Get("n"))
			err = s.SendMsg(&req)
		}
		if err == nil {
			err = s.CloseSend()
		}
		var got []string
		for err == nil {
			var m []byte
			if err = s.RecvMsg(&m); err == nil {
				got = append(got, text1(m))
			}
		}
		if err != io.EOF {
			w.WriteHeader(http.StatusBadGateway)
			reply(w, map[string]string{"error": err.Error()})
			return
		}
		reply(w, map[string]interface{}{"items": got})
	})
	http.HandleFunc("/user", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		req, resp := field1(r.URL.Query().Get("id")), []byte(nil)
		err := h2c.Invoke(ctx, "/demo.Greeter/Lookup", &req, &resp)
		st := status.Convert(err)
		reply(w, map[string]string{"code": st.Code().String(), "message": st.Message(), "name": text1(resp)})
	})
	http.HandleFunc("/rates", func(w http.ResponseWriter, r *http.Request) {
		resp, err := client.Get(*rates + "/rates?base=" + r.URL.Query().Get("base"))
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			reply(w, map[string]string{"error": err.Error()})
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var rates map[string]interface{}
		json.Unmarshal(body, &rates)
		reply(w, map[string]interface{}{"proto": resp.Proto, "status": strconv.Itoa(resp.StatusCode), "rates": rates})
	})
	http.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	log.Fatal(http.ListenAndServe(*listen, nil))
}
