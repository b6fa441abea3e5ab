# Builds BPF programs with clang -target bpf and turns each object into a libbpf skeleton.
#
# vmlinux.h is generated at build time from /sys/kernel/btf/vmlinux rather than pinned in the
# repo: the header is ~3 MB of generated text that would go stale, while CO-RE relocations make
# the compiled object portable across kernels anyway. The machines that build reel are the
# machines that run it (the programs need root and BTF there regardless), so BTF is always at hand.
find_program(BPF_CLANG NAMES clang clang-14 REQUIRED)
find_program(BPFTOOL NAMES bpftool PATHS /usr/sbin /usr/local/sbin REQUIRED)

set(REEL_BPF_GEN_DIR ${CMAKE_BINARY_DIR}/bpfgen)
file(MAKE_DIRECTORY ${REEL_BPF_GEN_DIR})
set(REEL_VMLINUX_BTF /sys/kernel/btf/vmlinux)
if(NOT EXISTS ${REEL_VMLINUX_BTF})
  message(FATAL_ERROR "${REEL_VMLINUX_BTF} is missing: this kernel has no BTF "
                      "(CONFIG_DEBUG_INFO_BTF), which reel's CO-RE programs need.")
endif()
add_custom_command(
  OUTPUT ${REEL_BPF_GEN_DIR}/vmlinux.h
  COMMAND ${BPFTOOL} btf dump file ${REEL_VMLINUX_BTF} format c > ${REEL_BPF_GEN_DIR}/vmlinux.h
  COMMENT "Generating vmlinux.h from ${REEL_VMLINUX_BTF}")

add_custom_target(reel_bpf_skeletons)

# reel_bpf_skeleton(NAME SOURCE [CLANG_FLAG...]): NAME.skel.h from SOURCE built with the flags.
function(reel_bpf_skeleton name source)
  set(obj ${REEL_BPF_GEN_DIR}/${name}.bpf.o)
  set(skel ${REEL_BPF_GEN_DIR}/${name}.skel.h)
  file(GLOB abi_headers ${CMAKE_SOURCE_DIR}/bpf/abi/*.h ${CMAKE_SOURCE_DIR}/bpf/*.h)
  add_custom_command(
    OUTPUT ${obj}
    COMMAND ${BPF_CLANG} -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_x86 -Wall -Werror
            -I${REEL_BPF_GEN_DIR} -I${CMAKE_SOURCE_DIR}/bpf -I${CMAKE_SOURCE_DIR}
            ${ARGN} -c ${CMAKE_SOURCE_DIR}/${source} -o ${obj}
    DEPENDS ${CMAKE_SOURCE_DIR}/${source} ${abi_headers} ${REEL_BPF_GEN_DIR}/vmlinux.h
    COMMENT "BPF ${source}")
  add_custom_command(
    OUTPUT ${skel}
    COMMAND ${BPFTOOL} gen skeleton ${obj} name ${name} > ${skel}
    DEPENDS ${obj}
    COMMENT "Skeleton ${name}.skel.h")
  add_custom_target(reel_bpf_${name} DEPENDS ${skel})
  add_dependencies(reel_bpf_skeletons reel_bpf_${name})
endfunction()
