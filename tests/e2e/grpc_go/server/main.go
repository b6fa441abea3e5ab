// A gRPC server for reel's end-to-end tests and benchmarks: grpc-go (Debian's
// golang-google-grpc-dev) serving the TestService compiled into that package, so no protoc is
// needed. Over TLS with -cert and -key, plaintext HTTP/2 (h2c) without them.
//
//	server [-cert FILE -key FILE] PORTFILE
//
// It listens on 127.0.0.1, port 0, and writes the port to PORTFILE once it accepts.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	testpb "google.golang.org/grpc/test/grpc_testing"
)

type server struct {
	testpb.UnimplementedTestServiceServer
}

// UnaryCall answers "echo:" + the request's payload; "deny" is refused with PERMISSION_DENIED.
// The request's x-request-id metadata comes back as a trailer.
func (server) UnaryCall(ctx context.Context, req *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	body := req.GetPayload().GetBody()
	if string(body) == "deny" {
		return nil, status.Error(codes.PermissionDenied, "not you")
	}
	if md, ok := metadata.FromIncomingContext(ctx); ok && len(md.Get("x-request-id")) > 0 {
		grpc.SetTrailer(ctx, metadata.Pairs("x-echo-id", md.Get("x-request-id")[0]))
	}
	return &testpb.SimpleResponse{Payload: &testpb.Payload{Body: append([]byte("echo:"), body...)}}, nil
}

// StreamingInputCall answers the total payload size of every message the client sent.
func (server) StreamingInputCall(st testpb.TestService_StreamingInputCallServer) error {
	total := 0
	for {
		req, err := st.Recv()
		if err == io.EOF {
			return st.SendAndClose(&testpb.StreamingInputCallResponse{AggregatedPayloadSize: int32(total)})
		}
		if err != nil {
			return err
		}
		total += len(req.GetPayload().GetBody())
	}
}

// StreamingOutputCall sends one message per response parameter: Size bytes of 'a', 'b', ...
func (server) StreamingOutputCall(req *testpb.StreamingOutputCallRequest, st testpb.TestService_StreamingOutputCallServer) error {
	for i, p := range req.GetResponseParameters() {
		body := bytes.Repeat([]byte{byte('a' + i)}, int(p.GetSize()))
		if err := st.Send(&testpb.StreamingOutputCallResponse{Payload: &testpb.Payload{Body: body}}); err != nil {
			return err
		}
	}
	return nil
}

// FullDuplexCall answers each message as it arrives with "re:" + its payload.
func (server) FullDuplexCall(st testpb.TestService_FullDuplexCallServer) error {
	for {
		req, err := st.Recv()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		body := append([]byte("re:"), req.GetPayload().GetBody()...)
		if err := st.Send(&testpb.StreamingOutputCallResponse{Payload: &testpb.Payload{Body: body}}); err != nil {
			return err
		}
	}
}

func main() {
	cert := flag.String("cert", "", "TLS certificate (PEM); plaintext h2c without it")
	key := flag.String("key", "", "TLS private key (PEM)")
	flag.Parse()
	if flag.NArg() != 1 {
		log.Fatal("usage: server [-cert FILE -key FILE] PORTFILE")
	}
	var opts []grpc.ServerOption
	if *cert != "" {
		creds, err := credentials.NewServerTLSFromFile(*cert, *key)
		if err != nil {
			log.Fatal(err)
		}
		opts = append(opts, grpc.Creds(creds))
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	s := grpc.NewServer(opts...)
	testpb.RegisterTestServiceServer(s, server{})
	port := fmt.Sprint(lis.Addr().(*net.TCPAddr).Port)
	if err := os.WriteFile(flag.Arg(0)+".tmp", []byte(port), 0o644); err != nil {
		log.Fatal(err)
	}
	if err := os.Rename(flag.Arg(0)+".tmp", flag.Arg(0)); err != nil {
		log.Fatal(err)
	}
	log.Fatal(s.Serve(lis))
}
