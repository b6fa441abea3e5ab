// Sends one recorded HTTP/2 request or gRPC call to the app under test and reads the answer,
// with libnghttp2's client session: h2c with prior knowledge, or TLS with ALPN h2 when the
// recorded scheme is https (the app's certificate is not verified). One connection per test,
// as in http_client.h, so a test never depends on the previous one's connection state.
#pragma once

#include <chrono>

#include "core/net.h"
#include "core/result.h"
#include "testset/model.h"

namespace reel::replay {

// The recorded headers (pseudo-headers first, hop-by-hop ones dropped), every recorded message
// framed again (compressed again with the request's grpc-encoding where it travelled
// compressed), then END_STREAM. The answer: headers, messages decompressed with the response's
// grpc-encoding, trailers. A status the app chose (NOT_FOUND, DEADLINE_EXCEEDED) is an answer;
// an error is what kept one from arriving ("no response from the app at ... within 10000 ms",
// "the app reset the stream (CANCEL)", "the app answered in HTTP/1.1, not HTTP/2").
Result<testset::GrpcResponse> send_grpc(const Endpoint& app, const testset::GrpcRequest& req,
                                        std::chrono::milliseconds timeout);

// An Http test recorded over HTTP/2 (proto_major 2): method, URL and headers as recorded.
// The response's trailers, if any, join its headers, as the recording keeps them.
Result<testset::HttpResponse> send_h2_request(const Endpoint& app, const testset::HttpRequest& req,
                                              std::chrono::milliseconds timeout);

}  // namespace reel::replay
