#include "mock/redis_common.h"

#include "mock/common.h"
#include "protocols/redis/parse.h"
#include "protocols/text.h"

namespace reel::mock::redis {

namespace {

protocols::Limits whole_values() {
  protocols::Limits l;
  l.max_body = 64;  // the rendered text is for people; we keep the raw bytes instead
  l.max_frame = std::size_t{1} << 30;
  l.max_field = std::size_t{1} << 30;
  l.max_items = std::size_t{1} << 20;
  return l;
}

}  // namespace

Split next_value(std::string_view data, bool request, Value& out, std::size_t& consumed) {
  static const protocols::Limits limits = whole_values();
  protocols::redis::Frame frame;
  protocols::redis::State state;
  auto type = request ? protocols::MessageType::kRequest : protocols::MessageType::kResponse;
  auto r = protocols::redis::parse_frame(type, protocols::as_bytes(data), frame, state, limits);
  if (r.state == protocols::ParseState::kInvalid) return Split::kInvalid;
  if (r.state == protocols::ParseState::kNeedsMore || r.consumed > data.size()) {
    return Split::kNeedsMore;
  }
  consumed = r.consumed;
  out.bytes = std::string(data.substr(0, consumed));
  out.args = std::move(frame.args);
  out.type = frame.type;
  return Split::kValue;
}

std::vector<Value> split_all(std::string_view data, bool request) {
  std::vector<Value> out;
  while (!data.empty()) {
    Value v;
    std::size_t n = 0;
    if (next_value(data, request, v, n) != Split::kValue || n == 0) break;
    data.remove_prefix(n);
    out.push_back(std::move(v));
  }
  return out;
}

protocols::redis::ValueView view_of(const Value& v) {
  std::string_view simple;
  if (v.type == '+' && v.bytes.size() >= 3) {  // "+text\r\n"
    simple = std::string_view(v.bytes).substr(1, v.bytes.size() - 3);
  }
  return {v.type, v.args, v.args.size(), simple};
}

std::string upper(std::string_view s) { return protocols::to_upper(s); }

std::string summary_of(const std::vector<std::string>& args) {
  if (args.empty()) return "(empty command)";
  std::string s = upper(args[0]);
  if (s == "AUTH") return s;  // its argument is a password (or a user before one)
  if (args.size() > 1) s += " " + args[1];
  return short_summary(s);
}

}  // namespace reel::mock::redis
