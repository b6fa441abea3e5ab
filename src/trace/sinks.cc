#include "trace/sinks.h"

#include <time.h>

#include <array>
#include <charconv>
#include <ctime>
#include <vector>

#include <fmt/compile.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/encoding.h"
#include "core/json_writer.h"
#include "trace/summary.h"

namespace reel::trace {

using protocols::Protocol;

namespace {

double ms(std::uint64_t ns) { return static_cast<double>(ns) / 1e6; }

using protocols::is_grpc_call;

// What the protocol column says: gRPC is told apart from the HTTP/2 it runs on.
std::string_view label_of(const protocols::Exchange& ex) {
  return is_grpc_call(ex) ? "grpc" : protocols::protocol_name(ex.protocol);
}

std::string_view field_or(const protocols::Exchange& ex, std::string_view key) {
  auto it = ex.fields.find(key);
  return it == ex.fields.end() ? std::string_view() : std::string_view(it->second);
}

void write_headers(JsonWriter& w, const protocols::Headers& h) {
  w.key("headers").begin_array();
  for (auto& [k, v] : h) w.begin_object().field("name", k).field("value", v).end_object();
  w.end_array();
}

// A body: text when it is text, base64 otherwise; the true size always.
void write_body(JsonWriter& w, const protocols::Body& b) {
  w.key("body").begin_object().field("size", b.size).field("truncated", b.truncated());
  if (!w.text_field("text", b.data)) w.field("base64", base64_encode(b.data));
  w.end_object();
}

// Endpoint::to_string with recent answers kept, in 256 slots by hash: every exchange names its
// connection's two endpoints, and a busy trace shows many exchanges of fewer connections (wrk's
// 32 connections missed a cache of the last 8 every time).
const std::string& endpoint_text(const Endpoint& e) {
  struct Entry {
    Endpoint endpoint;
    std::string text;
  };
  thread_local std::array<Entry, 256> cache;
  std::uint64_t h = e.port * 0x9e3779b97f4a7c15ull;
  for (std::uint8_t b : e.ip.bytes) h = (h ^ b) * 0x100000001b3ull;
  Entry& slot = cache[(h >> 32) % cache.size()];
  if (slot.text.empty() || !(slot.endpoint == e)) slot = {e, e.to_string()};
  return slot.text;
}

// The JSON object for one exchange, as the json format's line (without the newline), appended
// to `out` (the sink reuses one buffer).
void append_exchange_json(std::string& out, capture::ExchangeView t, std::int64_t off) {
  const auto& ex = t.exchange;
  const auto& c = t.conn;
  out.reserve(out.size() + 512 + ex.request_body.data.size() + ex.response_body.data.size());
  JsonWriter w(out);
  std::uint64_t start = ex.has_request ? ex.request_time.first_ns : ex.response_time.first_ns;
  w.begin_object()
      .field("time", iso8601_utc(static_cast<std::int64_t>(start) + off))
      .field("pid", c.key.tgid)
      .field("comm", c.comm)
      .field("protocol", label_of(ex))
      .field("role", c.server ? "server" : "client");
  if (c.tls) w.field("tls", true);
  w.field("client", endpoint_text(c.server ? c.remote : c.local))
      .field("server", endpoint_text(c.server ? c.local : c.remote))
      .field("method", ex.method)
      .field("target", ex.target);
  if (!ex.host.empty()) w.field("host", ex.host);
  if (ex.has_response) w.field("status", ex.status).field("status_text", ex.status_text);
  if (!ex.error.empty()) w.field("error", ex.error);
  w.field("latency_ms", ms(ex.latency_ns))
      .field("request_size", ex.request_size)
      .field("response_size", ex.response_size);
  if (ex.gap) w.field("gap", true);
  if (!ex.has_request) w.field("request_missing", true);
  if (!ex.has_response) w.field("response_missing", true);
  if (ex.has_request) {
    w.key("request").begin_object();
    write_headers(w, ex.request_headers);
    write_body(w, ex.request_body);
    w.end_object();
  }
  if (ex.has_response) {
    w.key("response").begin_object();
    write_headers(w, ex.response_headers);
    write_body(w, ex.response_body);
    w.end_object();
  }
  if (!ex.fields.empty()) {
    w.key("fields").begin_object();
    for (auto& [k, v] : ex.fields) w.field(k, v);
    w.end_object();
  }
  w.end_object();
}

class JsonSink : public Sink {
 public:
  explicit JsonSink(const SinkOptions& o) : o_(o) {}
  void write(capture::ExchangeView t) override {
    line_.clear();  // reused: its memory outlives the line
    append_exchange_json(line_, t, o_.mono_to_real_ns);
    line_ += '\n';
    std::fwrite(line_.data(), 1, line_.size(), o_.out);
  }
  void finish() override { std::fflush(o_.out); }

