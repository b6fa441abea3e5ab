#include "protocols/redis/conversation.h"

#include "protocols/text.h"

namespace reel::protocols::redis {

namespace {

std::string lower_arg(const ValueView& v, std::size_t i) {
  return i < v.args.size() ? to_lower(v.args[i]) : std::string();
}

// Replies a subscribe-family command waits for: one per channel, or (bare UNSUBSCRIBE) until
// the subscription count reaches zero.
std::int64_t expected_replies(const ValueView& command) {
  std::int64_t channels = command.count > 1 ? static_cast<std::int64_t>(command.count - 1) : 0;
  return channels > 0 ? channels : -1;
}

bool is_subscribe_family(std::string_view cmd) {
  return cmd == "subscribe" || cmd == "psubscribe" || cmd == "ssubscribe" || cmd == "unsubscribe" ||
         cmd == "punsubscribe" || cmd == "sunsubscribe";
}

}  // namespace

bool is_push(const ValueView& r, const Conversation& c) {
  if (r.type == '>') return !is_subscribe_family(lower_arg(r, 0));
  if (c.monitor && r.type == '+' && !r.simple.empty() && r.simple[0] >= '0' && r.simple[0] <= '9') {
    return true;
  }
  if (!c.subscribed || r.type != '*') return false;
  std::string kind = lower_arg(r, 0);
  return kind == "message" || kind == "pmessage" || kind == "smessage";
}

bool take_reply(const ValueView& q, const ValueView& r, Conversation& c) {
  std::string cmd = lower_arg(q, 0);
  bool subscribing = is_subscribe_family(cmd);
  if (c.replies_left == 0) c.replies_left = subscribing ? expected_replies(q) : 1;
  if (cmd == "monitor" && r.type != '-' && r.type != '!') c.monitor = true;
  std::string kind = lower_arg(r, 0);
  bool done = true;  // errors end a subscribe too
  if (subscribing && is_subscribe_family(kind)) {
    std::int64_t count = 0;
    if (r.args.size() > 2 && parse_int64(r.args[2], count)) c.subscribed = count > 0;
    done = c.replies_left < 0 ? count == 0 : --c.replies_left <= 0;
  }
  if (done) c.replies_left = 0;
  return done;
}

}  // namespace reel::protocols::redis
