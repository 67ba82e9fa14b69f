// stack_alloc.cpp: where goroutine stacks come from.
//
// Stacks come in power-of-two size classes, from 1 KiB up. A stack of size S
// always starts at an S-aligned address (stack.cpp explains why the moves
// this makes possible keep conservative relocation safe).
//
//  - Small stacks (below kSpanSize) are carved from kSpanSize-aligned spans
//    mapped in one piece; a span is never returned to the OS (as in Go, small
//    stack memory is reused, not released).
//  - Larger stacks get a mapping of their own, aligned by over-mapping and
//    trimming.
//  - With GOROUTINE_DEBUG=guardpages=1 every stack gets its own mapping with
//    kGuardRegion bytes of PROT_NONE directly below it (address space only: a
//    frame of up to that size that runs past the bottom faults at once);
//    stacks smaller than a page then occupy the bottom of a page of their own.
//
// Free stacks are kept, in order of preference: in a per-thread cache
// (classes up to kCachedClassMax, no lock), in the global pool (a mutex), and
// for large stacks only up to kPoolBytesPerClass per class; beyond that they
// are unmapped. This VM's page faults cost ~14 us each, so reuse matters more
// than returning memory promptly.
//
// No free-list metadata is stored inside the stacks: untouched stack pages
// stay untouched (and out of RSS) until a goroutine uses them.
//
// With GOROUTINE_DEBUG=stackpoison=1 a freed stack first spends some time in
// a quarantine, PROT_NONE and emptied: a stale pointer into a stack a
// goroutine moved away from then faults at once (signals.cpp reports it)
// instead of reading whatever the next owner wrote there.
#include <cerrno>
#include <cstring>
#include <mutex>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

#include "stack.h"

namespace go::runtime {
namespace {

constexpr int kMinClassShift = 10; // 1 KiB
constexpr int kNumClasses = 31;    // 1 KiB .. 1 TiB
constexpr size_t kSpanSize = size_t{64} * 1024;
constexpr size_t kPageSize = 4096;
constexpr size_t kGuardRegion = size_t{64} * 1024;
constexpr int kCachedClassMax = 5; // classes 0..5: 1 KiB .. 32 KiB
constexpr size_t kCacheCapacity = 32;
constexpr size_t kPoolBytesPerClass = size_t{64} * 1024 * 1024;

static_assert(size_t{1} << kMinClassShift == kStackMinAllowed);
static_assert(size_t{1} << (kMinClassShift + kNumClasses - 1) ==
              kStackMaxAllowed);

int class_of(size_t size) { return __builtin_ctzll(size) - kMinClassShift; }
size_t class_size(int k) { return size_t{1} << (k + kMinClassShift); }

[[noreturn]] void out_of_memory(size_t bytes) {
  fatal("runtime: cannot map %zu bytes of stack memory: %s", bytes,
        std::strerror(errno));
}

// Maps `bytes` at an `align`-aligned address with `below` extra bytes mapped
// directly below it (for a guard page). Returns the aligned address.
uintptr_t map_aligned(size_t bytes, size_t align, size_t below) {
  const size_t len = below + bytes + align;
  void *p = mmap(nullptr, len, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED)
    out_of_memory(len);
  const auto base = reinterpret_cast<uintptr_t>(p);
  const uintptr_t start = (base + below + align - 1) & ~(align - 1);
  const uintptr_t map_lo = start - below;
  const uintptr_t map_hi = start + bytes;
  if (map_lo > base)
    munmap(p, map_lo - base);
  if (base + len > map_hi)
    munmap(reinterpret_cast<void *>(map_hi), base + len - map_hi);
  counters.stack_sys.fetch_add(map_hi - map_lo, std::memory_order_relaxed);
  return start;
}

size_t guarded_bytes(size_t size) {
  return size < kPageSize ? kPageSize : size;
}

void unmap_stack(uintptr_t lo, size_t size) {
  size_t bytes = size;
  if (settings.guardpages) {
    lo -= kGuardRegion;
    bytes = kGuardRegion + guarded_bytes(size);
  }
  munmap(reinterpret_cast<void *>(lo), bytes);
  counters.stack_sys.fetch_sub(bytes, std::memory_order_relaxed);
}

struct GlobalPool {
  std::mutex mu;
  std::vector<uintptr_t> free[kNumClasses];

  // Maps fresh stacks of class k into free[k]. Caller holds mu.
  void grow(int k) {
    const size_t size = class_size(k);
    if (settings.guardpages) {
      const size_t bytes = guarded_bytes(size);
      const uintptr_t lo = map_aligned(bytes, bytes, kGuardRegion);
      if (mprotect(reinterpret_cast<void *>(lo - kGuardRegion), kGuardRegion,
                   PROT_NONE) != 0)
        out_of_memory(kGuardRegion);
      free[k].push_back(lo);
    } else if (size < kSpanSize) {
      const uintptr_t span = map_aligned(kSpanSize, kSpanSize, 0);
      for (uintptr_t lo = span + kSpanSize; lo > span;)
        free[k].push_back(lo -= size); // lowest address handed out last
    } else {
      free[k].push_back(map_aligned(size, size, 0));
    }
  }

