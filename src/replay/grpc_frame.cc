#include "replay/grpc_frame.h"

#include <zlib.h>

#include "protocols/http2/grpc.h"
#include "testset/convert.h"

namespace reel::replay {

std::optional<std::string> grpc_compress(std::string_view data, std::string_view encoding) {
  int window = 0;
  if (encoding == "gzip")
    window = 16 + MAX_WBITS;
  else if (encoding == "deflate")
    window = MAX_WBITS;
  else
    return std::nullopt;
  z_stream z{};
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, window, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return std::nullopt;
  std::string out;
  char chunk[16384];
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(chunk);
    z.avail_out = sizeof chunk;
    rc = deflate(&z, Z_FINISH);
    out.append(chunk, sizeof chunk - z.avail_out);
  }
  deflateEnd(&z);
  if (rc != Z_STREAM_END) return std::nullopt;
  return out;
}

Result<std::string> grpc_frame_messages(const std::vector<testset::GrpcMessage>& messages,
                                        std::string_view encoding) {
  std::string out;
  for (std::size_t i = 0; i < messages.size(); i++) {
    const auto& m = messages[i];
    std::string packed;
    if (m.compressed) {
      auto z = grpc_compress(m.data, encoding);
      if (!z)
        return fail_msg(
            "request message {} was sent compressed, but its grpc-encoding '{}' is "
            "not one reel can compress (gzip, deflate)",
            i + 1, encoding);
      packed = std::move(*z);
    }
    std::string_view payload = m.compressed ? std::string_view(packed) : std::string_view(m.data);
    if (payload.size() > 0xffffffffu) return fail_msg("request message {} is over 4 GiB", i + 1);
    auto n = static_cast<std::uint32_t>(payload.size());
    out += static_cast<char>(m.compressed ? 1 : 0);
    for (int shift : {24, 16, 8, 0}) out += static_cast<char>((n >> shift) & 0xff);
    out += payload;
  }
  return out;
}

Result<std::vector<testset::GrpcMessage>> grpc_split_messages(std::string_view rest,
                                                              std::string_view encoding,
                                                              std::string_view side) {
  std::vector<testset::GrpcMessage> out;
  while (!rest.empty()) {
    if (rest.size() < 5) return fail_msg("the {} ends inside a message prefix", side);
    testset::GrpcMessage m;
    m.compressed = (rest[0] & 1) != 0;
    for (int i = 1; i <= 4; i++) m.wire_length = (m.wire_length << 8) | std::uint8_t(rest[i]);
    rest.remove_prefix(5);
    if (rest.size() < m.wire_length)
      return fail_msg("the {} ends inside message {} ({} of {} bytes)", side, out.size() + 1,
                      rest.size(), m.wire_length);
    std::string_view payload = rest.substr(0, m.wire_length);
    rest.remove_prefix(m.wire_length);
    if (m.compressed) {
      auto plain = protocols::grpc::decompress(payload, encoding, testset::kMaxGrpcMessage);
      if (!plain)
        return fail_msg(
            "message {} of the {} is compressed with grpc-encoding '{}', which reel "
            "cannot undo (gzip, deflate)",
            out.size() + 1, side, encoding);
      m.data = std::move(*plain);
    } else {
      m.data = std::string(payload);
    }
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace reel::replay
