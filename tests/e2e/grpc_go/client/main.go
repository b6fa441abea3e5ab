// A gRPC client for reel's end-to-end tests: grpc-go calling the TestService of
// tests/e2e/grpc_go/server over TLS, one call of each kind on one connection, in this order:
//
//	UnaryCall "hello go" (metadata x-request-id: go-42)   -> "echo:hello go"
//	StreamingInputCall "a", "bb", "ccc"                   -> 6
//	StreamingOutputCall sizes 3, 5                        -> "aaa", "bbbbb"
//	FullDuplexCall "one", "two", "three"                  -> "re:one", "re:two", "re:three"
//	UnaryCall "deny"                                      -> PERMISSION_DENIED "not you"
//
// Every answer is checked; a wrong one exits 1.
//
//	client CA_PEM HOST:PORT
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	testpb "google.golang.org/grpc/test/grpc_testing"
)

func payload(s string) *testpb.Payload { return &testpb.Payload{Body: []byte(s)} }

func check(what string, got, want interface{}) {
	if fmt.Sprint(got) != fmt.Sprint(want) {
		log.Fatalf("%s: got %v, want %v", what, got, want)
	}
	fmt.Printf("%s: %v\n", what, got)
}

func main() {
	if len(os.Args) != 3 {
		log.Fatal("usage: client CA_PEM HOST:PORT")
	}
	creds, err := credentials.NewClientTLSFromFile(os.Args[1], "")
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := grpc.DialContext(ctx, os.Args[2], grpc.WithTransportCredentials(creds), grpc.WithBlock())
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	c := testpb.NewTestServiceClient(conn)

	var trailer metadata.MD
	mctx := metadata.AppendToOutgoingContext(ctx, "x-request-id", "go-42")
	r, err := c.UnaryCall(mctx, &testpb.SimpleRequest{Payload: payload("hello go")}, grpc.Trailer(&trailer))
	if err != nil {
		log.Fatal(err)
	}
	check("unary", string(r.GetPayload().GetBody()), "echo:hello go")
	check("unary trailer", strings.Join(trailer.Get("x-echo-id"), ","), "go-42")

	in, err := c.StreamingInputCall(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range []string{"a", "bb", "ccc"} {
		if err := in.Send(&testpb.StreamingInputCallRequest{Payload: payload(s)}); err != nil {
			log.Fatal(err)
		}
	}
	ir, err := in.CloseAndRecv()
	if err != nil {
		log.Fatal(err)
	}
	check("client-streaming", ir.GetAggregatedPayloadSize(), 6)

	out, err := c.StreamingOutputCall(ctx, &testpb.StreamingOutputCallRequest{
		ResponseParameters: []*testpb.ResponseParameters{{Size: 3}, {Size: 5}}})
	if err != nil {
		log.Fatal(err)
	}
	var got []string
	for {
		m, err := out.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		got = append(got, string(m.GetPayload().GetBody()))
	}
	check("server-streaming", strings.Join(got, ","), "aaa,bbbbb")

	bidi, err := c.FullDuplexCall(ctx)
	if err != nil {
		log.Fatal(err)
	}
	got = nil
	for _, s := range []string{"one", "two", "three"} {
		// One message out, its answer back, before the next: a real conversation.
		if err := bidi.Send(&testpb.StreamingOutputCallRequest{Payload: payload(s)}); err != nil {
			log.Fatal(err)
		}
		m, err := bidi.Recv()
		if err != nil {
			log.Fatal(err)
		}
		got = append(got, string(m.GetPayload().GetBody()))
	}
	if err := bidi.CloseSend(); err != nil {
		log.Fatal(err)
	}
	if _, err := bidi.Recv(); err != io.EOF {
		log.Fatalf("bidi: expected the end, got %v", err)
	}
	check("bidi", strings.Join(got, ","), "re:one,re:two,re:three")

	_, err = c.UnaryCall(ctx, &testpb.SimpleRequest{Payload: payload("deny")})
	check("denied", status.Code(err), codes.PermissionDenied)
}