  uintptr_t take(int k) {
    std::lock_guard<std::mutex> lock(mu);
    if (free[k].empty())
      grow(k);
    const uintptr_t lo = free[k].back();
    free[k].pop_back();
    return lo;
  }

  void give(int k, uintptr_t lo) {
    const size_t size = class_size(k);
    std::unique_lock<std::mutex> lock(mu);
    const bool pooled = size < kSpanSize && !settings.guardpages;
    if (pooled || (free[k].size() + 1) * size <= kPoolBytesPerClass ||
        free[k].empty()) {
      free[k].push_back(lo);
      return;
    }
    lock.unlock();
    unmap_stack(lo, size);
  }
};

// Freed stacks kept out of use (stackpoison=1), oldest first. Stacks of a
// page or more are made inaccessible; smaller ones share their page with
// other stacks, so they are filled with kPoisonByte instead: a stale pointer
// read from them is 0xdbdbdbdbdbdbdbdb, which faults when followed.
class Quarantine {
public:
  static constexpr uint8_t kPoisonByte = 0xdb;

  // Takes s out of use; returns a stack that has served its time (or an
  // empty one) to free for real.
  Stack admit(Stack s) {
    std::lock_guard<std::mutex> lock(mu_);
    protect(s, false);
    const Stack released = ring_[next_];
    ring_[next_] = s;
    next_ = (next_ + 1) % kSize;
    if (released.size() != 0)
      protect(released, true);
    return released;
  }

  // Called from the fault handler: never waits for the lock (the fault may
  // have happened while it was held).
  bool contains(uintptr_t addr) {
    std::unique_lock<std::mutex> lock(mu_, std::try_to_lock);
    if (!lock.owns_lock())
      return false;
    for (const Stack &s : ring_)
      if (s.contains(addr))
        return true;
    return false;
  }

private:
  static void protect(Stack s, bool accessible) {
    void *p = reinterpret_cast<void *>(s.lo);
    if (s.size() < kPageSize) {
      if (!accessible)
        std::memset(p, kPoisonByte, s.size());
      return;
    }
    if (accessible) {
      if (mprotect(p, s.size(), PROT_READ | PROT_WRITE) != 0)
        out_of_memory(s.size());
    } else if (mprotect(p, s.size(), PROT_NONE) != 0 ||
               madvise(p, s.size(), MADV_DONTNEED) != 0) {
      out_of_memory(s.size());
    }
  }

  static constexpr size_t kSize = 256;
  std::mutex mu_;
  Stack ring_[kSize];
  size_t next_ = 0;
};

Quarantine &quarantine() {
  static Quarantine *q = new Quarantine;
  return *q;
}

GlobalPool &pool() {
  static GlobalPool *p = new GlobalPool; // never destroyed: threads outlive it
  return *p;
}

// Per-thread LIFO caches of small stacks.
struct StackCache {
  uintptr_t stacks[kCachedClassMax + 1][kCacheCapacity];
  size_t count[kCachedClassMax + 1] = {};

  ~StackCache() { flush(); }
  void flush() {
    for (int k = 0; k <= kCachedClassMax; ++k)
      while (count[k] > 0)
        pool().give(k, stacks[k][--count[k]]);
  }
};
thread_local StackCache cache;

} // namespace

Stack stack_alloc(size_t size) {
  if (size < kStackMinAllowed || size > kStackMaxAllowed ||
      (size & (size - 1)) != 0)
    fatal("stack_alloc: bad stack size %zu", size);
  const int k = class_of(size);
  uintptr_t lo;
  if (k <= kCachedClassMax) {
    if (cache.count[k] == 0) {
      // Refill half the cache in one visit to the pool.
      while (cache.count[k] < kCacheCapacity / 2)
        cache.stacks[k][cache.count[k]++] = pool().take(k);
    }
    lo = cache.stacks[k][--cache.count[k]];
  } else {
    lo = pool().take(k);
  }
  counters.stack_inuse.fetch_add(size, std::memory_order_relaxed);
  return Stack{lo, lo + size};
}

void stack_free(Stack s) {
  counters.stack_inuse.fetch_sub(s.size(), std::memory_order_relaxed);
  if (settings.stackpoison) {
    s = quarantine().admit(s); // another, older stack comes out (or none)
    if (s.size() == 0)
      return;
  }
  const size_t size = s.size();
  const int k = class_of(size);
  if (k <= kCachedClassMax) {
    if (cache.count[k] == kCacheCapacity) {
      while (cache.count[k] > kCacheCapacity / 2)
        pool().give(k, cache.stacks[k][--cache.count[k]]);
    }
    cache.stacks[k][cache.count[k]++] = s.lo;
    return;
  }
  pool().give(k, s.lo);
}

void stack_cache_flush() { cache.flush(); }

bool stack_quarantine_contains(uintptr_t addr) {
  return settings.stackpoison && quarantine().contains(addr);
}

bool stack_guard_contains(const Stack &stack, uintptr_t addr) {
  return settings.guardpages && addr < stack.lo &&
         addr >= stack.lo - kGuardRegion;
}

} // namespace go::runtime
