// Which functions an ELF file defines, and where: tells a library or executable that carries
// OpenSSL (shared or statically linked) from one that only calls it, and gives the file offsets
// and first bytes a uprobe placement needs.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace reel::capture {

struct ElfFunction {
  std::uint64_t vaddr = 0;
  std::uint64_t file_offset = 0;
  std::uint64_t size = 0;  // bytes of code, as the symbol table gives it (0: unknown)
};

class ElfImage {
 public:
  // The functions among `wanted` that `path` defines (.symtab or .dynsym); nullopt when the file
  // is not ELF or cannot be read.
  static std::optional<ElfImage> load(const std::string& path,
                                      std::span<const std::string_view> wanted);

  const std::map<std::string, ElfFunction, std::less<>>& functions() const { return functions_; }
  // File offset of a virtual address inside an executable section; nullopt when none holds it.
  std::optional<std::uint64_t> file_offset_of(std::uint64_t vaddr) const;
  // Up to `n` bytes of the file at `offset` (fewer at the end of the file).
  std::vector<std::uint8_t> bytes_at(std::uint64_t offset, std::size_t n) const;

 private:
  struct Section {
    std::uint64_t addr, size, offset;
  };
  std::string path_;
  std::map<std::string, ElfFunction, std::less<>> functions_;
  std::vector<Section> exec_sections_;
};

}  // namespace reel::capture
