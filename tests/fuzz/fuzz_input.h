// Splits a fuzzer's input into small typed pieces (a minimal FuzzedDataProvider, which g++
// builds do not have). Reading past the end yields zeros and empty spans.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

namespace reel::fuzz {

class FuzzInput {
 public:
  FuzzInput(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}

  bool empty() const { return pos_ >= size_; }
  std::uint8_t byte() { return empty() ? 0 : data_[pos_++]; }
  std::span<const std::byte> take(std::size_t n) {
    n = std::min(n, size_ - std::min(pos_, size_));
    auto out = std::span<const std::byte>(reinterpret_cast<const std::byte*>(data_ + pos_), n);
    pos_ += n;
    return out;
  }
  std::span<const std::byte> rest() { return take(size_); }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

}  // namespace reel::fuzz
