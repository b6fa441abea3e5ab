#include "replay/report.h"

#include <sys/stat.h>

#include <charconv>

#include <fmt/format.h>

#include "core/json_writer.h"
#include "core/user.h"
#include "protocols/http2/grpc.h"
#include "replay/http_client.h"
#include "testset/atomic_file.h"
#include "testset/grpc_codec.h"
#include "testset/http_codec.h"
#include "testset/reader.h"
#include "testset/timestamp.h"
#include "testset/yaml_emit.h"

namespace reel::replay {

namespace fs = std::filesystem;
using testset::Value;

std::size_t SetResult::passed() const {
  std::size_t n = 0;
  for (const auto& t : tests) n += t.passed;
  return n;
}

namespace {

struct Colors {
  const char* green;
  const char* red;
  const char* yellow;
  const char* dim;
  const char* reset;
};
Colors colors(bool on) {
  if (!on) return {"", "", "", "", ""};
  return {"\033[32m", "\033[31m", "\033[33m", "\033[2m", "\033[0m"};
}

std::string ms(std::uint64_t ns) { return fmt::format("{:.1f} ms", double(ns) / 1e6); }

std::string unmatched_line(const mock::Unmatched& u) {
  std::string line = fmt::format("{} call to {} had no recorded answer: {}",
                                 testset::mock_kind_name(u.kind), u.server.to_string(), u.summary);
  if (!u.closest.empty()) line += fmt::format(" (closest: {})", u.closest);
  return line;
}

// The failure text of one test, without colours: for JUnit and the YAML report.
std::string failure_text(const TestResult& r) {
  if (!r.error.empty()) return r.error;
  if (r.grpc) return testset::render_grpc_diff(r.grpc_diff, {.color = false});
  return testset::render_diff(r.diff, {.color = false});
}

std::string diff_text(const TestResult& r, bool color) {
  if (r.grpc) return testset::render_grpc_diff(r.grpc_diff, {.color = color});
  return testset::render_diff(r.diff, {.color = color});
}

// The request column of a result line (at most `width` bytes): the path, and for gRPC the
// status the call ended with ("/demo.Greeter/Fail NOT_FOUND"), or the recorded one when no
// answer came; a long path is cut, never the status.
std::string target_text(const TestResult& r, std::size_t width) {
  if (!r.grpc) return request_target(r.url).substr(0, width);
  int status = testset::grpc_status(r.error.empty() ? r.grpc_actual : r.grpc_expected);
  std::string name = status < 0 ? "-" : protocols::grpc::status_name(std::to_string(status));
  std::size_t room = width > name.size() + 1 ? width - name.size() - 1 : 0;
  return fmt::format("{} {}", r.url.substr(0, room), name);
}

std::string xml_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default:
        // XML 1.0 has no way to write most control characters: drop them.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t' && c != '\r') break;
        out += c;
    }
  }
  return out;
}

Value unmatched_value(const std::vector<mock::Unmatched>& list) {
  Value seq = Value::sequence();
  for (const auto& u : list) {
    Value m = Value::mapping();
    m.add("kind", Value::string(std::string(testset::mock_kind_name(u.kind))));
    m.add("server", Value::string(u.server.to_string()));
    m.add("request", Value::string(u.summary));
    if (!u.closest.empty()) m.add("closest", Value::string(u.closest));
    seq.push(std::move(m));
  }
  return seq;
}

