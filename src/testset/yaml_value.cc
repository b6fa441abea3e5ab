#include "testset/yaml_value.h"

#include <yaml-cpp/anchor.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <algorithm>
#include <array>
#include <exception>
#include <map>
#include <new>
#include <optional>
#include <sstream>

#include "protocols/text.h"

namespace reel::testset {

Value Value::string(std::string s) {
  Value v;
  v.type = Type::kScalar;
  v.text = std::move(s);
  return v;
}

Value Value::plain(std::string s) {
  Value v = string(std::move(s));
  v.style = Style::kPlain;
  return v;
}

Value Value::integer(std::int64_t n) { return plain(std::to_string(n)); }
Value Value::boolean(bool b) { return plain(b ? "true" : "false"); }

Value Value::binary(std::string bytes) {
  Value v = string(std::move(bytes));
  v.style = Style::kBinary;
  return v;
}

Value Value::sequence(bool flow) {
  Value v;
  v.type = Type::kSequence;
  v.flow = flow;
  return v;
}

Value Value::mapping(bool flow) {
  Value v;
  v.type = Type::kMapping;
  v.flow = flow;
  return v;
}

Value& Value::push(Value v) {
  items.push_back(std::move(v));
  return items.back();
}

Value& Value::add(std::string key, Value v) {
  members.emplace_back(std::move(key), std::move(v));
  return members.back().second;
}

const Value* Value::find(std::string_view key) const {
  for (const auto& [k, v] : members) {
    if (protocols::iequals(k, key)) return &v;
  }
  return nullptr;
}

Value* Value::find(std::string_view key) {
  return const_cast<Value*>(static_cast<const Value&>(*this).find(key));
}

bool operator==(const Value& a, const Value& b) {
  return a.type == b.type && a.text == b.text && a.items == b.items && a.members == b.members;
}

namespace {

constexpr std::string_view kBinaryTag = "tag:yaml.org,2002:binary";

// Thrown from inside yaml-cpp's callbacks to stop parsing; caught in parse_yaml.
struct Abort {
  int line;
  std::string message;
};

int line_of(const YAML::Mark& mark) { return mark.is_null() ? 0 : mark.line + 1; }

struct Weight {
  std::size_t nodes = 0;
  std::size_t bytes = 0;
};

// What copying `v` costs, keys included.
void weigh(const Value& v, Weight& w) {
  w.nodes++;
  w.bytes += v.text.size();
  for (const auto& item : v.items) weigh(item, w);
  for (const auto& [key, child] : v.members) {
    w.bytes += key.size();
    weigh(child, w);
  }
}

// Builds Values straight from yaml-cpp's parse events. Using events rather than YAML::Load
// keeps yaml-cpp's node graph (and its shared alias targets) out of the picture: an alias is
// copied here, and every copy is charged to the budget.
class Builder : public YAML::EventHandler {
 public:
  explicit Builder(const ParseLimits& limits) : limits_(limits) {}

  std::vector<Value> docs;

  void OnDocumentStart(const YAML::Mark&) override {
    stack_.clear();
    root_ = Value();
  }
  void OnDocumentEnd() override { docs.push_back(std::move(root_)); }

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    charge(1, 0, mark);
    Value v;
    v.line = line_of(mark);
    add(std::move(v), anchor, mark);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    if (it == anchors_.end()) throw Abort{line_of(mark), "alias to a node that is not complete"};
    charge(it->second.weight.nodes, it->second.weight.bytes, mark);
    add(it->second.value, 0, mark);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& text) override {
    charge(1, text.size(), mark);
    Value v;
    if (tag == kBinaryTag) {
      v = Value::binary({});
      if (!base64_decode(text, v.text))
        throw Abort{line_of(mark), "expected base64 after !!binary"};
    } else {
      // yaml-cpp tags a plain scalar "?" and a quoted or block one "!".
      v = tag == "?" ? Value::plain(text) : Value::string(text);
    }
    v.line = line_of(mark);
    add(std::move(v), anchor, mark);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value style) override {
    open(Value::sequence(style == YAML::EmitterStyle::Flow), anchor, mark);
  }
  void OnSequenceEnd() override { close(); }

  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value style) override {
    open(Value::mapping(style == YAML::EmitterStyle::Flow), anchor, mark);
  }
  void OnMapEnd() override { close(); }

 private:
  struct Frame {
    Value value;
    YAML::anchor_t anchor;
    YAML::Mark mark;
    std::optional<std::string> key;
  };
  struct Anchored {
    Value value;
    Weight weight;
  };

