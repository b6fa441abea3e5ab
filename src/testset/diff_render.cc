// Text rendering of a ResponseDiff, and a line diff for text bodies.
#include <fmt/format.h>

#include <algorithm>

#include "protocols/http2/grpc.h"
#include "protocols/text.h"
#include "testset/compare.h"

namespace reel::testset {

namespace {

struct Palette {
  std::string_view red, green, cyan, bold, reset;
};

Palette palette(bool color) {
  if (!color) return {};
  return {"\x1b[31m", "\x1b[32m", "\x1b[36m", "\x1b[1m", "\x1b[0m"};
}

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    lines.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return lines;
}

// Shown values: control bytes escaped so a diff never moves the terminal around.
std::string shown(std::string_view value) { return protocols::render_value(value, 512); }

enum class Op : char { kSame = ' ', kDel = '-', kAdd = '+' };

// Line edit script: common prefix and suffix trimmed, LCS on the middle when it is small enough,
// otherwise the whole middle as deleted then added (still correct, just less minimal).
std::vector<std::pair<Op, std::string_view>> edit_script(const std::vector<std::string_view>& a,
                                                         const std::vector<std::string_view>& b) {
  std::size_t pre = 0;
  while (pre < a.size() && pre < b.size() && a[pre] == b[pre]) pre++;
  std::size_t suf = 0;
  while (suf < a.size() - pre && suf < b.size() - pre &&
         a[a.size() - 1 - suf] == b[b.size() - 1 - suf])
    suf++;
  std::size_t n = a.size() - pre - suf, m = b.size() - pre - suf;
  std::vector<std::pair<Op, std::string_view>> out;
  for (std::size_t i = 0; i < pre; i++) out.push_back({Op::kSame, a[i]});
  constexpr std::size_t kMaxCells = 4'000'000;
  if (n * m <= kMaxCells) {
    // lcs[i][j]: LCS length of a[pre+i..] and b[pre+j..]
    std::vector<std::uint32_t> lcs((n + 1) * (m + 1), 0);
    auto cell = [&](std::size_t i, std::size_t j) -> std::uint32_t& {
      return lcs[i * (m + 1) + j];
    };
    for (std::size_t i = n; i-- > 0;) {
      for (std::size_t j = m; j-- > 0;) {
        cell(i, j) = a[pre + i] == b[pre + j] ? cell(i + 1, j + 1) + 1
                                              : std::max(cell(i + 1, j), cell(i, j + 1));
      }
    }
    std::size_t i = 0, j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && a[pre + i] == b[pre + j]) {
        out.push_back({Op::kSame, a[pre + i++]});
        j++;
      } else if (i < n && (j == m || cell(i + 1, j) >= cell(i, j + 1))) {
        out.push_back({Op::kDel, a[pre + i++]});  // deletions first, as diff(1) shows them
      } else {
        out.push_back({Op::kAdd, b[pre + j++]});
      }
    }
  } else {
    for (std::size_t i = 0; i < n; i++) out.push_back({Op::kDel, a[pre + i]});
    for (std::size_t j = 0; j < m; j++) out.push_back({Op::kAdd, b[pre + j]});
  }
  for (std::size_t k = a.size() - suf; k < a.size(); k++) out.push_back({Op::kSame, a[k]});
  return out;
}

std::string_view kind_word(FieldDiff::Kind kind) {
  switch (kind) {
    case FieldDiff::Kind::kMissing:
      return "missing";
    case FieldDiff::Kind::kUnexpected:
      return "unexpected";
    case FieldDiff::Kind::kChanged:
      break;
  }
  return "changed";
}

void render_field(const FieldDiff& d, const Palette& p, std::string& out) {
  out += fmt::format("  {}{}{} ({})\n", p.bold, d.path, p.reset, kind_word(d.kind));
  if (d.kind != FieldDiff::Kind::kUnexpected) {
    out += fmt::format("    {}- {}{}\n", p.red, shown(d.expected), p.reset);
  }
  if (d.kind != FieldDiff::Kind::kMissing) {
    out += fmt::format("    {}+ {}{}\n", p.green, shown(d.actual), p.reset);
  }
}

}  // namespace

std::string unified_diff(std::string_view expected, std::string_view actual,
                         const RenderOptions& options) {
  Palette p = palette(options.color);
  auto script = edit_script(split_lines(expected), split_lines(actual));
  std::string out =
      fmt::format("{}--- expected{}\n{}+++ actual{}\n", p.red, p.reset, p.green, p.reset);
  // Line numbers (1-based) in each text at each script position.
  std::vector<std::size_t> line_a(script.size() + 1, 1), line_b(script.size() + 1, 1);
  std::vector<std::size_t> changes;
  for (std::size_t i = 0; i < script.size(); i++) {
    line_a[i + 1] = line_a[i] + (script[i].first != Op::kAdd);
    line_b[i + 1] = line_b[i] + (script[i].first != Op::kDel);
    if (script[i].first != Op::kSame) changes.push_back(i);
  }
  std::size_t ctx = options.context_lines, lines = 0;
  for (std::size_t c = 0; c < changes.size() && lines < options.max_lines; c++) {
    // Changes closer than two contexts apart share a hunk.
    std::size_t first = changes[c], last = first;
    while (c + 1 < changes.size() && changes[c + 1] - last <= 2 * ctx + 1) last = changes[++c];
    std::size_t start = first - std::min(first, ctx);
    std::size_t end = std::min(script.size(), last + ctx + 1);
    out +=
        fmt::format("{}@@ -{},{} +{},{} @@{}\n", p.cyan, line_a[start], line_a[end] - line_a[start],
                    line_b[start], line_b[end] - line_b[start], p.reset);
    for (std::size_t i = start; i < end && lines < options.max_lines; i++, lines++) {
      auto [op, text] = script[i];
      std::string_view color = op == Op::kDel ? p.red : op == Op::kAdd ? p.green : "";
      out += fmt::format("{}{}{}{}\n", color, static_cast<char>(op), shown(text),
                         color.empty() ? "" : p.reset);
    }
  }
  if (lines >= options.max_lines) out += fmt::format("... (diff cut at {} lines)\n", lines);
  return out;
}