Value set_report(const SetResult& set) {
  Value doc = Value::mapping();
  doc.add("version", Value::string(std::string(testset::kVersion)));
  doc.add("name", Value::string(set.name + "-report"));
  doc.add("status", Value::plain(set.ok() ? "PASSED" : "FAILED"));
  doc.add("success", Value::integer(static_cast<std::int64_t>(set.passed())));
  doc.add("failure", Value::integer(static_cast<std::int64_t>(set.failed())));
  doc.add("total", Value::integer(static_cast<std::int64_t>(set.tests.size())));
  if (!set.error.empty()) doc.add("error", Value::string(set.error));
  Value mocks = Value::mapping();
  mocks.add("exact", Value::integer(static_cast<std::int64_t>(set.mocks.exact)));
  mocks.add("structural", Value::integer(static_cast<std::int64_t>(set.mocks.structural)));
  mocks.add("unmatched", Value::integer(static_cast<std::int64_t>(set.mocks.unmatched)));
  doc.add("mocks", std::move(mocks));
  if (!set.unmatched_outside.empty()) doc.add("unmatched_calls", unmatched_value(set.unmatched_outside));
  Value tests = Value::sequence();
  for (const auto& t : set.tests) {
    Value v = Value::mapping();
    v.add("kind", Value::plain(t.grpc ? "gRPC" : "Http"));
    v.add("name", Value::string(set.name));
    v.add("status", Value::plain(t.passed ? "PASSED" : "FAILED"));
    v.add("started", Value::integer(t.started_unix_ns / 1'000'000'000));
    v.add("duration_ms", Value::plain(fmt::format("{:.3f}", double(t.duration_ns) / 1e6)));
    v.add("test_case_id", Value::string(t.name));
    v.add("req", Value::mapping());
    v.members.back().second.add("method", Value::string(t.method));
    v.members.back().second.add("url", Value::string(t.url));
    if (t.grpc) {
      v.add("expected", testset::grpc_response_value(t.grpc_expected));
      if (t.error.empty()) v.add("actual", testset::grpc_response_value(t.grpc_actual));
    } else {
      v.add("expected", testset::response_value(t.expected));
      if (t.error.empty()) v.add("actual", testset::response_value(t.actual));
    }
    if (!t.passed) v.add("failure", Value::string(failure_text(t)));
    if (!t.unmatched.empty()) v.add("unmatched_calls", unmatched_value(t.unmatched));
    tests.push(std::move(v));
  }
  doc.add("tests", std::move(tests));
  return doc;
}

}  // namespace

void print_test(std::FILE* out, const TestResult& r, bool color) {
  Colors c = colors(color);
  std::fprintf(out, "%s%s%s %-8s %-6s %-44s %s%s%s\n", r.passed ? c.green : c.red,
               r.passed ? "PASS" : "FAIL", c.reset, r.name.c_str(), r.method.c_str(),
               target_text(r, 44).c_str(), c.dim, ms(r.duration_ns).c_str(), c.reset);
  if (!r.error.empty()) std::fprintf(out, "    %s%s%s\n", c.red, r.error.c_str(), c.reset);
  if (r.error.empty() && !r.passed) {
    std::string diff = diff_text(r, color);
    std::string indented;
    for (std::size_t pos = 0; pos < diff.size();) {
      std::size_t nl = diff.find('\n', pos);
      if (nl == diff.npos) nl = diff.size();
      indented += "    " + diff.substr(pos, nl - pos) + "\n";
      pos = nl + 1;
    }
    std::fputs(indented.c_str(), out);
  }
  for (const auto& u : r.unmatched)
    std::fprintf(out, "    %s%s%s\n", c.yellow, unmatched_line(u).c_str(), c.reset);
}

void print_summary(std::FILE* out, const std::vector<SetResult>& sets, bool color) {
  Colors c = colors(color);
  std::size_t passed = 0, failed = 0;
  for (const auto& s : sets) {
    passed += s.passed();
    failed += s.failed();
    std::fprintf(out, "%s%s%s: %zu passed, %zu failed in %s; mocks: %llu exact, %llu structural, "
                 "%llu unmatched\n",
                 s.ok() ? c.green : c.red, s.name.c_str(), c.reset, s.passed(), s.failed(),
                 ms(s.duration_ns).c_str(), (unsigned long long)s.mocks.exact,
                 (unsigned long long)s.mocks.structural, (unsigned long long)s.mocks.unmatched);
    if (!s.error.empty()) std::fprintf(out, "    %s%s%s\n", c.red, s.error.c_str(), c.reset);
    for (const auto& u : s.unmatched_outside)
      std::fprintf(out, "    %soutside any test: %s%s\n", c.yellow, unmatched_line(u).c_str(), c.reset);
  }
  bool ok = failed == 0;
  for (const auto& s : sets) ok = ok && s.error.empty();
  std::fprintf(out, "%s%s%s: %zu passed, %zu failed\n", ok ? c.green : c.red,
               ok ? "PASSED" : "FAILED", c.reset, passed, failed);
}

Result<fs::path> write_yaml_reports(const fs::path& root, const std::vector<SetResult>& sets) {
  fs::path reports = root / "reports";
  REEL_TRY(create_dirs(reports, 0750));
  std::error_code ec;
  // mkdir decides races between two runs: the first to create test-run-N owns it.
  std::size_t next = 0;
  for (auto it = fs::directory_iterator(reports, ec); !ec && it != fs::directory_iterator(); ++it) {
    std::string name = it->path().filename().string();
    if (!name.starts_with("test-run-")) continue;
    std::size_t n = 0;
    auto [p, err] = std::from_chars(name.data() + 9, name.data() + name.size(), n);
    if (err == std::errc()) next = std::max(next, n + 1);
  }
  fs::path run;
  for (;; next++) {
    run = reports / fmt::format("test-run-{}", next);
    if (::mkdir(run.c_str(), 0750) == 0) {
      REEL_TRY(own_path(run));
      break;
    }
    if (errno != EEXIST) return fail_errno("cannot create " + run.string());
  }
  for (const auto& set : sets)
    REEL_TRY(testset::write_file_atomic(run / (set.name + "-report.yaml"),
                                        testset::emit_yaml(set_report(set)), 0640));
  return run;
}

Result<void> write_junit(const fs::path& file, const std::vector<SetResult>& sets) {
  std::size_t tests = 0, failures = 0, errors = 0;
  for (const auto& s : sets) {
    tests += s.tests.size();
    failures += s.failed();
    errors += !s.error.empty();
  }
  std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  xml += fmt::format("<testsuites name=\"reel\" tests=\"{}\" failures=\"{}\" errors=\"{}\">\n",
                     tests, failures, errors);
  for (const auto& s : sets) {
    xml += fmt::format(
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" time=\"{:.3f}\">\n",
        xml_escape(s.name), s.tests.size(), s.failed(), s.error.empty() ? 0 : 1,
        double(s.duration_ns) / 1e9);
    if (!s.error.empty())
      xml += fmt::format("    <error message=\"{}\"/>\n", xml_escape(s.error));
    for (const auto& t : s.tests) {
      xml += fmt::format("    <testcase name=\"{}\" classname=\"{}\" time=\"{:.3f}\"",
                         xml_escape(t.name + " " + t.method + " " + request_target(t.url)),
                         xml_escape(s.name), double(t.duration_ns) / 1e9);
      if (t.passed) {
        xml += "/>\n";
        continue;
      }
      std::string text = failure_text(t);
      std::string first = text.substr(0, text.find('\n'));
      xml += fmt::format(">\n      <failure message=\"{}\">{}</failure>\n    </testcase>\n",
                         xml_escape(first), xml_escape(text));
    }
    xml += "  </testsuite>\n";
  }
  xml += "</testsuites>\n";
  if (file.has_parent_path()) REEL_TRY(create_dirs(file.parent_path(), 0750));
  return testset::write_file_atomic(file, xml, 0640);
}

std::string json_summary(const std::vector<SetResult>& sets) {
  std::string out;
  JsonWriter w(out);
  std::size_t passed = 0, failed = 0;
  w.begin_object().key("test_sets").begin_array();
  for (const auto& s : sets) {
    passed += s.passed();
    failed += s.failed();
    w.begin_object()
        .field("name", s.name)
        .field("status", s.ok() ? "PASSED" : "FAILED")
        .field("passed", static_cast<std::uint64_t>(s.passed()))
        .field("failed", static_cast<std::uint64_t>(s.failed()));
    if (!s.error.empty()) w.field("error", s.error);
    w.key("mocks").begin_object().field("exact", s.mocks.exact).field("structural", s.mocks.structural)
        .field("unmatched", s.mocks.unmatched).end_object();
    w.key("tests").begin_array();
    for (const auto& t : s.tests) {
      w.begin_object()
          .field("name", t.name)
          .field("kind", t.grpc ? "gRPC" : "Http")
          .field("method", t.method)
          .field("url", t.url)
          .field("status", t.passed ? "PASSED" : "FAILED")
          .field("duration_ms", double(t.duration_ns) / 1e6);
      if (!t.passed) w.field("failure", failure_text(t));
      w.field("unmatched_calls", static_cast<std::uint64_t>(t.unmatched.size()));
      w.end_object();
    }
    w.end_array().end_object();
  }
  w.end_array()
      .field("passed", static_cast<std::uint64_t>(passed))
      .field("failed", static_cast<std::uint64_t>(failed))
      .end_object();
  out += '\n';
  return out;
}

}  // namespace reel::replay
