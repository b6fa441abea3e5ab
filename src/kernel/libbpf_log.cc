#include "kernel/libbpf_log.h"

#include <bpf/libbpf.h>
#include <spdlog/spdlog.h>

#include <cstdarg>
#include <cstdio>
#include <string>

namespace reel {

namespace {

int print(enum libbpf_print_level level, const char* format, va_list args) {
  char buf[2048];
  int n = std::vsnprintf(buf, sizeof buf, format, args);
  std::string msg(buf, n > 0 ? std::min<size_t>(n, sizeof buf - 1) : 0);
  while (!msg.empty() && msg.back() == '\n') msg.pop_back();
  if (level == LIBBPF_WARN)
    spdlog::debug("libbpf: {}", msg);  // callers turn failures into their own sentence
  else
    spdlog::trace("libbpf: {}", msg);
  return n;
}

}  // namespace

void route_libbpf_logs() { libbpf_set_print(print); }

}  // namespace reel
