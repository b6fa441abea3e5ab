// Answers unknown protocols from Generic mocks, byte for byte.
//
// Fit against a mock's request bytes R (its client payloads joined) and the bytes B the client
// has sent and we have not answered yet: exact when B starts with R; structural when B is as
// long as R and their first 8 bytes agree (a counter or id further in changed). While B is a
// strict prefix of some mock's R we wait for more. Nothing fits: the connection is closed.
#include "mock/common.h"
#include "mock/protocols.h"

namespace reel::mock {

namespace {

constexpr std::size_t kHead = 8;

Fit generic_fit(const testset::Mock& m, std::string_view b) {
  std::string r = joined_requests(m);
  if (r.empty()) return Fit::kNone;
  if (b.starts_with(r)) return Fit::kExact;
  std::size_t head = std::min(kHead, r.size());
  if (b.size() == r.size() && b.substr(0, head) == std::string_view(r).substr(0, head)) {
    return Fit::kStructural;
  }
  return Fit::kNone;
}

class GenericResponder final : public Responder {
 public:
  explicit GenericResponder(const Context& ctx) : ctx_(ctx) {}

  std::string greeting() override {
    auto pick = ctx_.pool->pick(testset::MockKind::kGeneric, ctx_.server,
                                [](const testset::Mock& m) {
                                  return joined_requests(m).empty() &&
                                                 !joined_responses(m).empty()
                                             ? Fit::kExact
                                             : Fit::kNone;
                                });
    return pick ? joined_responses(*pick->mock) : std::string();
  }

  Output feed(std::span<const std::byte> bytes) override {
    Output out;
    input_.append(text_of(bytes));
    while (!input_.empty()) {
      if (awaits_more()) break;
      std::string_view b = input_;
      auto pick = ctx_.pool->pick(testset::MockKind::kGeneric, ctx_.server,
                                  [b](const testset::Mock& m) { return generic_fit(m, b); });
      if (!pick) {
        std::string summary = fmt::format("{} bytes: {}", input_.size(),
                                          short_summary(b.substr(0, 16)));
        ctx_.pool->record_unmatched(
            {ctx_.pool->current_test(), testset::MockKind::kGeneric, ctx_.server, summary, {}});
        out.close = true;
        input_.clear();
        break;
      }
      std::size_t used = pick->fit == Fit::kExact ? joined_requests(*pick->mock).size()
                                                  : input_.size();
      input_.erase(0, used);
      out.bytes += joined_responses(*pick->mock);
    }
    return out;
  }

 private:
  // The bytes so far are the start of a longer recorded request, and no request equals them.
  bool awaits_more() const {
    bool longer = false;
    for (const auto* m : ctx_.pool->all_of(testset::MockKind::kGeneric)) {
      std::string r = joined_requests(*m);
      if (r == input_) return false;
      if (r.size() > input_.size() && std::string_view(r).starts_with(input_)) longer = true;
    }
    return longer;
  }

  Context ctx_;
  std::string input_;
};

}  // namespace

std::unique_ptr<Responder> make_generic_responder(const Responder::Context& ctx) {
  return std::make_unique<GenericResponder>(ctx);
}

}  // namespace reel::mock
