#include "capture/elf_symbols.h"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string_view>

#include "core/unique_fd.h"

namespace reel::capture {

namespace {

struct ElfCloser {
  void operator()(Elf* e) const { elf_end(e); }
};

template <typename T>
std::optional<T> read_at(std::span<const std::uint8_t> b, std::uint64_t at) {
  if (at > b.size() || b.size() - at < sizeof(T)) return std::nullopt;
  T v;
  std::memcpy(&v, b.data() + at, sizeof v);
  return v;
}

// The functions a Go executable (Go >= 1.18, 64-bit) lists in .gopclntab, which stays when the
// symbol table is stripped (-ldflags=-s): header {magic, pad, minLC, ptrSize, nfunc, nfiles,
// textStart, funcnameOffset, cuOffset, filetabOffset, pctabOffset, pclnOffset}; at pclnOffset,
// nfunc+1 pairs {entryOff, funcOff} (uint32, from textStart); at pclnOffset+funcOff a _func
// whose second field is the name's offset from funcnameOffset. Calls `found(name, vaddr, size)`.
template <typename Found>
void go_pclntab_functions(std::span<const std::uint8_t> tab, Found found) {
  auto magic = read_at<std::uint32_t>(tab, 0);
  if (!magic || (*magic != 0xfffffff0 && *magic != 0xfffffff1) || tab.size() < 8 || tab[7] != 8)
    return;
  auto word = [&](int i) { return read_at<std::uint64_t>(tab, 8 + 8 * static_cast<std::uint64_t>(i)); };
  auto nfunc = word(0), text = word(2), names = word(3), pcln = word(7);
  if (!nfunc || !text || !names || !pcln || *nfunc > (1u << 24)) return;
  for (std::uint64_t i = 0; i < *nfunc; i++) {
    auto entry = read_at<std::uint32_t>(tab, *pcln + 8 * i);
    auto func = read_at<std::uint32_t>(tab, *pcln + 8 * i + 4);
    auto next = read_at<std::uint32_t>(tab, *pcln + 8 * (i + 1));
    if (!entry || !func || !next) return;
    auto name_off = read_at<std::int32_t>(tab, *pcln + *func + 4);
    if (!name_off || *name_off < 0) continue;
    std::uint64_t at = *names + static_cast<std::uint64_t>(*name_off);
    if (at >= tab.size()) continue;
    const char* start = reinterpret_cast<const char*>(tab.data() + at);
    std::string_view name(start, strnlen(start, tab.size() - at));
    found(name, *text + *entry, *next > *entry ? *next - *entry : 0);
  }
}

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
  Elf_Scn* pclntab = nullptr;
  std::size_t shstrndx = 0;
  bool names = elf_getshdrstrndx(elf.get(), &shstrndx) == 0;
  Elf_Scn* scn = nullptr;
  while ((scn = elf_nextscn(elf.get(), scn)) != nullptr) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh)) continue;
    if (sh.sh_type == SHT_SYMTAB || sh.sh_type == SHT_DYNSYM) tables.emplace_back(scn, sh);
    const char* name = names ? elf_strptr(elf.get(), shstrndx, sh.sh_name) : nullptr;
    if (name && std::string_view(name) == ".gopclntab") pclntab = scn;
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
  // A stripped Go executable still lists its functions for the runtime.
  Elf_Data* pcln = pclntab && img.functions_.size() < wanted.size() ? elf_getdata(pclntab, nullptr) : nullptr;
  if (pcln && pcln->d_buf) {
    std::span<const std::uint8_t> tab(static_cast<const std::uint8_t*>(pcln->d_buf), pcln->d_size);
    go_pclntab_functions(tab, [&](std::string_view name, std::uint64_t vaddr, std::uint64_t size) {
      if (std::find(wanted.begin(), wanted.end(), name) == wanted.end() || img.functions_.contains(name))
        return;
      if (auto off = img.file_offset_of(vaddr))
        img.functions_.emplace(std::string(name), ElfFunction{vaddr, *off, size});
    });
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
