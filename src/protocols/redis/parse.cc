#include "protocols/redis/parse.h"

#include <optional>
#include <string_view>

#include "protocols/text.h"

namespace reel::protocols::redis {

namespace {

constexpr std::size_t kMaxLine = 64 * 1024;
constexpr int kMaxDepth = 32;
constexpr std::int64_t kMaxBulk = 512LL * 1024 * 1024;  // Redis's own proto-max-bulk-len
constexpr std::int64_t kMaxCount = 0x7fffffff;

// Where rendered text goes, and how much of it to keep.
struct Sink {
  Body& body;
  std::size_t cap;
  void put(std::string_view s) { body.append(s, cap); }
};

class Parser {
 public:
  Parser(std::string_view in, const Limits& limits, bool command)
      : in_(in), limits_(limits), command_(command) {}

  // One value at the cursor. `top` is the frame when this is the top-level value.
  ParseState value(int depth, Sink& out, Frame* top);
  ParseState inline_command(Frame& frame);
  bool skip_blank_lines();
  char peek() const { return in_[pos_]; }
  std::uint64_t consumed() const { return skip_end_ ? *skip_end_ : pos_; }

 private:
  ParseState line(std::string_view& out);
  ParseState number(std::int64_t& out);
  ParseState simple(char type, Sink& out, Frame* top);
  ParseState bulk(char type, Sink& out, Frame* top);
  ParseState aggregate(char type, int depth, Sink& out, Frame* top);
  ParseState element(int depth, Sink& out, Frame* top);

