// Without a redirect there is no original destination to read. The redirected case needs root
// and the BPF programs: tests/bpf covers it.
#include "proxy/original_dst.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "core/unique_fd.h"

namespace reel {
namespace {

// A connected pair over loopback; returns the accepted side and the listener's address.
std::pair<UniqueFd, Endpoint> accepted_socket(const std::string& listen_at, UniqueFd& client) {
  Endpoint at = *parse_endpoint(listen_at);
  UniqueFd listener(::socket(at.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_storage ss;
  socklen_t len = at.to_sockaddr(ss);
  EXPECT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&ss), len), 0);
  EXPECT_EQ(::listen(listener.get(), 1), 0);
  len = sizeof ss;
  ::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&ss), &len);
  at = *Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
  client.reset(::socket(at.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  EXPECT_EQ(::connect(client.get(), reinterpret_cast<sockaddr*>(&ss), len), 0);
  return {UniqueFd(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC)), at};
}

class OriginalDst : public ::testing::TestWithParam<const char*> {};
INSTANTIATE_TEST_SUITE_P(, OriginalDst, ::testing::Values("127.0.0.1:0", "[::1]:0"),
                         [](const auto& p) { return p.index == 0 ? "v4" : "v6"; });

TEST_P(OriginalDst, NotRedirectedIsAClearErrorOrTheRealAddress) {
  UniqueFd client;
  auto [accepted, at] = accepted_socket(GetParam(), client);
  ASSERT_TRUE(accepted);
  auto got = original_destination(accepted.get());
  // Where netfilter conntrack is loaded it answers for any tracked connection with the address
  // actually used; otherwise nobody answers and the error must say so.
  if (got) {
    EXPECT_EQ(*got, at);
  } else {
    EXPECT_EQ(got.error().message.rfind("connection was not redirected: ", 0), 0u)
        << got.error().message;
  }
}

TEST(OriginalDstErrors, NotAnIpSocket) {
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
  UniqueFd a(pair[0]), b(pair[1]);
  auto got = original_destination(a.get());
  ASSERT_FALSE(got);
  EXPECT_NE(got.error().message.find("not an IP socket"), std::string::npos) << got.error().message;
}

}  // namespace
}  // namespace reel
