#include "testset/yaml_emit.h"

#include "testset/yaml_scalar.h"

namespace reel::testset {

namespace {

using namespace yaml_detail;
constexpr int kIndent = kIndentStep;

class Emitter {
 public:
  explicit Emitter(std::string& out) : out_(out) {}

  void document(const Value& v) {
    if (v.is_mapping() && !v.flow && !v.members.empty()) return members(v, 0, false);
    if (v.is_sequence() && !v.flow && !v.items.empty()) return sequence(v, 0, false);
    inline_value(v, {}, kIndent);
    out_ += '\n';
  }

 private:
  static int nested(int indent) { return kIndent * ((indent + kIndent) / kIndent); }
  static bool block_collection(const Value& v) {
    return !v.flow &&
           ((v.is_mapping() && !v.members.empty()) || (v.is_sequence() && !v.items.empty()));
  }

  void members(const Value& m, int indent, bool first_inline) {
    for (std::size_t i = 0; i < m.members.size(); i++) {
      if (i > 0 || !first_inline) out_.append(static_cast<std::size_t>(indent), ' ');
      scalar(m.members[i].first, true, {false, true}, 0);
      out_ += ':';
      const Value& v = m.members[i].second;
      if (v.is_mapping() && block_collection(v)) {
        out_ += '\n';
        members(v, nested(indent), false);
      } else if (block_collection(v)) {
        out_ += '\n';
        sequence(v, nested(indent), false);
      } else {
        out_ += ' ';
        line_value(v, nested(indent));
      }
    }
  }

  void sequence(const Value& s, int indent, bool first_inline) {
    for (std::size_t i = 0; i < s.items.size(); i++) {
      if (i > 0 || !first_inline) out_.append(static_cast<std::size_t>(indent), ' ');
      out_ += "- ";
      const Value& v = s.items[i];
      if (v.is_mapping() && block_collection(v)) {
        members(v, indent + 2, true);
      } else if (block_collection(v)) {
        sequence(v, indent + 2, true);
      } else {
        line_value(v, indent + 2);
      }
    }
  }

  // A value that ends its line: scalar, flow or empty collection. `indent` places literal lines.
  void line_value(const Value& v, int indent) {
    bool literal = inline_value(v, {}, indent);
    if (!literal) out_ += '\n';
  }

  // Returns true when a literal block was written (it ends its own last line).
  bool inline_value(const Value& v, Context ctx, int indent) {
    switch (v.type) {
      case Value::Type::kNull:
        out_ += "null";
        return false;
      case Value::Type::kScalar:
        return scalar_value(v, ctx, indent);
      case Value::Type::kSequence:
        out_ += '[';
        for (std::size_t i = 0; i < v.items.size(); i++) {
          if (i > 0) out_ += ", ";
          inline_value(v.items[i], {true, false}, indent);
        }
        out_ += ']';
        return false;
      case Value::Type::kMapping:
        out_ += '{';
        for (std::size_t i = 0; i < v.members.size(); i++) {
          if (i > 0) out_ += ", ";
          scalar(v.members[i].first, true, {true, true}, indent);
          out_ += ": ";
          inline_value(v.members[i].second, {true, false}, indent);
        }
        out_ += '}';
        return false;
    }
    return false;
  }

  bool scalar_value(const Value& v, Context ctx, int indent) {
    if (v.style == Value::Style::kBinary || !valid_utf8(v.text)) {
      // Go writes a string that is not UTF-8 as !!binary base64, and so do we.
      out_ += "!!binary ";
      return scalar(base64_lines(v.text), false, ctx, indent);
    }
    return scalar(v.text, v.style == Value::Style::kString, ctx, indent);
  }

  bool scalar(std::string_view s, bool is_string, Context ctx, int indent) {
    Form form = choose(s, is_string, ctx);
    switch (form) {
      case Form::kPlain:
        out_ += s;
        return false;
      case Form::kSingle:
        write_single(s, out_);
        return false;
      case Form::kDouble:
        write_double(s, out_);
        return false;
      case Form::kLiteral:
        write_literal(s, indent, out_);
        return true;
    }
    return false;
  }

  std::string& out_;
};

}  // namespace

void emit_yaml(const Value& doc, std::string& out) { Emitter(out).document(doc); }

std::string emit_yaml(const Value& doc) {
  std::string out;
  emit_yaml(doc, out);
  return out;
}

std::string yaml_scalar(std::string_view text) {
  std::string out;
  emit_yaml(Value::string(std::string(text)), out);
  if (!out.empty() && out.back() == '\n' && out.find('\n') == out.size() - 1) out.pop_back();
  return out;
}

}  // namespace reel::testset
