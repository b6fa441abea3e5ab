#include "protocols/decoder.h"

#include "protocols/decoder_impl.h"
#include "protocols/dns/parse.h"
#include "protocols/dns/stitcher.h"
#include "protocols/http1/parse.h"
#include "protocols/http1/stitcher.h"
#include "protocols/http2/parse.h"
#include "protocols/http2/stitcher.h"
#include "protocols/mysql/parse.h"
#include "protocols/mysql/stitcher.h"
#include "protocols/postgres/parse.h"
#include "protocols/postgres/stitcher.h"
#include "protocols/raw/raw.h"
#include "protocols/redis/parse.h"
#include "protocols/redis/stitcher.h"

namespace reel::protocols {

namespace {

// Each traits struct names one protocol's frame, states and functions for ProtocolDecoder.
struct Http1Traits {
  using Frame = http1::Message;
  using State = http1::State;
  using StitchState = http1::StitchState;
  static constexpr auto parse_frame = http1::parse_frame;
  static constexpr auto finish_frame = http1::finish_frame;
  static constexpr auto find_frame_boundary = http1::find_frame_boundary;
  static constexpr auto on_gap = http1::on_gap;
  static constexpr auto stitch = http1::stitch;
};

struct Http2Traits {
  using Frame = http2::Frame;
  using State = http2::State;
  using StitchState = http2::StitchState;
  static constexpr auto parse_frame = http2::parse_frame;
  static constexpr auto find_frame_boundary = http2::find_frame_boundary;
  static constexpr auto on_gap = http2::on_gap;
  static constexpr auto stitch = http2::stitch;
};

struct RedisTraits {
  using Frame = redis::Frame;
  using State = redis::State;
  using StitchState = redis::StitchState;
  static constexpr auto parse_frame = redis::parse_frame;
  static constexpr auto find_frame_boundary = redis::find_frame_boundary;
  static constexpr auto stitch = redis::stitch;
};

struct PostgresTraits {
  using Frame = postgres::Message;
  using State = postgres::State;
  using StitchState = postgres::StitchState;
  static constexpr auto parse_frame = postgres::parse_frame;
  static constexpr auto find_frame_boundary = postgres::find_frame_boundary;
  static constexpr auto on_gap = postgres::on_gap;
  static constexpr auto stitch = postgres::stitch;
};

struct MysqlTraits {
  using Frame = mysql::Packet;
  using State = mysql::State;
  using StitchState = mysql::StitchState;
  static constexpr auto parse_frame = mysql::parse_frame;
  static constexpr auto find_frame_boundary = mysql::find_frame_boundary;
  static constexpr auto stitch = mysql::stitch;
};

struct DnsTraits {
  using Frame = dns::Message;
  using State = dns::State;
  using StitchState = dns::StitchState;
  static void init(State& state, const DecoderOptions& options) { state.tcp = !options.datagrams; }
  static constexpr auto parse_frame = dns::parse_frame;
  static constexpr auto find_frame_boundary = dns::find_frame_boundary;
  static constexpr auto stitch = dns::stitch;
};

struct RawTraits {
  using Frame = raw::Chunk;
  using State = raw::State;
  using StitchState = raw::StitchState;
  static constexpr auto parse_frame = raw::parse_frame;
  static constexpr auto find_frame_boundary = raw::find_frame_boundary;
  static constexpr auto stitch = raw::stitch;
};

template <class P>
std::unique_ptr<Decoder> make(Protocol protocol, const DecoderOptions& options) {
  return std::make_unique<ProtocolDecoder<P>>(protocol, options);
}

}  // namespace

std::unique_ptr<Decoder> make_decoder(Protocol protocol, const DecoderOptions& options) {
  switch (protocol) {
    case Protocol::kHttp1:
      return make<Http1Traits>(protocol, options);
    case Protocol::kHttp2:
      return make<Http2Traits>(protocol, options);
    case Protocol::kRedis:
      return make<RedisTraits>(protocol, options);
    case Protocol::kPostgres:
      return make<PostgresTraits>(protocol, options);
    case Protocol::kMysql:
      return make<MysqlTraits>(protocol, options);
    case Protocol::kDns:
      return make<DnsTraits>(protocol, options);
    case Protocol::kTls:
      return make<RawTraits>(Protocol::kTls, options);
    case Protocol::kRaw:
    case Protocol::kUnknown:
      break;
  }
  return make<RawTraits>(Protocol::kRaw, options);
}

}  // namespace reel::protocols
