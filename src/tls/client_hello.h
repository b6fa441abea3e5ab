// The first flight of a TLS client, read before deciding what to do with a connection: is it
// TLS at all, which name does it ask for (SNI), which application protocols does it offer (ALPN).
// A pure parser over bytes that are only peeked, never consumed.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace reel::tls {

// The first bytes of a connection could start a TLS ClientHello: a handshake record (0x16),
// version major 3 and handshake type 1, as far as `first` reaches (one byte is enough to say yes).
bool looks_like_client_hello(std::span<const std::byte> first);

struct ClientHello {
  enum class Status { kParsed, kNeedsMore, kInvalid };
  Status status = Status::kInvalid;
  std::string sni;  // host_name from server_name; empty when absent or not a plain name
  std::vector<std::string> alpn;  // offered protocols, in the client's order
};

// Parses the ClientHello from the first TLS record (the whole handshake message must fit in it,
// as every mainstream client's does).
ClientHello parse_client_hello(std::span<const std::byte> bytes);

}  // namespace reel::tls
