// local.cpp: goroutine-local storage (go::local<T>).
//
// Each goroutine has an array of slots indexed by key (Goroutine::locals),
// grown on demand; each thread has one for the code it runs outside
// goroutines. A key's destructor runs for every non-null value when its
// goroutine ends (on g0, proc.cpp) or its thread exits. Keys are never
// reused: go::local objects are meant to be static, like thread_local
// variables.
#include <atomic>
#include <cstdlib>
#include <cstring>

#include <goroutine/goroutine.h>

#include "scheduler.h"

namespace go::runtime {
namespace {

// GOROUTINE_MAX_LOCAL_KEYS in goroutine.h; a fixed table keeps the
// destructor lookup lock-free.
constexpr size_t kMaxKeys = GOROUTINE_MAX_LOCAL_KEYS;
using Destructor = void (*)(void *);
std::atomic<Destructor> destructors[kMaxKeys];
std::atomic<size_t> num_keys{0};

// Grows *slots to hold at least `need` entries (zero-filled).
void grow(void ***slots, size_t *count, size_t need) {
  size_t n = *count == 0 ? 8 : *count;
  while (n < need)
    n *= 2;
  auto *grown = static_cast<void **>(std::calloc(n, sizeof(void *)));
  if (grown == nullptr)
    fatal("out of memory for goroutine-local storage");
  if (*count != 0)
    std::memcpy(static_cast<void *>(grown), static_cast<void *>(*slots),
                *count * sizeof(void *));
  std::free(static_cast<void *>(*slots));
  *slots = grown;
  *count = n;
}

void destroy_all(void **slots, size_t count) {
  // A destructor may set other keys again (as with pthread keys): repeat a
  // few times.
  for (int round = 0; round < 4; ++round) {
    bool any = false;
    for (size_t k = 0; k < count; ++k)
      if (void *v = slots[k]) {
        slots[k] = nullptr;
        any = true;
        if (Destructor d = destructors[k].load(std::memory_order_acquire))
          d(v);
      }
    if (!any)
      break;
  }
  std::free(static_cast<void *>(slots));
}

struct ThreadLocals {
  void **slots = nullptr;
  size_t count = 0;
  ~ThreadLocals() { destroy_all(slots, count); }
};
thread_local ThreadLocals thread_locals;

} // namespace

void locals_destroy(Goroutine *g) {
  if (g->locals == nullptr)
    return;
  destroy_all(g->locals, g->num_locals);
  g->locals = nullptr;
  g->num_locals = 0;
}

} // namespace go::runtime

using namespace go::runtime;

extern "C" size_t goroutine_local_key(void (*destroy)(void *)) {
  const size_t key = num_keys.fetch_add(1, std::memory_order_relaxed);
  if (key >= kMaxKeys)
    on_system_stack([] {
      fatal("too many go::local keys: at most %zu go::local objects may be "
            "created in a process (keys are never reused)",
            kMaxKeys);
    });
  destructors[key].store(destroy, std::memory_order_release);
  return key;
}

extern "C" void **goroutine_local_slot(size_t key) {
  Goroutine *g = current_g();
  void ***slots = g != nullptr ? &g->locals : &thread_locals.slots;
  size_t *count = g != nullptr ? &g->num_locals : &thread_locals.count;
  if (key >= *count)
    on_system_stack([&] { grow(slots, count, key + 1); });
  return &(*slots)[key];
}