 private:
  SinkOptions o_;
  std::string line_;
};

class PrettySink : public Sink {
 public:
  explicit PrettySink(const SinkOptions& o) : o_(o) {}

  void write(capture::ExchangeView t) override {
    const auto& ex = t.exchange;
    std::int64_t start = static_cast<std::int64_t>(ex.has_request ? ex.request_time.first_ns
                                                                  : ex.response_time.first_ns);
    // Built by hand in one buffer and written with one fwrite: at a hundred thousand exchanges a
    // second, fmt's padding of ten string fields cost more than decoding the exchange.
    std::string& line = line_;
    line.clear();
    line += local_clock(start + o_.mono_to_real_ns);
    fmt::format_to(std::back_inserter(line), FMT_COMPILE(" {:>6} "), t.conn.key.tgid);
    pad(line, t.conn.comm, 12, 12);
    pad(line, label_of(ex), 8, std::string_view::npos);
    pad(line, ex.method, 7, 7);
    std::size_t target_at = line.size();
    if (ex.target.size() > 60) {
      line += std::string_view(ex.target).substr(0, 57);
      line += "...";
    } else {
      line += ex.target;
    }
    for (std::size_t i = target_at; i < line.size(); i++)
      if (line[i] == '\n' || line[i] == '\r' || line[i] == '\t') line[i] = ' ';
    pad_to(line, target_at, 60);
    line += ' ';
    line += color_of(ex);
    pad(line, status_of(ex), 10, std::string_view::npos, o_.color ? "\033[0m " : " ");
    // Right-aligned in 11 columns, in the summary's units ("870µs", "12.3ms"); "-" for none.
    std::size_t latency_at = line.size();
    std::size_t chars = 1;
    if (ex.latency_ns == 0) line += '-';
    else chars = append_latency(line, ex.latency_ns);
    if (chars < 11) line.insert(latency_at, 11 - chars, ' ');
    line += ' ';
    append_size(line, ex.request_size, 8, true);
    line += " > ";
    append_size(line, ex.response_size, 8, false);
    if (t.conn.tls) line += " [tls]";
    if (ex.gap) line += " [gap]";
    // Joined mid-connection: some header fields could not be decoded.
    if (protocols::headers_partial(ex)) line += " [partial headers]";
    line += messages(ex);
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), o_.out);
    if (o_.verbose) bodies(ex);  // flushed by the trace loop once per batch of exchanges
  }

 private:
  // gRPC message counts, requests > responses.
  static std::string messages(const protocols::Exchange& ex) {
    if (!is_grpc_call(ex)) return "";
    return fmt::format(" [msgs {}>{}]", field_or(ex, "grpc.request_messages"),
                       field_or(ex, "grpc.response_messages"));
  }

  // Characters of `text`: UTF-8 code points, as a terminal counts them.
  static std::size_t width(std::string_view text) {
    std::size_t n = 0;
    for (char c : text) n += (static_cast<unsigned char>(c) & 0xc0) != 0x80;
    return n;
  }

  // Spaces up to `columns` characters since byte `from` of `line`.
  static void pad_to(std::string& line, std::size_t from, std::size_t columns) {
    std::size_t w = width(std::string_view(line).substr(from));
    if (w < columns) line.append(columns - w, ' ');
  }

  // `text`, cut to `max` characters, left-aligned in `columns`, then `after`.
  static void pad(std::string& line, std::string_view text, std::size_t columns, std::size_t max,
                  std::string_view after = " ") {
    std::size_t from = line.size(), chars = 0, i = 0;
    for (; i < text.size(); i++) {
      bool starts = (static_cast<unsigned char>(text[i]) & 0xc0) != 0x80;
      if (starts && chars++ == max) break;
    }
    line += text.substr(0, i);
    pad_to(line, from, columns);
    line += after;
  }