std::string render_diff(const ResponseDiff& diff, const RenderOptions& options) {
  if (diff.passed()) return {};
  Palette p = palette(options.color);
  std::string out;
  if (!diff.status_ok()) {
    out += fmt::format("{}status{}: expected {}{}{}, got {}{}{}\n", p.bold, p.reset, p.red,
                       diff.expected_status, p.reset, p.green, diff.actual_status, p.reset);
  }
  if (!diff.headers.empty()) {
    out += fmt::format("{}headers{}:\n", p.bold, p.reset);
    for (const auto& d : diff.headers) render_field(d, p, out);
  }
  if (diff.body.empty()) return out;
  if (diff.body_json) {
    out += fmt::format("{}body{} (JSON, {} field{}):\n", p.bold, p.reset, diff.body.size(),
                       diff.body.size() == 1 ? "" : "s");
    for (const auto& d : diff.body) render_field(d, p, out);
    return out;
  }
  out += fmt::format("{}body{}:\n", p.bold, p.reset);
  return out + unified_diff(diff.expected_body, diff.actual_body, options);
}

std::string grpc_status_text(int code) {
  if (code < 0) return "none";
  std::string number = std::to_string(code);
  std::string name = protocols::grpc::status_name(number);
  return name == number ? number : fmt::format("{} ({})", name, number);
}

namespace {

// Header values are text: quoted so that an empty or space-padded one is visible.
std::string in_quotes(std::string_view value) { return "\"" + shown(value) + "\""; }

void render_line(const FieldDiff& d, bool json, const Palette& p, std::string& out) {
  std::string e = json ? shown(d.expected) : in_quotes(d.expected);
  std::string a = json ? shown(d.actual) : in_quotes(d.actual);
  switch (d.kind) {
    case FieldDiff::Kind::kChanged:
      out += fmt::format("  {}{}{}: {}{}{} → {}{}{}\n", p.bold, d.path, p.reset, p.red, e, p.reset,
                         p.green, a, p.reset);
      break;
    case FieldDiff::Kind::kMissing:
      out += fmt::format("  {}{}{}: missing (expected {}{}{})\n", p.bold, d.path, p.reset, p.red, e,
                         p.reset);
      break;
    case FieldDiff::Kind::kUnexpected:
      out += fmt::format("  {}{}{}: unexpected {}{}{}\n", p.bold, d.path, p.reset, p.green, a,
                         p.reset);
      break;
  }
}

}  // namespace

std::string render_grpc_diff(const GrpcDiff& diff, const RenderOptions& options) {
  if (diff.passed()) return {};
  Palette p = palette(options.color);
  std::string out;
  if (diff.expected_status != diff.actual_status) {
    out += fmt::format("{}status{}: expected {}{}{}, got {}{}{}\n", p.bold, p.reset, p.red,
                       grpc_status_text(diff.expected_status), p.reset, p.green,
                       grpc_status_text(diff.actual_status), p.reset);
  }
  if (diff.expected_http != diff.actual_http) {
    out += fmt::format("{}:status{}: expected {}{}{}, got {}{}{}\n", p.bold, p.reset, p.red,
                       diff.expected_http, p.reset, p.green, diff.actual_http, p.reset);
  }
  if (!diff.headers.empty()) {
    out += fmt::format("{}headers and trailers{}:\n", p.bold, p.reset);
    for (const auto& d : diff.headers) render_line(d, false, p, out);
  }
  if (diff.messages.empty()) return out;
  if (diff.expected_messages != diff.actual_messages) {
    out += fmt::format("{}messages{}: expected {}, got {}\n", p.bold, p.reset,
                       diff.expected_messages, diff.actual_messages);
  } else {
    out += fmt::format("{}messages{} ({} field{} differ{}):\n", p.bold, p.reset,
                       diff.messages.size(), diff.messages.size() == 1 ? "" : "s",
                       diff.messages.size() == 1 ? "s" : "");
  }
  std::size_t lines = 0;
  for (const auto& d : diff.messages) {
    if (lines++ == options.max_lines) {
      out += fmt::format("  ... ({} more)\n", diff.messages.size() - options.max_lines);
      break;
    }
    render_line(d, true, p, out);
  }
  return out;
}

}  // namespace reel::testset
