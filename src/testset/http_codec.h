// Pieces shared by test cases and mocks: HTTP request/response blocks, string maps and the
// {type, data} chunks of Generic/Redis payloads. Internal to testset/.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "testset/decode.h"
#include "testset/model.h"
#include "testset/yaml_value.h"

namespace reel::testset {

Value string_map_value(const std::map<std::string, std::string>& map);
Value timestamp_value(const Timestamp& t);

Value request_value(const HttpRequest& req);
Value response_value(const HttpResponse& resp);
Result<HttpRequest> request_from(const Value& v, const Decoder& in, std::string_view path);
Result<HttpResponse> response_from(const Value& v, const Decoder& in, std::string_view path);

Value chunks_value(const std::vector<Chunk>& chunks);
Result<std::vector<Chunk>> chunks_from(const Value& v, const Decoder& in, std::string_view path);

Value payloads_value(const std::vector<Payload>& payloads);
Result<std::vector<Payload>> payloads_from(const Value* v, const Decoder& in,
                                           std::string_view path);

}  // namespace reel::testset