  static std::string status_of(const protocols::Exchange& ex) {
    if (!ex.error.empty()) return "ERR " + ex.error.substr(0, 40);  // a reset needs no answer
    if (!ex.has_response) return "-";
    if (ex.protocol == Protocol::kHttp1 || (ex.protocol == Protocol::kHttp2 && !is_grpc_call(ex)))
      return std::to_string(ex.status);
    // A gRPC call whose grpc-status could not be decoded: its :status 200 says nothing.
    if (is_grpc_call(ex) && ex.status_text.empty()) return "?";
    return ex.status_text.empty() ? std::to_string(ex.status) : ex.status_text.substr(0, 24);
  }

  const char* color_of(const protocols::Exchange& ex) const {
    if (!o_.color) return "";
    if (!ex.error.empty() || ex.status >= 500) return "\033[31m";
    if (ex.status >= 400) return "\033[33m";
    return "\033[32m";
  }

  // "512B", "20K", "3M", padded to `columns` on the left (right-aligned) or on the right.
  static void append_size(std::string& line, std::uint64_t n, std::size_t columns, bool right) {
    char text[24];
    char unit = 'B';
    if (n >= 10 * 1024 * 1024) n /= 1024 * 1024, unit = 'M';
    else if (n >= 10 * 1024) n /= 1024, unit = 'K';
    char* end = std::to_chars(text, text + sizeof text - 1, n).ptr;
    *end++ = unit;
    auto len = static_cast<std::size_t>(end - text);
    std::size_t fill = len < columns ? columns - len : 0;
    if (right) line.append(fill, ' ');
    line.append(text, len);
    if (!right) line.append(fill, ' ');
  }

  void bodies(const protocols::Exchange& ex) {
    auto show = [&](const char* label, const protocols::Headers& h, const protocols::Body& b) {
      for (auto& [k, v] : h) std::fprintf(o_.out, "    %s %s: %s\n", label, k.c_str(), v.c_str());
      if (b.size == 0) return;
      std::string text = is_printable_utf8(b.data) ? b.data : "<" + std::to_string(b.size) + " binary bytes>";
      // gRPC messages as protobuf without a schema, the raw bytes staying in the body.
      std::string_view decoded =
          field_or(ex, *label == '>' ? "grpc.request_decoded" : "grpc.response_decoded");
      if (!decoded.empty()) {
        text.clear();
        for (char c : decoded) text += c == '\n' ? std::string("\n      ") : std::string(1, c);
        while (text.ends_with(' ')) text.pop_back();
        while (text.ends_with('\n')) text.pop_back();
      }
      std::fprintf(o_.out, "    %s body (%llu bytes%s):\n      %s\n", label,
                   static_cast<unsigned long long>(b.size), b.truncated() ? ", truncated" : "",
                   text.c_str());
    };
    if (ex.has_request) show(">", ex.request_headers, ex.request_body);
    if (ex.has_response) show("<", ex.response_headers, ex.response_body);
  }

  SinkOptions o_;
  std::string line_;  // reused: one allocation for the whole trace
};

// HAR 1.2: http://www.softwareishard.com/blog/har-12-spec/ — HTTP exchanges only.
class HarSink : public Sink {
 public:
  explicit HarSink(const SinkOptions& o) : o_(o) {}

  void write(capture::ExchangeView t) override {
    const auto& ex = t.exchange;
    if ((ex.protocol != Protocol::kHttp1 && ex.protocol != Protocol::kHttp2) || !ex.has_request) {
      skipped_++;
      return;
    }
    entries_.push_back(entry(t));
  }

