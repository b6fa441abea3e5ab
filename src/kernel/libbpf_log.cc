#include "kernel/libbpf_log.h"

#include "kernel/bpf_diagnose.h"

#include <bpf/libbpf.h>
#include <spdlog/spdlog.h>

#include <cstdarg>
#include <cstdio>
#include <string>

namespace reel {

namespace {

int print(enum libbpf_print_level level, const char* format, va_list args) {
  // Whole messages: a verifier log (one message) says why it failed at its end.
  va_list again;
  va_copy(again, args);
  int n = std::vsnprintf(nullptr, 0, format, args);
  std::string msg(n > 0 ? static_cast<size_t>(n) : 0, '\0');
  if (n > 0) std::vsnprintf(msg.data(), msg.size() + 1, format, again);
  va_end(again);
  while (!msg.empty() && msg.back() == '\n') msg.pop_back();
  if (level == LIBBPF_WARN) {
    LibbpfMessages::record(msg);
    spdlog::debug("libbpf: {}", msg);  // callers turn failures into their own sentence
  } else {
    spdlog::trace("libbpf: {}", msg);
  }
  return n;
}

}  // namespace

void route_libbpf_logs() { libbpf_set_print(print); }

}  // namespace reel
