// DNS messages (RFC 1035) over UDP or TCP.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "protocols/types.h"

namespace reel::protocols::dns {

struct Question {
  std::string name;  // "www.example.com", "." for the root
  std::uint16_t type = 0;
  std::uint16_t klass = 0;
};

struct Record {
  std::string name;
  std::uint16_t type = 0;
  std::uint16_t klass = 0;
  std::uint32_t ttl = 0;
  std::string data;  // presentation form: "93.184.216.34", "10 mail.example.com."...
};

struct Message : FrameBase {
  std::uint16_t id = 0;
  std::uint16_t flags = 0;
  bool response = false;  // QR
  std::uint8_t opcode = 0;
  std::uint8_t rcode = 0;
  bool truncated = false;        // TC: the answer did not fit a datagram
  std::uint16_t counts[4] = {};  // questions, answers, authority, additional as declared
  std::vector<Question> questions;
  std::vector<Record> answers;
  std::vector<Record> authority;
  std::vector<Record> additional;
  bool malformed = false;  // TCP framing held but the message inside did not parse
};

struct State {
  bool tcp = true;  // TCP messages carry a 2-byte length; UDP datagrams are one message each
};

struct StitchState {};

std::string type_name(std::uint16_t type);   // "A", "AAAA", "TYPE65"
std::string rcode_name(std::uint8_t rcode);  // "NOERROR", "NXDOMAIN"

}  // namespace reel::protocols::dns