  void finish() override {
    nlohmann::json har = {
        {"log",
         {{"version", "1.2"},
          {"creator", {{"name", "reel"}, {"version", "0.1"}}},
          {"pages", nlohmann::json::array()},
          {"entries", entries_},
          {"comment", fmt::format("{} non-HTTP exchanges not included", skipped_)}}}};
    std::fprintf(o_.out, "%s\n", har.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    std::fflush(o_.out);
  }

 private:
  static nlohmann::json har_headers(const protocols::Headers& h) {
    nlohmann::json arr = nlohmann::json::array();
    for (auto& [k, v] : h) arr.push_back({{"name", k}, {"value", v}});
    return arr;
  }

  static nlohmann::json query(const std::string& target) {
    nlohmann::json arr = nlohmann::json::array();
    auto q = target.find('?');
    if (q == std::string::npos) return arr;
    std::string_view rest(target);
    rest.remove_prefix(q + 1);
    while (!rest.empty()) {
      auto amp = rest.find('&');
      auto item = rest.substr(0, amp);
      auto eq = item.find('=');
      arr.push_back({{"name", std::string(item.substr(0, eq))},
                     {"value", eq == std::string_view::npos ? "" : std::string(item.substr(eq + 1))}});
      if (amp == std::string_view::npos) break;
      rest.remove_prefix(amp + 1);
    }
    return arr;
  }

  nlohmann::json entry(capture::ExchangeView t) const {
    const auto& ex = t.exchange;
    std::string host(protocols::find_header(ex.request_headers, "host"));
    if (host.empty()) host = ex.host;
    if (host.empty()) host = (t.conn.server ? t.conn.local : t.conn.remote).to_string();
    std::string version = ex.fields.count("http.version") ? ex.fields.at("http.version") : "HTTP/1.1";
    if (ex.protocol == Protocol::kHttp2) version = "HTTP/2";
    std::string mime(protocols::find_header(ex.response_headers, "content-type"));
    nlohmann::json content = {{"size", ex.response_body.size}, {"mimeType", mime}};
    if (is_printable_utf8(ex.response_body.data)) {
      content["text"] = ex.response_body.data;
    } else {
      content["text"] = base64_encode(ex.response_body.data);
      content["encoding"] = "base64";
    }
    if (ex.response_body.truncated()) content["comment"] = "truncated by reel's --max-body";
    nlohmann::json request = {{"method", ex.method},
                              {"url", "http://" + host + ex.target},
                              {"httpVersion", version},
                              {"cookies", nlohmann::json::array()},
                              {"headers", har_headers(ex.request_headers)},
                              {"queryString", query(ex.target)},
                              {"headersSize", -1},
                              {"bodySize", ex.request_body.size}};
    if (ex.request_body.size > 0)
      request["postData"] = {{"mimeType", std::string(protocols::find_header(ex.request_headers, "content-type"))},
                             {"text", is_printable_utf8(ex.request_body.data) ? ex.request_body.data
                                                                             : base64_encode(ex.request_body.data)}};
    double wait = ex.has_response && ex.response_time.first_ns > ex.request_time.last_ns
                      ? ms(ex.response_time.first_ns - ex.request_time.last_ns) : 0;
    double send = ms(ex.request_time.last_ns - ex.request_time.first_ns);
    double receive = ex.has_response ? ms(ex.response_time.last_ns - ex.response_time.first_ns) : 0;
    return {{"startedDateTime", iso8601_utc(static_cast<std::int64_t>(ex.request_time.first_ns) + o_.mono_to_real_ns)},
            {"time", send + wait + receive},
            {"request", request},
            {"response",
             {{"status", ex.status},
              {"statusText", ex.status_text},
              {"httpVersion", version},
              {"cookies", nlohmann::json::array()},
              {"headers", har_headers(ex.response_headers)},
              {"content", content},
              {"redirectURL", std::string(protocols::find_header(ex.response_headers, "location"))},
              {"headersSize", -1},
              {"bodySize", ex.response_body.size}}},
            {"cache", nlohmann::json::object()},
            {"timings", {{"send", send}, {"wait", wait}, {"receive", receive}}},
            {"serverIPAddress", (t.conn.server ? t.conn.local : t.conn.remote).ip.to_string()},
            {"connection", std::to_string(t.conn.key.fd)}};
  }

  SinkOptions o_;
  nlohmann::json entries_ = nlohmann::json::array();
  std::uint64_t skipped_ = 0;
};

}  // namespace

std::unique_ptr<Sink> make_pretty_sink(const SinkOptions& o) { return std::make_unique<PrettySink>(o); }
std::unique_ptr<Sink> make_json_sink(const SinkOptions& o) { return std::make_unique<JsonSink>(o); }
std::unique_ptr<Sink> make_har_sink(const SinkOptions& o) { return std::make_unique<HarSink>(o); }

}  // namespace reel::trace