  void charge(std::size_t nodes, std::size_t bytes, const YAML::Mark& mark) {
    nodes_ += nodes;
    bytes_ += bytes;
    if (nodes_ > limits_.max_nodes) {
      throw Abort{line_of(mark), fmt::format("more than {} nodes", limits_.max_nodes)};
    }
    if (bytes_ > limits_.max_bytes) {
      throw Abort{line_of(mark), fmt::format("more than {} bytes of values", limits_.max_bytes)};
    }
  }

  void open(Value v, YAML::anchor_t anchor, const YAML::Mark& mark) {
    charge(1, 0, mark);
    if (stack_.size() >= limits_.max_depth) {
      throw Abort{line_of(mark), fmt::format("nested deeper than {} levels", limits_.max_depth)};
    }
    v.line = line_of(mark);
    stack_.push_back({std::move(v), anchor, mark, std::nullopt});
  }

  void close() {
    Frame frame = std::move(stack_.back());
    stack_.pop_back();
    add(std::move(frame.value), frame.anchor, frame.mark);
  }

  void add(Value v, YAML::anchor_t anchor, const YAML::Mark& mark) {
    if (anchor != 0) {
      Weight w;
      weigh(v, w);
      anchors_[anchor] = Anchored{v, w};
    }
    if (stack_.empty()) {
      root_ = std::move(v);
      return;
    }
    Frame& top = stack_.back();
    if (top.value.is_sequence()) {
      top.value.push(std::move(v));
    } else if (!top.key) {
      if (!v.is_scalar()) throw Abort{line_of(mark), "expected a plain key, found a collection"};
      top.key = std::move(v.text);
    } else {
      top.value.add(std::move(*top.key), std::move(v));
      top.key.reset();
    }
  }

  const ParseLimits& limits_;
  std::vector<Frame> stack_;
  Value root_;
  std::map<YAML::anchor_t, Anchored> anchors_;
  std::size_t nodes_ = 0;
  std::size_t bytes_ = 0;
};

std::size_t count_of(std::string_view text, std::string_view what) {
  std::size_t n = 0;
  for (std::size_t pos = text.find(what); pos != std::string_view::npos;
       pos = text.find(what, pos + what.size())) {
    n++;
  }
  return n;
}

}  // namespace

Result<std::vector<Value>> parse_yaml(std::string_view text, std::string_view source,
                                      const ParseLimits& limits) {
  // yaml-cpp 0.7 can loop forever yielding empty documents on some invalid input (a stray ','
  // at the top level): no file has more documents than separators.
  const std::size_t max_docs = count_of(text, "---") + count_of(text, "...") + 1;
  // yaml-cpp reports every problem by throwing; nothing escapes this function.
  try {
    std::istringstream in{std::string(text)};
    YAML::Parser parser(in);
    // Without aliases a file cannot hold more nodes or value bytes than it has bytes; aliases
    // may add some, but not a multiple of the whole file.
    ParseLimits bounded = limits;
    bounded.max_nodes = std::min(limits.max_nodes, 2 * text.size() + 1024);
    bounded.max_bytes = std::min(limits.max_bytes, 2 * text.size() + 1024);
    Builder builder(bounded);
    while (parser.HandleNextDocument(builder)) {
      if (builder.docs.size() > max_docs) {
        return fail_msg(
            "{}: invalid YAML: the parser made no progress (a stray ',' or "
            "indicator at the top level?)",
            source);
      }
    }
    return std::move(builder.docs);
  } catch (const Abort& e) {
    return fail_msg("{}:{}: {}", source, e.line, e.message);
  } catch (const YAML::Exception& e) {
    return fail_msg("{}:{}:{}: invalid YAML: {}", source, e.mark.line + 1, e.mark.column + 1,
                    e.msg);
  } catch (const std::bad_alloc&) {
    return fail_msg("{}: out of memory while reading YAML", source);
  } catch (const std::exception& e) {
    return fail_msg("{}: invalid YAML: {}", source, e.what());
  }
}

bool base64_decode(std::string_view text, std::string& out) {
  static constexpr auto kTable = [] {
    std::array<std::int8_t, 256> t{};
    t.fill(-1);
    constexpr std::string_view kAlphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (std::size_t i = 0; i < kAlphabet.size(); i++) {
      t[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::int8_t>(i);
    }
    return t;
  }();
  out.clear();
  std::uint32_t acc = 0;
  int bits = 0;
  int padding = 0;
  for (char c : text) {
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    if (c == '=') {
      padding++;
      continue;
    }
    int d = kTable[static_cast<unsigned char>(c)];
    if (d < 0 || padding > 0) return false;  // data after padding is not base64
    acc = (acc << 6) | static_cast<std::uint32_t>(d);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  // Leftover bits must be the zero fill of a final partial group, and padding must finish it.
  if (bits >= 6 || padding > 2) return false;
  return padding == 0 || (bits / 2) == padding;
}

}  // namespace reel::testset
