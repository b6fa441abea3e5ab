// The gRPC blocks shared by gRPC mocks and test cases: Keploy's GrpcReq {headers, body} and
// GrpcResp {headers, body, trailers}, extended with every message of a stream. Internal to
// testset/.
#pragma once

#include <string_view>

#include "core/result.h"
#include "testset/decode.h"
#include "testset/model.h"
#include "testset/yaml_value.h"

namespace reel::testset {

// {headers, body, messages, [timestamp]}: `body` is the first message as Keploy has it (its
// zero value when there is none), `messages` every message in order.
Value grpc_request_value(const GrpcRequest& req);
// {headers, body, messages, trailers, [timestamp]}.
Value grpc_response_value(const GrpcResponse& resp);

// `messages` when present is the whole stream. Without it (a Keploy file), `body` and Keploy's
// `additional_messages` are, except that a response whose only body is Keploy's zero value and
// whose status is an error had no message. decoded_data that is not protoscope text is an error
// naming the file and line.
Result<GrpcRequest> grpc_request_from(const Value& v, const Decoder& in, std::string_view path);
Result<GrpcResponse> grpc_response_from(const Value& v, const Decoder& in, std::string_view path);

}  // namespace reel::testset
