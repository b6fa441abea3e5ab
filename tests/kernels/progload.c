// Loads every program of a BPF object file alone (all others' autoload off) and prints, per
// program, ok or the kernel's verdict with the verifier log. Research aid for the kernel matrix:
//   progload FILE.bpf.o [PROG...]   (PROGLOAD_STATS=1: verifier totals; PROGLOAD_VERBOSE=1: all)
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int verbose, stats;

static int print(enum libbpf_print_level level, const char* fmt, va_list ap) {
  if (level == LIBBPF_WARN || verbose) return vfprintf(stdout, fmt, ap);
  if (stats) {  // on success libbpf prints the requested log at debug level: keep the totals
    char buf[65536];
    vsnprintf(buf, sizeof buf, fmt, ap);
    for (char* line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
      if (strstr(line, "processed ") || strstr(line, "verification time")) printf("%s\n", line);
  }
  return 0;
}

static int wanted(const char* name, int argc, char** argv) {
  if (argc <= 2) return 1;
  for (int i = 2; i < argc; i++)
    if (!strcmp(argv[i], name)) return 1;
  return 0;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: progload FILE.bpf.o [PROG...]\n");
    return 2;
  }
  verbose = getenv("PROGLOAD_VERBOSE") != NULL;
  stats = getenv("PROGLOAD_STATS") != NULL;
  libbpf_set_print(print);
  struct bpf_object* probe = bpf_object__open_file(argv[1], NULL);
  if (!probe) {
    printf("open %s: %s\n", argv[1], strerror(errno));
    return 1;
  }
  int failed = 0, total = 0;
  struct bpf_program* p;
  bpf_object__for_each_program(p, probe) {
    const char* name = bpf_program__name(p);
    if (!wanted(name, argc, argv)) continue;
    total++;
    struct bpf_object* obj = bpf_object__open_file(argv[1], NULL);
    struct bpf_program* q;
    bpf_object__for_each_program(q, obj) {
      bpf_program__set_autoload(q, !strcmp(bpf_program__name(q), name));
      if (stats) bpf_program__set_log_level(q, 4);
    }
    printf("---- %s (%s)\n", name, bpf_program__section_name(p));
    fflush(stdout);
    int err = bpf_object__load(obj);
    printf("==== %s: %s\n", name, err ? strerror(-err) : "ok");
    fflush(stdout);
    if (err) failed++;
    bpf_object__close(obj);
  }
  printf("%d programs, %d failed\n", total, failed);
  bpf_object__close(probe);
  return failed ? 1 : 0;
}
