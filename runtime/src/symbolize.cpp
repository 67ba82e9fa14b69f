// symbolize.cpp: code addresses to file:line, inlined calls included, as
// Go's tracebacks show them.
//
// libdw (elfutils) reads the DWARF of every module mapped in the process
// (dwfl_linux_proc_report). It is loaded with dlopen the first time a trace
// needs it, not linked: a program that never prints a trace does not need it,
// and without it traces still name every function (from libunwind) and show
// module+offset instead of file:line.
//
// For an address, the compile unit is found through .debug_aranges when the
// module has them and they are right, else (Clang emits none, and libdw 0.188
// does not fall back) by asking each unit whether it covers the address. Within
// the unit, a walk down the DIE tree finds the nest of scopes at the address:
// the DW_TAG_subprogram and each DW_TAG_inlined_subroutine in it. The
// innermost line comes from the line table; each outer frame's line is the
// call site (DW_AT_call_file/DW_AT_call_line) of the frame inlined into it.
//
// One Dwfl session serves the process, under a mutex (Dwfl is not
// thread-safe). It is refreshed when an address falls outside every module it
// knows (a library loaded since), at most kMaxRefreshes times.
#include "symbolize.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <dlfcn.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <link.h>
#include <mutex>
#include <unistd.h>

// The program's dynamic section (<link.h>), made weak: absent (null) in a
// -static program.
extern ElfW(Dyn) _DYNAMIC[] __attribute__((weak));

namespace {
bool static_program() {
  const void *volatile dynamic = _DYNAMIC; // the compiler assumes non-null
  return dynamic == nullptr;
}
} // namespace

namespace go::runtime {
namespace {

// The libdw functions used here, resolved from the dlopen'ed library.
struct Libdw {
  decltype(&dwfl_begin) begin = nullptr;
  decltype(&dwfl_report_begin) report_begin = nullptr;
  decltype(&dwfl_linux_proc_report) proc_report = nullptr;
  decltype(&dwfl_report_end) report_end = nullptr;
  decltype(&dwfl_addrmodule) addrmodule = nullptr;
  decltype(&dwfl_module_addrdie) module_addrdie = nullptr;
  decltype(&dwfl_module_nextcu) module_nextcu = nullptr;
  decltype(&dwfl_module_addrinfo) module_addrinfo = nullptr;
  decltype(&dwarf_haspc) haspc = nullptr;
  decltype(&dwarf_getsrc_die) getsrc_die = nullptr;
  decltype(&dwarf_lineno) lineno = nullptr;
  decltype(&dwarf_linesrc) linesrc = nullptr;
  decltype(&dwarf_child) child = nullptr;
  decltype(&dwarf_siblingof) siblingof = nullptr;
  decltype(&dwarf_tag) tag = nullptr;
  decltype(&dwarf_attr) attr = nullptr;
  decltype(&dwarf_attr_integrate) attr_integrate = nullptr;
  decltype(&dwarf_formstring) formstring = nullptr;
  decltype(&dwarf_formudata) formudata = nullptr;
  decltype(&dwarf_getsrcfiles) getsrcfiles = nullptr;
  decltype(&dwarf_filesrc) filesrc = nullptr;
  Dwfl_Callbacks callbacks{};

