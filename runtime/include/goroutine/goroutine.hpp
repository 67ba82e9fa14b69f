// goroutine.hpp: Go's goroutines for C++.
//
//   #include <goroutine/goroutine.hpp>
//   int main() {
//     go::run([] { /* the main goroutine: its stack grows as needed */ });
//   }
//
// Compile code that runs on goroutines with the goroutine plugin
// (build/bin/goroutine-clang++, or clang++-19 -fplugin=libgoroutine-plugin.so).
// The plugin defines __GOROUTINE_INSTRUMENTED__; go::run refuses to compile
// without it, because uninstrumented code cannot run on a stack that starts at
// 2 KiB (define GOROUTINE_ALLOW_UNINSTRUMENTED to override).
//
// The headers work with and without -fno-exceptions. Without exceptions,
// nothing can throw out of a closure's construction or a goroutine, so there is
// nothing to clean up: an error that would have thrown ends the program
// (std::terminate or abort, as everywhere under -fno-exceptions).
#ifndef GOROUTINE_GOROUTINE_HPP
#define GOROUTINE_GOROUTINE_HPP

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include <goroutine/goroutine.h>

namespace go {

// Memory statistics (Go's runtime.MemStats names where they apply). There is
// no garbage collector, so Go's GC fields have no counterpart.
struct MemStats {
  uint64_t stack_inuse = 0;        // bytes in stacks handed to goroutines
  uint64_t stack_sys = 0;          // bytes of stack memory obtained from the OS
  uint64_t num_goroutine = 0;      // goroutines that exist now
  uint64_t num_stack_grow = 0;     // stack growths since start
  uint64_t num_stack_shrink = 0;   // stack shrinks since start
  uint64_t num_stack_move = 0;     // copies of a stack (growth, shrink,
                                   // parking compaction, torture)
  uint64_t stack_bytes_copied = 0; // bytes copied by all stack moves
  uint64_t side_stack_sys = 0; // bytes of side-stack chunks (escaping locals;
                               // malloc'd, so part of heap_sys)
  uint64_t heap_alloc = 0;     // bytes in allocated malloc chunks
  uint64_t heap_inuse = 0;     // heap_sys minus malloc's releasable top
  uint64_t heap_sys = 0;       // bytes of heap obtained from the OS
  uint64_t sys = 0;            // stack_sys + heap_sys
  // stacks_by_size[i]: stacks in use of stack_class_size(i) bytes.
  std::array<uint64_t, GOROUTINE_NUM_STACK_SIZES> stacks_by_size{};

