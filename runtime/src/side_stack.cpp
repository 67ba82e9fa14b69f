// side_stack.cpp: a stack that never moves, for locals whose address escapes.
//
// A goroutine stack moves, and a move fixes only the pointers into it that
// live in the stack itself or in registers. Escape analysis
// (plugin/EscapeAnalysis.cpp) finds the locals whose address may be stored
// anywhere else (the heap, globals, libraries that keep it), and
// plugin/SideStack.cpp gives those locals frames on this side stack instead:
// Go moves them to the heap; a LIFO stack is cheaper and frees them when the
// function returns, as C expects.
//
// Each goroutine has a side stack of its own, and so does each thread for
// the code it runs outside goroutines, and each context the program makes
// with makecontext (contexts.cpp; its first chunk is carved from the
// context's stack). The runtime installs the right one in two thread-locals
// whenever it switches goroutines (side_stack_switch) or contexts.
// Code the plugin generates uses them like this:
//
//   entry:   sp = __goroutine_side_sp;  limit = __goroutine_side_limit
//            if (sp - limit >= frame + align - 1)
//              base = (sp - frame) & -align
//            else
//              base = __goroutine_side_alloc(frame, align)   // next chunk
//            __goroutine_side_sp = base
//   return:  __goroutine_side_sp = sp;  __goroutine_side_limit = limit
//
// plus, in landing pads and after calls that return twice (setjmp), a
// restore of the function's own values: the callees that threw or longjmp'd
// never restored theirs.
//
// A side stack is a chain of chunks, oldest first, each at least twice the
// size of the one before. A chunk starts with a SideChunk header;
// __goroutine_side_limit is the first byte after the header of the current
// chunk, which is how the runtime finds that chunk. Chunks past the current
// one are free (the stack is LIFO) and are reused before anything new is
// allocated. Nothing here ever moves, so pointers into the side stack may be
// stored anywhere; and the side stack never points into a movable stack,
// because whatever is stored in an escaping local escapes too.
#include "side_stack.h"

#include <algorithm>
#include <cstdlib>

#include "runtime.h"

constinit thread_local uintptr_t __goroutine_side_sp
    __attribute__((tls_model("initial-exec"))) = 0;
constinit thread_local uintptr_t __goroutine_side_limit
    __attribute__((tls_model("initial-exec"))) = 0;

namespace go::runtime {

struct SideChunk {
  SideChunk *next; // the chunk after this one
  size_t size;     // bytes, this header included
};

namespace {

constexpr size_t kFirstChunkSize = 1024;

// The side stack of code outside goroutines on this thread.
struct ThreadSideStack {
  SideStack stack;
  ~ThreadSideStack() { stack.release(); }
};
thread_local ThreadSideStack thread_side;

SideStack &current_owner() {
  Goroutine *g = goroutine_thread_state.g;
  return g != nullptr ? g->side : thread_side.stack;
}

void free_chain(SideChunk *c) {
  while (c != nullptr) {
    SideChunk *next = c->next;
    counters.side_stack_sys.fetch_sub(c->size, std::memory_order_relaxed);
    std::free(c);
    c = next;
  }
}

uintptr_t usable_lo(SideChunk *c) { return reinterpret_cast<uintptr_t>(c + 1); }
uintptr_t usable_hi(SideChunk *c) {
  return reinterpret_cast<uintptr_t>(c) + c->size;
}

// The chunk the calling code's side stack is in (its header is right below
// __goroutine_side_limit), or null before the first.
SideChunk *current_chunk() {
  return __goroutine_side_limit != 0
             ? reinterpret_cast<SideChunk *>(__goroutine_side_limit) - 1
             : nullptr;
}

// The link to the chunk after the current one, where the side stack goes on.
SideChunk **next_link() {
  SideChunk *current = current_chunk();
  return current != nullptr ? &current->next : &current_owner().first;
}

// Moves the calling code's side stack to `next`, with room for size bytes
// aligned to align, and returns their address.
uintptr_t enter_chunk(SideChunk *next, size_t size, size_t align) {
  const uintptr_t base = (usable_hi(next) - size) & ~(uintptr_t{align} - 1);
  __goroutine_side_limit = usable_lo(next);
  __goroutine_side_sp = base;
  return base;
}

bool fits(const SideChunk *c, size_t size, size_t align) {
  return c != nullptr && c->size >= sizeof(SideChunk) + size + align;
}

// Replaces the chunks after the current one (too small) with one that has
// room for size bytes aligned to align. Calls malloc: on the system stack.
SideChunk *grow_chain(size_t size, size_t align) {
  SideChunk **link = next_link();
  const SideChunk *current = current_chunk();
  const size_t previous = current != nullptr ? current->size : 0;
  free_chain(*link);
  const size_t need = sizeof(SideChunk) + size + align;
  size_t bytes = previous != 0 ? previous * 2 : kFirstChunkSize;
  while (bytes < need)
    bytes *= 2;
  auto *c = static_cast<SideChunk *>(std::aligned_alloc(16, bytes));
  if (c == nullptr)
    fatal("out of memory allocating a %zu-byte side stack chunk", bytes);
  c->next = nullptr;
  c->size = bytes;
  counters.side_stack_sys.fetch_add(bytes, std::memory_order_relaxed);
  *link = c;
  return c;
}

} // namespace

void SideStack::release() {
  free_chain(first);
  first = nullptr;
  sp = limit = 0;
}

uintptr_t side_stack_in(void *mem, size_t bytes, uintptr_t *limit) {
  auto *c = static_cast<SideChunk *>(mem);
  c->next = nullptr;
  c->size = bytes;
  *limit = usable_lo(c);
  return usable_hi(c);
}

void side_stack_release_beyond(uintptr_t limit) {
  SideChunk *first = reinterpret_cast<SideChunk *>(limit) - 1;
  free_chain(first->next);
  first->next = nullptr;
}

} // namespace go::runtime

// Called by plugin-generated code when a side frame does not fit in the
// current chunk, on the goroutine's stack (hence the switch to the system
// stack for malloc).
extern "C" uintptr_t __goroutine_side_alloc(size_t size, size_t align) {
  using namespace go::runtime;
  align = std::max<size_t>(align, 1);
  // Usually the next chunk is there already (the side stack emptied and
  // filled again): a few instructions, no stack to speak of.
  if (SideChunk *next = *next_link(); fits(next, size, align))
    return enter_chunk(next, size, align);
  SideChunk *grown = nullptr;
  on_system_stack([&] { grown = grow_chain(size, align); });
  return enter_chunk(grown, size, align);
}