  bool load(void *h) {
    return dl_symbol(h, callbacks.find_elf, "dwfl_linux_proc_find_elf") &&
           dl_symbol(h, callbacks.find_debuginfo,
                     "dwfl_standard_find_debuginfo") &&
           dl_symbol(h, begin, "dwfl_begin") &&
           dl_symbol(h, report_begin, "dwfl_report_begin") &&
           dl_symbol(h, proc_report, "dwfl_linux_proc_report") &&
           dl_symbol(h, report_end, "dwfl_report_end") &&
           dl_symbol(h, addrmodule, "dwfl_addrmodule") &&
           dl_symbol(h, module_addrdie, "dwfl_module_addrdie") &&
           dl_symbol(h, module_nextcu, "dwfl_module_nextcu") &&
           dl_symbol(h, module_addrinfo, "dwfl_module_addrinfo") &&
           dl_symbol(h, haspc, "dwarf_haspc") &&
           dl_symbol(h, getsrc_die, "dwarf_getsrc_die") &&
           dl_symbol(h, lineno, "dwarf_lineno") &&
           dl_symbol(h, linesrc, "dwarf_linesrc") &&
           dl_symbol(h, child, "dwarf_child") &&
           dl_symbol(h, siblingof, "dwarf_siblingof") &&
           dl_symbol(h, tag, "dwarf_tag") && dl_symbol(h, attr, "dwarf_attr") &&
           dl_symbol(h, attr_integrate, "dwarf_attr_integrate") &&
           dl_symbol(h, formstring, "dwarf_formstring") &&
           dl_symbol(h, formudata, "dwarf_formudata") &&
           dl_symbol(h, getsrcfiles, "dwarf_getsrcfiles") &&
           dl_symbol(h, filesrc, "dwarf_filesrc");
  }
};

class Symbolizer {
public:
  int resolve(uintptr_t pc, bool may_wait, SourceLocation *out, int max) {
    const std::unique_lock<std::mutex> lock = take(may_wait);
    if (!lock.owns_lock())
      return 0;
    Dwfl_Module *mod = module(pc);
    Dwarf_Addr bias = 0;
    Dwarf_Die *cu = mod != nullptr ? unit(mod, pc, &bias) : nullptr;
    if (cu == nullptr || max <= 0)
      return 0;
    const Dwarf_Addr addr = pc - bias;
    Dwarf_Line *line = dw_.getsrc_die(cu, addr);
    if (line == nullptr)
      return 0;
    SourceLocation here;
    here.file = dw_.linesrc(line, nullptr, nullptr);
    if (here.file == nullptr || dw_.lineno(line, &here.line) != 0)
      return 0;
    // The scopes at addr, outermost first; each inlined call adds a frame,
    // innermost first.
    Dwarf_Die scopes[kMaxDepth];
    const int nscopes = std::min(find_scopes(cu, addr, scopes, 0), kMaxDepth);
    int n = 0;
    for (int i = nscopes - 1; i >= 0 && n < max - 1; --i) {
      Dwarf_Die *scope = &scopes[i];
      if (dw_.tag(scope) != DW_TAG_inlined_subroutine)
        continue;
      here.function = name_of(scope);
      out[n++] = here;
      // The frame it was inlined into is at the call site.
      here = SourceLocation{};
      here.file = call_file(cu, scope);
      here.line = static_cast<int>(udata(scope, DW_AT_call_line));
    }
    here.function = nullptr; // the caller names the real function
    out[n++] = here;
    return n;
  }

  bool symbol(uintptr_t pc, char *name, size_t size, bool may_wait) {
    const std::unique_lock<std::mutex> lock = take(may_wait);
    if (!lock.owns_lock())
      return false;
    Dwfl_Module *mod = module(pc);
    GElf_Off offset = 0;
    GElf_Sym sym;
    const char *found = mod != nullptr
                            ? dw_.module_addrinfo(mod, pc, &offset, &sym,
                                                  nullptr, nullptr, nullptr)
                            : nullptr;
    if (found != nullptr)
      std::snprintf(name, size, "%s", found);
    return found != nullptr;
  }

private:
  static constexpr int kMaxRefreshes = 16;
  static constexpr int kMaxDepth = 64; // nested scopes followed

  // The session's lock; not owned when may_wait is false and another thread
  // holds it.
  std::unique_lock<std::mutex> take(bool may_wait) {
    if (may_wait)
      return std::unique_lock<std::mutex>(mu_);
    return std::unique_lock<std::mutex>(mu_, std::try_to_lock);
  }

  // The module containing pc (lock held).
  Dwfl_Module *module(uintptr_t pc) {
    if (!load())
      return nullptr;
    Dwfl_Module *mod = dw_.addrmodule(dwfl_, pc);
    if (mod == nullptr && refreshes_ < kMaxRefreshes) {
      ++refreshes_;
      report();
      mod = dw_.addrmodule(dwfl_, pc);
    }
    return mod;
  }

  // The compile unit containing pc, and the module's load bias.
  Dwarf_Die *unit(Dwfl_Module *mod, uintptr_t pc, Dwarf_Addr *bias) {
    // .debug_aranges can name the wrong unit when units of several DWARF
    // versions are linked together (libdw 0.188): check its answer.
    if (Dwarf_Die *cu = dw_.module_addrdie(mod, pc, bias))
      if (dw_.haspc(cu, pc - *bias) > 0)
        return cu;
    for (Dwarf_Die *cu = dw_.module_nextcu(mod, nullptr, bias); cu != nullptr;
         cu = dw_.module_nextcu(mod, cu, bias))
      if (dw_.haspc(cu, pc - *bias) > 0)
        return cu;
    return nullptr;
  }

