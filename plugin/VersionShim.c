//===- VersionShim.c - The file users load, libgoroutine-plugin.so --------===//
//
// The plugin proper (libgoroutine-plugin-impl.so) is linked against Clang 19's
// C++ interfaces. Loaded into another Clang it would fail inside the dynamic
// loader with an "undefined symbol" message naming some mangled C++ function,
// or worse, bind to same-named symbols of another version. This shim depends
// on libc only: its constructor checks which Clang loaded it and either loads
// the plugin proper from its own directory or stops with a clear message.
//
//===----------------------------------------------------------------------===//
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REQUIRED_MAJOR "19"

struct host {
  char clang_lib[256]; /* e.g. libclang-cpp.so.19.1 */
  char llvm_lib[256];  /* e.g. libLLVM.so.19.1 */
};

static int find_host_libraries(struct dl_phdr_info *info, size_t size,
                               void *data) {
  (void)size;
  struct host *h = data;
  const char *slash = strrchr(info->dlpi_name, '/');
  const char *base = slash ? slash + 1 : info->dlpi_name;
  if (strncmp(base, "libclang-cpp.so.", 16) == 0)
    snprintf(h->clang_lib, sizeof h->clang_lib, "%s", base);
  else if (strncmp(base, "libLLVM", 7) == 0 && strstr(base, ".so"))
    snprintf(h->llvm_lib, sizeof h->llvm_lib, "%s", base);
  return 0;
}

/* The major version in "libclang-cpp.so.19.1", "libLLVM.so.19.1" or
 * "libLLVM-19.so" (empty if none). */
static void major_version(const char *lib, char *out, size_t n) {
  const char *p = strstr(lib, ".so.");
  if (p)
    p += 4;
  else if ((p = strchr(lib, '-')))
    p += 1;
  size_t i = 0;
  while (p && p[i] >= '0' && p[i] <= '9' && i + 1 < n) {
    out[i] = p[i];
    i++;
  }
  out[i] = '\0';
}

__attribute__((constructor)) static void goroutine_plugin_load(void) {
  struct host h = {{0}, {0}};
  dl_iterate_phdr(find_host_libraries, &h);
  char major[16] = "";
  const char *lib = h.clang_lib[0] ? h.clang_lib : h.llvm_lib;
  major_version(lib, major, sizeof major);
  if (strcmp(major, REQUIRED_MAJOR) != 0) {
    if (lib[0])
      fprintf(
          stderr,
          "error: libgoroutine-plugin.so was built for Clang " REQUIRED_MAJOR
          " but was loaded into a compiler using %s (Clang %s); compile "
          "with clang-" REQUIRED_MAJOR " or build/bin/goroutine-clang\n",
          lib, major[0] ? major : "unknown");
    else
      fprintf(
          stderr,
          "error: libgoroutine-plugin.so was built for Clang " REQUIRED_MAJOR
          " but was loaded by a program that is not Clang " REQUIRED_MAJOR
          "; compile with clang-" REQUIRED_MAJOR
          " or build/bin/goroutine-clang\n");
    _exit(1);
  }

  Dl_info self;
  if (!dladdr((void *)goroutine_plugin_load, &self) || !self.dli_fname) {
    fprintf(stderr, "error: libgoroutine-plugin.so cannot find itself\n");
    _exit(1);
  }
  char path[4096];
  snprintf(path, sizeof path, "%s", self.dli_fname);
  char *slash = strrchr(path, '/');
  size_t dir = slash ? (size_t)(slash - path + 1) : 0;
  snprintf(path + dir, sizeof path - dir, "libgoroutine-plugin-impl.so");
  if (!dlopen(path, RTLD_NOW | RTLD_GLOBAL)) {
    fprintf(stderr, "error: libgoroutine-plugin.so: cannot load %s: %s\n", path,
            dlerror());
    _exit(1);
  }
}
