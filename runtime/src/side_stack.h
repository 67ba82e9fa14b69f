// The side stack: where locals whose address escapes live (see
// side_stack.cpp). Instrumented code reaches it through two thread-locals;
// the runtime switches them with the goroutine.
#ifndef GOROUTINE_SIDE_STACK_H
#define GOROUTINE_SIDE_STACK_H

#include <cstddef>
#include <cstdint>

// The current side stack's next free byte (it grows down) and the lowest
// byte of its current chunk. Read and written by code the plugin generates
// (plugin/SideStack.cpp); initial-exec, like goroutine_thread_state.
extern "C" constinit thread_local uintptr_t __goroutine_side_sp
    __attribute__((tls_model("initial-exec")));
extern "C" constinit thread_local uintptr_t __goroutine_side_limit
    __attribute__((tls_model("initial-exec")));

namespace go::runtime {

struct SideChunk;

// One owner's side stack: a goroutine's, or a thread's while it runs no
// goroutine. Chunks are chained oldest first; the live part is LIFO.
struct SideStack {
  SideChunk *first = nullptr;
  uintptr_t sp = 0;    // saved __goroutine_side_sp while not current
  uintptr_t limit = 0; // saved __goroutine_side_limit while not current

  // Frees every chunk (the owner is finished).
  void release();
};

// Makes `next` the side stack of the calling thread, saving the current one
// into `prev`. On every goroutine switch: inline.
inline void side_stack_switch(SideStack *prev, SideStack *next) {
  prev->sp = __goroutine_side_sp;
  prev->limit = __goroutine_side_limit;
  __goroutine_side_sp = next->sp;
  __goroutine_side_limit = next->limit;
}

// A side stack of its own for a context the program makes (contexts.cpp):
// its first chunk is the `bytes` (a multiple of 16, at least 64) at `mem`
// (16-byte aligned). Returns the initial __goroutine_side_sp and sets *limit
// to the initial __goroutine_side_limit.
uintptr_t side_stack_in(void *mem, size_t bytes, uintptr_t *limit);
// Frees the chunks such a side stack took from the heap beyond its first,
// whose __goroutine_side_limit is `limit`: its context has finished.
void side_stack_release_beyond(uintptr_t limit);

} // namespace go::runtime

#endif // GOROUTINE_SIDE_STACK_H