  static constexpr size_t stack_class_size(size_t i) {
    return size_t{512} << i;
  }
};

// A snapshot of the runtime's counters and of the C heap.
inline MemStats read_mem_stats() {
  goroutine_mem_stats s;
  goroutine_read_mem_stats(&s);
  MemStats m;
  m.stack_inuse = s.stack_inuse;
  m.stack_sys = s.stack_sys;
  m.num_goroutine = s.num_goroutine;
  m.num_stack_grow = s.num_stack_grow;
  m.num_stack_shrink = s.num_stack_shrink;
  m.num_stack_move = s.num_stack_move;
  m.stack_bytes_copied = s.stack_bytes_copied;
  m.side_stack_sys = s.side_stack_sys;
  m.heap_alloc = s.heap_alloc;
  m.heap_inuse = s.heap_inuse;
  m.heap_sys = s.heap_sys;
  m.sys = s.sys;
  for (size_t i = 0; i < m.stacks_by_size.size(); ++i)
    m.stacks_by_size[i] = s.stacks_by_size[i];
  return m;
}

// The calling goroutine's stack trace, and with all those of every other
// goroutine, like Go's runtime.Stack (see goroutine_stack_trace).
inline std::string stack_trace(bool all = false) {
  std::string text(4096, '\0');
  for (;;) {
    const size_t n = goroutine_stack_trace(text.data(), text.size(), all);
    if (n <= text.size()) {
      text.resize(n);
      return text;
    }
    text.resize(n + n / 4); // goroutines may have appeared since
  }
}

// Gives up the thread to other goroutines of its P, like Go's
// runtime.Gosched.
inline void yield() noexcept { goroutine_yield(); }

// The calling goroutine's id (main is 1), or 0 outside goroutines.
inline uint64_t goroutine_id() noexcept { return ::goroutine_id(); }

// The calling goroutine's current stack size in bytes, or 0 outside goroutines.
inline size_t stack_size() noexcept { return goroutine_stack_size(); }

// The stable coordinate of a position on the calling goroutine's stack, which
// stack moves do not change (goroutine_stable_stack_address).
inline uintptr_t stable_stack_address(const void *addr) noexcept {
  return goroutine_stable_stack_address(addr);
}

// Sets the maximum stack size of one goroutine (default 1 GiB); returns the
// previous value. Like Go's debug.SetMaxStack.
inline size_t set_max_stack(size_t bytes) noexcept {
  return goroutine_set_max_stack(bytes);
}

namespace detail {
template <class> inline constexpr bool kAlwaysFalse = false;

#if defined(__GOROUTINE_INSTRUMENTED__) ||                                     \
    defined(GOROUTINE_ALLOW_UNINSTRUMENTED)
inline constexpr bool kInstrumented = true;
#else
inline constexpr bool kInstrumented = false;
#endif

// Runs the callable in a runtime-allocated closure and destroys it; the
// runtime frees the memory. The callable is invoked as an rvalue, as
// std::thread invokes its decay-copy. An exception that leaves it finds no
// handler in any goroutine frame, so std::terminate runs at the throw site and
// the runtime prints a panic with the full stack.
template <class Fn> void invoke_closure(void *p) {
  Fn *fn = static_cast<Fn *>(p);
  struct Destroy {
    Fn *fn;
    ~Destroy() { fn->~Fn(); }
  } destroy{fn};
  std::invoke(std::move(*fn));
}

// Runs a callable that lives elsewhere (go::run's, on the caller's stack).
template <class Fn> void invoke_in_place(void *p) { (*static_cast<Fn *>(p))(); }

// Starts a goroutine running Fn constructed from args, in a closure the
// runtime owns. Always inlined, like go::spawn, so that the runtime sees the
// go statement's own function as the caller (traces' "created by").
template <class Fn, class... Args>
[[gnu::always_inline]] inline void spawn_closure(Args &&...args) {
  void *mem = goroutine_closure_alloc(sizeof(Fn), alignof(Fn));
  Fn *fn;
#if __cpp_exceptions
  try {
    fn = ::new (mem) Fn(std::forward<Args>(args)...);
  } catch (...) {
    goroutine_closure_free(mem);
    throw;
  }
#else
  fn = ::new (mem) Fn(std::forward<Args>(args)...);
#endif
  goroutine_spawn_closure(&invoke_closure<Fn>, fn);
}
} // namespace detail

// Starts the runtime on this thread, runs f() as the main goroutine and
// returns when it returns. f may be any callable.
template <class F> void run(F &&f) {
  using Fn = std::decay_t<F>;
  static_assert(std::is_invocable_v<Fn &>, "go::run needs a callable f()");
  static_assert(detail::kInstrumented || detail::kAlwaysFalse<F>,
                "go::run: this translation unit was not compiled with the "
                "goroutine plugin; its code cannot run on a growable stack. "
                "Compile it with goroutine-clang++ or -fplugin=<path to "
                "libgoroutine-plugin.so>");
  Fn fn(std::forward<F>(f)); // on this thread's stack, which never moves
  goroutine_run(&detail::invoke_in_place<Fn>, &fn);
}

// Starts f(args...) as a new goroutine, like Go's `go f(args...)`, with
// std::thread's rules: f and each argument are decay-copied (moved when they
// are rvalues, so move-only ones work) into a closure the runtime owns, and
// moved from there into the call, which happens once. So f receives rvalues:
// it may take its parameters by value, by const reference or by rvalue
// reference, but a parameter of type U& needs std::ref (the goroutine must not
// get a silent copy of what the caller meant to share). Returns at once.
template <class F, class... Args>
[[gnu::always_inline]] inline void spawn(F &&f, Args &&...args) {
  static_assert(std::is_invocable_v<std::decay_t<F>, std::decay_t<Args>...>,
                "go::spawn(f, args...) needs f to be callable with the "
                "arguments as rvalues (like std::thread); pass references "
                "with std::ref");
  if constexpr (sizeof...(Args) == 0) {
    detail::spawn_closure<std::decay_t<F>>(std::forward<F>(f));
  } else {
    auto call = [fn = std::forward<F>(f),
                 tuple = std::tuple<std::decay_t<Args>...>(
                     std::forward<Args>(args)...)]() mutable {
      std::apply(std::move(fn), std::move(tuple));
    };
    detail::spawn_closure<decltype(call)>(std::move(call));
  }
}

// Goroutines that exist now, like Go's runtime.NumGoroutine().
inline uint64_t num_goroutine() noexcept { return goroutine_num_goroutine(); }

// How many goroutines run at once (GOROUTINE_MAXPROCS, default: the CPUs).
inline int maxprocs() noexcept { return goroutine_maxprocs(); }

// Runs f() as a call that may block the OS thread (blocking I/O, a library
// that waits): meanwhile the thread's P runs other goroutines. Returns f's
// result.
template <class F> decltype(auto) blocking(F &&f) {
  struct Exit {
    ~Exit() { goroutine_exit_blocking(); }
  };
  goroutine_enter_blocking();
  Exit exit;
  return std::forward<F>(f)();
}

} // namespace go

#include <goroutine/chan.hpp>
#include <goroutine/local.hpp>
#include <goroutine/sync.hpp>
#include <goroutine/time.hpp>

#endif // GOROUTINE_GOROUTINE_HPP