  std::string_view in_;
  std::size_t pos_ = 0;
  const Limits& limits_;
  bool command_;  // render the top-level array as "SET k v" rather than "[SET, k, v]"
  std::optional<std::uint64_t> skip_end_;  // end of a cut bulk string, past the input
};

ParseState Parser::line(std::string_view& out) {
  std::size_t end = in_.find("\r\n", pos_);
  if (end == std::string_view::npos) {
    return in_.size() - pos_ > kMaxLine ? ParseState::kInvalid : ParseState::kNeedsMore;
  }
  if (end - pos_ > kMaxLine) return ParseState::kInvalid;
  out = in_.substr(pos_, end - pos_);
  pos_ = end + 2;
  return ParseState::kParsed;
}

ParseState Parser::number(std::int64_t& out) {
  std::string_view text;
  ParseState st = line(text);
  if (st != ParseState::kParsed) return st;
  return parse_int64(text, out) ? ParseState::kParsed : ParseState::kInvalid;
}

ParseState Parser::value(int depth, Sink& out, Frame* top) {
  if (depth > kMaxDepth) return ParseState::kInvalid;
  if (pos_ >= in_.size()) return ParseState::kNeedsMore;
  char type = in_[pos_++];
  if (top) top->type = type;
  switch (type) {
    case '+':
    case '-':
    case ':':
    case '(':
    case ',':
    case '#':
    case '_':
      return simple(type, out, top);
    case '$':
    case '!':
    case '=':
      return bulk(type, out, top);
    case '*':
    case '~':
    case '>':
    case '%':
    case '|':
      return aggregate(type, depth, out, top);
    default:
      return ParseState::kInvalid;
  }
}

ParseState Parser::simple(char type, Sink& out, Frame* top) {
  std::string_view text;
  ParseState st = line(text);
  if (st != ParseState::kParsed) return st;
  std::int64_t n = 0;
  if (type == ':' && !parse_int64(text, n)) return ParseState::kInvalid;
  if (type == '#' && text != "t" && text != "f") return ParseState::kInvalid;
  if (type == '_' && !text.empty()) return ParseState::kInvalid;
  if ((type == '(' || type == ',') && text.empty()) return ParseState::kInvalid;
  if (type == '#') text = text == "t" ? "true" : "false";
  if (type == '_') text = "(nil)";
  if (top) {
    top->error = type == '-';
    top->null = type == '_';
  }
  out.put(text);
  return ParseState::kParsed;
}

ParseState Parser::bulk(char type, Sink& out, Frame* top) {
  std::int64_t len = 0;
  ParseState st = number(len);
  if (st != ParseState::kParsed) return st;
  if (len == -1 && type == '$') {
    if (top) top->null = true;
    out.put("(nil)");
    return ParseState::kParsed;
  }
  if (len < 0 || len > kMaxBulk) return ParseState::kInvalid;
  if (top) top->error = type == '!';
  auto n = static_cast<std::size_t>(len);
  std::size_t avail = in_.size() - pos_;
  if (top && n > limits_.max_frame) {
    // Too big to hold: keep what a body may show, let the caller skip the rest.
    std::size_t keep = std::min(n, limits_.max_body);
    if (avail < keep) return ParseState::kNeedsMore;
    out.put(in_.substr(pos_, keep));
    out.body.size += n - keep;
    skip_end_ = pos_ + n + 2;
    pos_ = in_.size();
    return ParseState::kParsed;
  }
  if (avail < n + 2) return ParseState::kNeedsMore;
  if (in_.substr(pos_ + n, 2) != "\r\n") return ParseState::kInvalid;
  std::string_view text = in_.substr(pos_, n);
  if (type == '=' && text.size() >= 4 && text[3] == ':') text.remove_prefix(4);  // "txt:"
  out.put(text);
  pos_ += n + 2;
  return ParseState::kParsed;
}

ParseState Parser::aggregate(char type, int depth, Sink& out, Frame* top) {
  std::int64_t count = 0;
  ParseState st = number(count);
  if (st != ParseState::kParsed) return st;
  if (count == -1 && type == '*') {
    if (top) top->null = true;
    out.put("(nil)");
    return ParseState::kParsed;
  }
  if (count < 0 || count > kMaxCount) return ParseState::kInvalid;
  auto n = static_cast<std::uint64_t>(count) * ((type == '%' || type == '|') ? 2 : 1);
  if (type == '|') {
    // Attributes annotate the value that follows; keep the value, drop the annotation.
    Body ignored;
    Sink skip{ignored, 0};
    for (std::uint64_t i = 0; i < n; ++i) {
      if ((st = value(depth + 1, skip, nullptr)) != ParseState::kParsed) return st;
    }
    return value(depth + 1, out, top);
  }
  if (top) top->arg_count = n;
  bool plain = top && command_;
  if (!plain) out.put(type == '%' ? "{" : "[");
  for (std::uint64_t i = 0; i < n; ++i) {
    if (i > 0) out.put(plain ? " " : (type == '%' && i % 2 == 1) ? ": " : ", ");
    if ((st = element(depth + 1, out, top)) != ParseState::kParsed) return st;
  }
  if (!plain) out.put(type == '%' ? "}" : "]");
  return ParseState::kParsed;
}

// An element of an aggregate; those of the top-level one also become the frame's args.
ParseState Parser::element(int depth, Sink& out, Frame* top) {
  if (!top) return value(depth, out, nullptr);
  Body item;
  Sink item_sink{item, limits_.max_field};
  ParseState st = value(depth, item_sink, nullptr);
  if (st != ParseState::kParsed) return st;
  out.put(item.data);
  if (top->args.size() < limits_.max_items) top->args.push_back(std::move(item.data));
  return ParseState::kParsed;
}

// Redis ignores an empty inline command, sending no reply (redis-cli --pipe ends its input with
// one, then a RESP ECHO): no frame. False when nothing but blank lines is in.
bool Parser::skip_blank_lines() {
  for (;;) {
    std::size_t i = pos_;
    while (i < in_.size() && (in_[i] == ' ' || in_[i] == '\t' || in_[i] == '\r')) ++i;
    if (i >= in_.size() || in_[i] != '\n') return pos_ < in_.size();
    pos_ = i + 1;
  }
}

// "SET k v\r\n" as typed into telnet: words split on blanks, double quotes group.
ParseState Parser::inline_command(Frame& frame) {
  while (pos_ < in_.size() && (in_[pos_] == '\r' || in_[pos_] == '\n')) ++pos_;
  std::size_t nl = in_.find('\n', pos_);
  if (nl == std::string_view::npos) {
    return in_.size() - pos_ > kMaxLine ? ParseState::kInvalid : ParseState::kNeedsMore;
  }
  std::string_view text = in_.substr(pos_, nl - pos_);
  if (text.ends_with('\r')) text.remove_suffix(1);
  if (text.size() > kMaxLine || !is_text(text)) return ParseState::kInvalid;
  frame.type = 'i';
  std::string word;
  bool quoted = false;
  auto flush_word = [&] {
    if (!word.empty() && frame.args.size() < limits_.max_items) {
      frame.args.push_back(capped(word, limits_.max_field));
    }
    if (!word.empty()) frame.arg_count++;
    word.clear();
  };
  for (char c : text) {
    if (c == '"') {
      quoted = !quoted;
    } else if (!quoted && (c == ' ' || c == '\t')) {
      flush_word();
    } else {
      word.push_back(c);
    }
  }
  flush_word();
  frame.text.append(text, limits_.max_body);
  pos_ = nl + 1;
  return ParseState::kParsed;
}

}  // namespace

ParseResult parse_frame(MessageType type, std::span<const std::byte> data, Frame& frame, State&,
                        const Limits& limits) {
  if (data.empty()) return {};
  bool request = type == MessageType::kRequest;
  Parser parser(as_chars(data), limits, request);
  ParseState st;
  if (request && !parser.skip_blank_lines()) return {ParseState::kNeedsMore, 0};
  if (request && parser.peek() != '*') {
    st = parser.inline_command(frame);
  } else {
    Sink sink{frame.text, limits.max_body};
    st = parser.value(0, sink, &frame);
  }
  if (st != ParseState::kParsed) return {st, 0};
  return {ParseState::kParsed, parser.consumed()};
}

std::size_t find_frame_boundary(MessageType type, std::span<const std::byte> data, const State&) {
  std::string_view text = as_chars(data);
  for (std::size_t i = 0; i + 1 < text.size(); ++i) {
    if (i > 0 && text[i - 1] != '\n') continue;
    char t = text[i];
    char next = text[i + 1];
    bool digit = next >= '0' && next <= '9';
    if (type == MessageType::kRequest) {
      if (t == '*' && digit) return i;
      continue;
    }
    if ((t == '*' || t == '$' || t == '%' || t == '~' || t == '>') && (digit || next == '-')) {
      return i;
    }
    if (t == '+' || t == '-' || t == ':') return i;
  }
  return kNoBoundary;
}

}  // namespace reel::protocols::redis
