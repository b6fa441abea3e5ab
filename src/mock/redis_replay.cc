// Answers Redis commands from Redis mocks, one command at a time, pipelines included.
//
// Fit: exact = same command (any case) and the same arguments; structural = same command and
// same first argument (the key). A recorded argument that is a redaction placeholder matches
// any live value (AUTH passwords). A mock recorded from a pipelined burst (Keploy keeps one
// payload per read) matches when the next live commands are its commands, in order. An ECHO
// nothing fits gets its argument back, and QUIT its OK: their answers need no recording. In a
// recording made by joining pooled connections (kMetaJoined), which never saw their start, so
// do a connection's set-up commands (AUTH, HELLO, SELECT, CLIENT SETNAME/SETINFO, PING,
// READONLY, and the INFO that clients such as ioredis send as their ready check) when nothing
// recorded fits them: the app's fresh connections at replay still begin with them.
#include <map>

#include "mock/common.h"
#include "mock/protocols.h"
#include "mock/redis_common.h"
#include "protocols/text.h"
#include "testset/redact.h"

namespace reel::mock {

namespace {

using redis::Split;
using Args = std::vector<std::string>;

bool same_arg(const std::string& recorded, const std::string& live) {
  return recorded == live || testset::Redactor::is_placeholder(recorded);
}

bool is_quit(const Args& cmd) { return !cmd.empty() && protocols::iequals(cmd[0], "QUIT"); }

Fit command_fit(const Args& recorded, const Args& live) {
  if (recorded.empty() || live.empty() || !protocols::iequals(recorded[0], live[0])) {
    return Fit::kNone;
  }
  if (recorded.size() == live.size()) {
    bool all = true;
    for (std::size_t i = 1; i < recorded.size() && all; ++i) all = same_arg(recorded[i], live[i]);
    if (all) return Fit::kExact;
  }
  if (recorded.size() < 2 || live.size() < 2) {
    return recorded.size() == live.size() ? Fit::kStructural : Fit::kNone;
  }
  return same_arg(recorded[1], live[1]) ? Fit::kStructural : Fit::kNone;
}

class RedisResponder final : public Responder {
 public:
  explicit RedisResponder(const Context& ctx) : ctx_(ctx) {}

  Output feed(std::span<const std::byte> bytes) override {
    Output out;
    input_.append(text_of(bytes));
    std::vector<Args> live;
    std::size_t used = 0;
    while (used < input_.size()) {
      redis::Value v;
      std::size_t n = 0;
      Split s = redis::next_value(std::string_view(input_).substr(used), true, v, n);
      if (s == Split::kNeedsMore) break;
      if (s == Split::kInvalid) {
        out.bytes += "-ERR reel: not a Redis command\r\n";
        out.close = true;
        out.rejected = true;
        input_.clear();
        used = 0;
        break;
      }
      used += n;
      live.push_back(std::move(v.args));
    }
    if (used) input_.erase(0, used);
    std::size_t i = 0;
    while (i < live.size() && !out.close) i += answer(live, i, out);
    return out;
  }

 private:
  // Answers live[i] (and the commands after it when a pipelined mock covers them); returns how
  // many commands it answered.
  std::size_t answer(const std::vector<Args>& live, std::size_t i, Output& out) {
    auto fit = [&](const testset::Mock& m) {
      const auto& cmds = commands_of(m);
      if (cmds.empty() || cmds.size() > live.size() - i) return Fit::kNone;
      Fit worst = Fit::kExact;
      for (std::size_t k = 0; k < cmds.size(); ++k) {
        worst = std::min(worst, command_fit(cmds[k], live[i + k]));
        if (worst == Fit::kNone) break;
      }
      return worst;
    };
    if (auto pick = ctx_.pool->pick(testset::MockKind::kRedis, ctx_.server, fit)) {
      out.bytes += joined_responses(*pick->mock);
      std::size_t n = commands_of(*pick->mock).size();
      // Redis closes the connection after QUIT's OK, and clients wait for that (ioredis does).
      for (std::size_t k = i; k < i + n; ++k) out.close = out.close || is_quit(live[k]);
      return n;
    }
    const Args& cmd = live[i];
    if (is_quit(cmd)) {  // nothing recorded for goodbye: say it anyway
      out.bytes += "+OK\r\n";
      out.close = true;
      return 1;
    }
    std::string name = cmd.empty() ? std::string() : redis::upper(cmd[0]);
    if (name == "ECHO" && cmd.size() == 2) {  // its answer is its argument: nothing to look up
      // (redis-cli --pipe ends with an ECHO of 20 random bytes and waits for them)
      out.bytes += "$" + std::to_string(cmd[1].size()) + "\r\n" + cmd[1] + "\r\n";
      return 1;
    }
    std::string setup;
    if (ctx_.pool && ctx_.pool->joined(testset::MockKind::kRedis, ctx_.server))
      setup = setup_answer(name, cmd);
    if (!setup.empty()) {
      out.bytes += setup;
      return 1;
    }
    std::string summary = redis::summary_of(cmd);
    out.bytes += "-ERR reel: no recorded answer for " + summary + "\r\n";
    ctx_.pool->record_unmatched(
        {ctx_.pool->current_test(), testset::MockKind::kRedis, ctx_.server, summary, {}});
    return 1;
  }

  // What a server says to a set-up command, whatever was recorded; "" for other commands.
  static std::string setup_answer(const std::string& name, const Args& cmd) {
    auto bulk = [](std::string_view v) {
      return "$" + std::to_string(v.size()) + "\r\n" + std::string(v) + "\r\n";
    };
    if (name == "AUTH" || name == "SELECT" || name == "READONLY") return "+OK\r\n";
    if (name == "PING") return cmd.size() == 2 ? bulk(cmd[1]) : "+PONG\r\n";
    // A ready check reads whether the server is still loading its data and its version.
    if (name == "INFO")
      return bulk("# Server\r\nredis_version:7.0.0\r\nredis_mode:standalone\r\n"
                  "# Persistence\r\nloading:0\r\n# Replication\r\nrole:master\r\n");
    if (name == "CLIENT" && cmd.size() >= 2) {
      std::string sub = redis::upper(cmd[1]);
      if (sub == "SETNAME" || sub == "SETINFO") return "+OK\r\n";
      return "";
    }
    if (name != "HELLO") return "";
    std::int64_t version = 2;
    if (cmd.size() >= 2 && (!protocols::parse_int64(cmd[1], version) || version < 2 || version > 3))
      return "-NOPROTO unsupported protocol version\r\n";
    // The fields Redis 7 sends, as a map in RESP3 and as a flat array in RESP2.
    std::string fields = bulk("server") + bulk("redis") + bulk("version") + bulk("7.0.0") +
                         bulk("proto") + ":" + std::to_string(version) + "\r\n" + bulk("id") +
                         ":1\r\n" + bulk("mode") + bulk("standalone") + bulk("role") +
                         bulk("master") + bulk("modules") + "*0\r\n";
    return (version == 3 ? "%7\r\n" : "*14\r\n") + fields;
  }

  const std::vector<Args>& commands_of(const testset::Mock& m) {
    auto [it, fresh] = parsed_.try_emplace(&m);
    if (fresh) {
      for (auto& v : redis::split_all(joined_requests(m), true)) it->second.push_back(v.args);
    }
    return it->second;
  }

  Context ctx_;
  std::string input_;
  std::map<const testset::Mock*, std::vector<Args>> parsed_;
};

}  // namespace

std::unique_ptr<Responder> make_redis_responder(const Responder::Context& ctx) {
  return std::make_unique<RedisResponder>(ctx);
}

}  // namespace reel::mock