  // Fills chain[depth...] with the nest of scopes below parent that contain
  // addr (a subprogram, the calls inlined into it, their blocks), outermost
  // first; returns the depth reached. (libdw 0.188's dwarf_getscopes finds
  // nothing in some units Clang 19 writes.)
  int find_scopes(Dwarf_Die *parent, Dwarf_Addr addr, Dwarf_Die *chain,
                  int depth) {
    Dwarf_Die child;
    if (depth >= kMaxDepth || dw_.child(parent, &child) != 0)
      return depth;
    do {
      switch (dw_.tag(&child)) {
      case DW_TAG_namespace: // definitions may be nested in these
      case DW_TAG_class_type:
      case DW_TAG_structure_type:
      case DW_TAG_union_type:
        if (const int found = find_scopes(&child, addr, chain, depth);
            found > depth)
          return found;
        break;
      case DW_TAG_subprogram:
      case DW_TAG_inlined_subroutine:
      case DW_TAG_lexical_block:
        if (dw_.haspc(&child, addr) > 0) {
          chain[depth] = child;
          return find_scopes(&chain[depth], addr, chain, depth + 1);
        }
        break;
      default:
        break;
      }
    } while (dw_.siblingof(&child, &child) == 0);
    return depth;
  }

  // The linkage (mangled) name of an inlined function, else its plain name.
  const char *name_of(Dwarf_Die *die) {
    Dwarf_Attribute a;
    for (unsigned at :
         {DW_AT_linkage_name, DW_AT_MIPS_linkage_name, DW_AT_name})
      if (dw_.attr_integrate(die, at, &a) != nullptr)
        if (const char *s = dw_.formstring(&a))
          return s;
    return nullptr;
  }

  Dwarf_Word udata(Dwarf_Die *die, unsigned at) {
    Dwarf_Attribute a;
    Dwarf_Word v = 0;
    if (dw_.attr(die, at, &a) == nullptr || dw_.formudata(&a, &v) != 0)
      return 0;
    return v;
  }

  const char *call_file(Dwarf_Die *cu, Dwarf_Die *inlined) {
    Dwarf_Files *files = nullptr;
    size_t nfiles = 0;
    const Dwarf_Word index = udata(inlined, DW_AT_call_file);
    if (dw_.getsrcfiles(cu, &files, &nfiles) != 0 || index >= nfiles)
      return nullptr;
    return dw_.filesrc(files, index, nullptr, nullptr);
  }

  bool load() {
    if (tried_)
      return dwfl_ != nullptr;
    tried_ = true;
    // A -static program has no dynamic linker of its own: libdw would come
    // with a second C library, and crashes in it. Traces then show the
    // names libunwind reads from the symbol table, with offsets.
    if (static_program())
      return false;
    void *h = dlopen("libdw.so.1", RTLD_NOW | RTLD_LOCAL);
    if (h == nullptr || !dw_.load(h))
      return false;
    dw_.callbacks.debuginfo_path = &debuginfo_path_;
    dwfl_ = dw_.begin(&dw_.callbacks);
    if (dwfl_ != nullptr)
      report();
    return dwfl_ != nullptr;
  }

  void report() {
    dw_.report_begin(dwfl_);
    dw_.proc_report(dwfl_, getpid());
    dw_.report_end(dwfl_, nullptr, nullptr);
  }

  std::mutex mu_;
  bool tried_ = false;
  int refreshes_ = 0;
  Libdw dw_;
  char *debuginfo_path_ = nullptr;
  Dwfl *dwfl_ = nullptr;
};

Symbolizer &symbolizer() {
  // Never destroyed: traces may be printed while the process exits.
  static Symbolizer &s = *new Symbolizer;
  return s;
}

} // namespace

int symbolize(uintptr_t pc, bool may_wait, SourceLocation *out, int max) {
  return symbolizer().resolve(pc, may_wait, out, max);
}

bool symbol_name(uintptr_t pc, char *name, size_t size, bool may_wait) {
  return symbolizer().symbol(pc, name, size, may_wait);
}

} // namespace go::runtime
