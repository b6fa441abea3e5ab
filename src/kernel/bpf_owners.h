// Move-only owners of libbpf objects. A bpf_link detaches its program when the last fd to it
// closes, so reel never pins: a crashed reel leaves nothing attached.
#pragma once

#include <bpf/libbpf.h>

#include <memory>

namespace reel {

struct BpfLinkDeleter {
  void operator()(bpf_link* l) const { bpf_link__destroy(l); }
};
using BpfLink = std::unique_ptr<bpf_link, BpfLinkDeleter>;

struct RingBufferDeleter {
  void operator()(ring_buffer* rb) const { ring_buffer__free(rb); }
};
using RingBuffer = std::unique_ptr<ring_buffer, RingBufferDeleter>;

// Owner of a bpftool-generated skeleton; `Destroy` is the skeleton's NAME__destroy.
template <typename Skel, void (*Destroy)(Skel*)>
struct SkeletonDeleter {
  void operator()(Skel* s) const { Destroy(s); }
};
template <typename Skel, void (*Destroy)(Skel*)>
using Skeleton = std::unique_ptr<Skel, SkeletonDeleter<Skel, Destroy>>;

}  // namespace reel
