#include "capture/elf_symbols.h"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

#include <algorithm>
#include <memory>

#include "core/unique_fd.h"

namespace reel::capture {

namespace {

struct ElfCloser {
  void operator()(Elf* e) const { elf_end(e); }
};

}  // namespace

std::optional<ElfImage> ElfImage::load(const std::string& path,
                                       std::span<const std::string_view> wanted) {
  if (elf_version(EV_CURRENT) == EV_NONE) return std::nullopt;
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return std::nullopt;
  std::unique_ptr<Elf, ElfCloser> elf(elf_begin(fd.get(), ELF_C_READ_MMAP, nullptr));
  if (!elf || elf_kind(elf.get()) != ELF_K_ELF) return std::nullopt;
  ElfImage img;
  img.path_ = path;
  std::vector<std::pair<Elf_Scn*, GElf_Shdr>> tables;
  Elf_Scn* scn = nullptr;
  while ((scn = elf_nextscn(elf.get(), scn)) != nullptr) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh)) continue;
    if (sh.sh_type == SHT_SYMTAB || sh.sh_type == SHT_DYNSYM) tables.emplace_back(scn, sh);
    if (sh.sh_type == SHT_PROGBITS && (sh.sh_flags & SHF_EXECINSTR))
      img.exec_sections_.push_back({sh.sh_addr, sh.sh_size, sh.sh_offset});
  }
  for (auto& [tscn, sh] : tables) {
    Elf_Data* data = elf_getdata(tscn, nullptr);
    if (!data || sh.sh_entsize == 0) continue;
    std::size_t n = sh.sh_size / sh.sh_entsize;
    for (std::size_t i = 0; i < n; i++) {
      GElf_Sym sym;
      if (!gelf_getsym(data, static_cast<int>(i), &sym)) continue;
      int type = GELF_ST_TYPE(sym.st_info);
      if ((type != STT_FUNC && type != STT_GNU_IFUNC) || sym.st_shndx == SHN_UNDEF || sym.st_value == 0)
        continue;
      const char* name = elf_strptr(elf.get(), sh.sh_link, sym.st_name);
      if (!name) continue;
      std::string_view s(name);
      if (auto at = s.find('@'); at != std::string_view::npos) s = s.substr(0, at);
      if (std::find(wanted.begin(), wanted.end(), s) == wanted.end() || img.functions_.contains(s))
        continue;
      if (auto off = img.file_offset_of(sym.st_value))
        img.functions_.emplace(std::string(s), ElfFunction{sym.st_value, *off, sym.st_size});
    }
  }
  return img;
}

std::optional<std::uint64_t> ElfImage::file_offset_of(std::uint64_t vaddr) const {
  for (auto& s : exec_sections_)
    if (vaddr >= s.addr && vaddr < s.addr + s.size) return vaddr - s.addr + s.offset;
  return std::nullopt;
}

std::vector<std::uint8_t> ElfImage::bytes_at(std::uint64_t offset, std::size_t n) const {
  std::vector<std::uint8_t> out(n);
  UniqueFd fd(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
  ssize_t got = fd ? ::pread(fd.get(), out.data(), n, static_cast<off_t>(offset)) : -1;
  out.resize(got > 0 ? static_cast<std::size_t>(got) : 0);
  return out;
}

}  // namespace reel::capture
