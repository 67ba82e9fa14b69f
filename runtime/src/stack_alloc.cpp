// stack_alloc.cpp: where goroutine stacks come from.
//
// Placement. Every move of a goroutine's stack must shift addresses by a
// multiple of 4 GiB, so that relocating a word that merely looks like a stack
// address never changes its low 32 bits (stack.cpp explains the hazard and
// the measurement behind it). So each goroutine has a top offset H, chosen
// when its first stack is allocated, and every stack it ever gets ends at an
// address congruent to H modulo 4 GiB:
//
//   band b (4 GiB-aligned)             band c
//   +-------------------------------+  +-------------------------------+
//   | ... [2 KiB stack of g]        |  |   [64 KiB stack of g]         |
//   |                    ^ b + H    |  |                     ^ c + H   |
//
// Bands are 4 GiB of address space each (reserved, not committed: a page
// costs memory only once a goroutine touches it). Top offsets H lie in the
// upper half of a band, so a stack of up to 2 GiB (kStackMaxAllowed) always
// fits below its top within one band. Each band records the offset ranges in
// use; a stack for (size, H) goes in the first band where [H - size, H) is
// free, and a new band is reserved when none has room.
//
// Stacks of a new goroutine (any H) come from spans: 64 KiB of consecutive
// stacks of one size, bump-allocated in the upper half of a band, so that
// small stacks pack densely (H is a multiple of their size: 2 KiB stacks are
// 2 KiB-aligned). Larger stacks are aligned to the smallest stack size only;
// the 4 GiB shift is what keeps relocation safe, and it also preserves the
// alignment of every local across moves.
//
// Reuse. Freed stacks are kept for reuse keyed by (size, H): a goroutine that
// grows, shrinks or (in torture mode) moves finds the stack it used before
// at the same offset. Stacks up to 32 KiB go through a per-thread cache
// first; small stacks are never returned to the OS (as in Go), larger ones
// once more than 64 MiB of their size is cached. This VM's page faults cost
// ~14 us each, so reuse matters more than returning memory promptly. No
// bookkeeping is written into free stacks: untouched pages stay out of RSS.
//
// Compaction (stack.cpp, stack_compact). With many goroutines, one that parks
// using little stack moves to a kStackCompactSize stack at the same top
// offset; its own stack (its "home") stays reserved for it, and the pages of
// homes whose every stack is parked go back to the OS. For the compacted
// stacks to pack densely, goroutines' top offsets must be kStackCompactSize
// apart, but stacks of one size in one band are a whole stack apart. So the
// spans of a small size S are spread over S / kStackCompactSize "lane"
// bands: lane L holds spans starting kStackCompactSize * L past a 64 KiB
// boundary, and the lanes advance in step. Four 2 KiB stacks from the four
// lanes then have tops 512 bytes apart, and their compacted stacks share a
// page in a general band.
//
// Debug modes. In both, every stack gets page-aligned pages of its own.
// guardpages=1 maps bands inaccessible and puts kGuardRegion bytes of
// PROT_NONE below every stack. stackpoison=1 keeps freed stacks in a
// quarantine, emptied and inaccessible, so a stale pointer into a stack a
// goroutine moved away from faults at its first use (signals.cpp reports it).
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <sys/mman.h>
#include <unistd.h>
#include <unordered_map>
#include <vector>

#include "stack.h"

namespace go::runtime {
namespace {

constexpr int kMinClassShift = 9; // 512 bytes (parked, compacted stacks)
constexpr int kNumClasses = 23;   // 512 bytes .. 2 GiB
constexpr uint64_t kBandSize = uint64_t{1} << 32;
constexpr uint64_t kPageSize = 4096;
constexpr uint64_t kGuardRegion = uint64_t{64} * 1024;
constexpr uint64_t kSpanSize = uint64_t{64} * 1024;
// Top offsets live in the upper half of a band (kStackMaxAllowed below them).
constexpr uint64_t kTopOffsetMin = kBandSize / 2 + kGuardRegion;
constexpr int kCachedClassMax = 6; // per-thread caches: 512 B .. 32 KiB
constexpr size_t kCacheCapacity = 32;
constexpr size_t kCachedBytesPerClass = size_t{64} * 1024 * 1024;
constexpr int kParkingLane = -2; // bands of compacted stacks

static_assert(size_t{1} << kMinClassShift == kStackCompactSize);
static_assert(kNumClasses == GOROUTINE_NUM_STACK_SIZES);
static_assert(size_t{1} << (kMinClassShift + kNumClasses - 1) ==
              kStackMaxAllowed);
static_assert(kStackMaxAllowed + kGuardRegion <= kTopOffsetMin);

int class_of(size_t size) { return __builtin_ctzll(size) - kMinClassShift; }
size_t class_size(int k) { return size_t{1} << (k + kMinClassShift); }
uint32_t top_offset(uintptr_t hi) { return static_cast<uint32_t>(hi); }
uint64_t round_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }
uint64_t round_down(uint64_t v, uint64_t a) { return v & ~(a - 1); }

[[noreturn]] void out_of_memory(uint64_t bytes) {
  fatal("cannot map %llu bytes of stack memory: %s",
        static_cast<unsigned long long>(bytes), std::strerror(errno));
}

void set_access(uint64_t lo, uint64_t hi, bool accessible) {
  if (lo < hi && mprotect(reinterpret_cast<void *>(lo), hi - lo,
                          accessible ? PROT_READ | PROT_WRITE : PROT_NONE) != 0)
    out_of_memory(hi - lo);
}

// The pages wholly inside [lo, hi) go back to the OS (partial pages at the
// ends may be shared with neighbours and stay).
void release_pages(uint64_t lo, uint64_t hi) {
  lo = round_up(lo, kPageSize);
  hi = round_down(hi, kPageSize);
  if (lo < hi)
    madvise(reinterpret_cast<void *>(lo), hi - lo, MADV_DONTNEED);
}

// In the debug modes every stack has pages of its own (guard regions and
// quarantines work on whole pages).
bool page_granular() { return settings.guardpages || settings.stackpoison; }

// Bytes a stack occupies in its band: the stack, rounded up to whole pages in
// the debug modes, with the guard region below it in guardpages mode.
uint64_t footprint(size_t size) {
  if (!page_granular())
    return size;
  return (settings.guardpages ? kGuardRegion : 0) + round_up(size, kPageSize);
}

// 4 GiB of address space and the offset ranges [lo, hi) in use in it.
struct Band {
  uintptr_t base = 0;
  int lane = -1; // -1: general; kParkingLane; else spans of small stacks
  std::vector<uint64_t> slots;       // parking bands: 512-byte slots in use
  std::map<uint64_t, uint64_t> used; // lo offset -> hi offset
  uint64_t span_next = kTopOffsetMin - kGuardRegion; // bump pointer for spans

  bool is_free(uint64_t lo, uint64_t hi) const {
    auto next = used.lower_bound(lo);
    if (next != used.end() && next->first < hi)
      return false;
    return next == used.begin() || std::prev(next)->second <= lo;
  }
};

class Arena {
public:
  // A stack of class k ending at top offset h, from the cache or new.
  uintptr_t take_at(int k, uint32_t h) {
    std::lock_guard<AdaptiveMutex> lock(mu_);
    if (auto it = cache_[k].find(h); it != cache_[k].end())
      return pop_cached(k, it);
    return place(k, h);
  }

  // A compacted stack ending at top offset h (kStackCompactSize bytes), from
  // a parking band: a bitmap of its 512-byte slots instead of a range map,
  // because a million parked goroutines would make that map slow.
  uintptr_t take_parking(uint32_t h) {
    std::lock_guard<AdaptiveMutex> lock(mu_);
    if (h <= kBandSize / 2) // tops lie in a band's upper half (new_span)
      fatal("stack_alloc: top offset %#x outside the upper half of a band",
            h);
    const uint64_t slot = h / kStackCompactSize - 1;
    for (Band *band : bands_) {
      if (band->lane != kParkingLane)
        continue;
      uint64_t &word = band->slots[slot / 64];
      if (!(word >> (slot % 64) & 1)) {
        word |= uint64_t{1} << (slot % 64);
        counters.stack_sys.fetch_add(kStackCompactSize,
                                     std::memory_order_relaxed);
        return band->base + h - kStackCompactSize;
      }
    }
    Band &band = new_band(kParkingLane);
    band.slots.assign(kBandSize / kStackCompactSize / 64, 0);
    band.slots[slot / 64] |= uint64_t{1} << (slot % 64);
    counters.stack_sys.fetch_add(kStackCompactSize, std::memory_order_relaxed);
    return band.base + h - kStackCompactSize;
  }

  void give_parking(uintptr_t lo) {
    std::lock_guard<AdaptiveMutex> lock(mu_);
    for (Band *band : bands_)
      if (band->lane == kParkingLane && lo >= band->base &&
          lo < band->base + kBandSize) {
        const uint64_t slot = (lo - band->base) / kStackCompactSize;
        band->slots[slot / 64] &= ~(uint64_t{1} << (slot % 64));
        counters.stack_sys.fetch_sub(kStackCompactSize,
                                     std::memory_order_relaxed);
        return;
      }
  }

  // A stack of class k at any top offset; extra stacks carved with it may be
  // appended to spare (up to the span's worth).
  uintptr_t take_any(int k, std::vector<uintptr_t> *spare) {
    std::lock_guard<AdaptiveMutex> lock(mu_);
    if (!cache_[k].empty())
      return pop_cached(k, cache_[k].begin());
    return new_span(k, spare);
  }

  void give(int k, uintptr_t lo) {
    const size_t size = class_size(k);
    std::lock_guard<AdaptiveMutex> lock(mu_);
    const bool small = size < kSpanSize && !page_granular();
    if (small || cached_bytes_[k] + size <= kCachedBytesPerClass) {
      cache_[k][top_offset(lo + size)].push_back(lo);
      cached_bytes_[k] += size;
      return;
    }
    release(lo, size);
  }

private:
  using Cache = std::unordered_map<uint32_t, std::vector<uintptr_t>>;

  // Takes the newest cached stack of class k in the list at `it`.
  uintptr_t pop_cached(int k, Cache::iterator it) {
    const uintptr_t lo = it->second.back();
    it->second.pop_back();
    if (it->second.empty())
      cache_[k].erase(it);
    cached_bytes_[k] -= class_size(k);
    return lo;
  }

  Band &new_band(int lane = -1) {
    // Over-map by a band to find a 4 GiB-aligned one, then trim.
    const int prot = settings.guardpages ? PROT_NONE : PROT_READ | PROT_WRITE;
    void *p = mmap(nullptr, 2 * kBandSize, prot,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
      out_of_memory(2 * kBandSize);
    const auto start = reinterpret_cast<uintptr_t>(p);
    const uintptr_t base = round_up(start, kBandSize);
    if (base > start)
      munmap(p, base - start);
    munmap(reinterpret_cast<void *>(base + kBandSize),
           start + kBandSize - base);
    auto *band = new Band;
    band->base = base;
    band->lane = lane;
    bands_.push_back(band);
    return *band;
  }

  // Records [lo, hi) (band offsets, footprint included) as used in band and
  // makes the stack part accessible. Returns the stack's address.
  uintptr_t claim(Band &band, uint64_t lo, uint64_t hi, size_t size) {
    band.used.emplace(lo, hi);
    counters.stack_sys.fetch_add(hi - lo, std::memory_order_relaxed);
    if (settings.guardpages)
      set_access(band.base + hi - round_up(size, kPageSize), band.base + hi,
                 true);
    return band.base + hi - size;
  }

  // A new stack of class k with top offset h, in the first band with room.
  uintptr_t place(int k, uint32_t h) {
    const size_t size = class_size(k);
    const uint64_t lo = h - footprint(size);
    for (Band *band : bands_)
      if (band->lane == -1 && band->is_free(lo, h))
        return claim(*band, lo, h, size);
    return claim(new_band(), lo, h, size);
  }

  // A span of class-k stacks at any top offsets, bump-allocated in a band.
  // Spans of small stacks go round-robin to `lanes` bands, shifted by
  // kStackCompactSize per lane, so that compacted stacks pack densely (see
  // the top of this file).
  uintptr_t new_span(int k, std::vector<uintptr_t> *spare) {
    const size_t size = class_size(k);
    const uint64_t step = footprint(size);
    const uint64_t len = page_granular()    ? step
                         : size < kSpanSize ? kSpanSize
                                            : size;
    const bool laned =
        !page_granular() && size < kSpanSize && size > kStackCompactSize;
    const int lane =
        laned ? static_cast<int>(next_lane_[k]++ % (size / kStackCompactSize))
              : -1;
    const uint64_t shift = laned ? lane * kStackCompactSize : 0;
    const uint64_t align = std::min<uint64_t>(len, kSpanSize);
    for (size_t i = 0;; ++i) {
      Band &band = i < bands_.size() ? *bands_[i] : new_band(lane);
      if (band.lane != lane)
        continue;
      // A span ends below the band's end: a stack's top offset is its top's
      // low 32 bits, and a top at the end of a band would have offset 0.
      uint64_t base = round_up(band.span_next, align);
      while (base + shift + len < kBandSize &&
             !band.is_free(base + shift, base + shift + len)) {
        auto next = band.used.lower_bound(base + shift);
        base =
            round_up(next != band.used.end() && next->first < base + shift + len
                         ? next->second
                         : std::prev(next)->second,
                     align);
      }
      if (base + shift + len >= kBandSize) {
        band.span_next = kBandSize; // full
        continue;
      }
      band.span_next = base + len;
      const uint64_t lo = base + shift;
      if (len == step)
        return claim(band, lo, lo + len, size);
      band.used.emplace(lo, lo + len);
      counters.stack_sys.fetch_add(len, std::memory_order_relaxed);
      for (uint64_t off = lo + len - size; off > lo; off -= size)
        spare->push_back(band.base + off);
      return band.base + lo;
    }
  }

  // Gives a (large) stack's range and memory back.
  void release(uintptr_t stack_lo, size_t size) {
    const uintptr_t hi = stack_lo + size;
    Band *band = bands_[0];
    for (Band *b : bands_)
      if (hi > b->base && hi <= b->base + kBandSize)
        band = b;
    const uint64_t off_hi = hi - band->base;
    band->used.erase(off_hi - footprint(size));
    counters.stack_sys.fetch_sub(footprint(size), std::memory_order_relaxed);
    if (settings.guardpages) {
      set_access(hi - round_up(size, kPageSize), hi, false);
      release_pages(hi - round_up(size, kPageSize), hi);
    } else {
      release_pages(stack_lo, hi);
    }
  }

  AdaptiveMutex mu_;
  std::vector<Band *> bands_;
  Cache cache_[kNumClasses]; // free stacks by class, then top offset
  size_t cached_bytes_[kNumClasses] = {};
  uint64_t next_lane_[kNumClasses] = {};
};

Arena &arena() {
  static Arena *a = new Arena; // never destroyed: threads outlive it
  return *a;
}

// Freed stacks kept out of use (stackpoison=1), oldest first, emptied and
// inaccessible: in this mode every stack has pages of its own.
class Quarantine {
public:
  // Takes s out of use; returns a stack that has served its time (or an
  // empty one) to free for real.
  Stack admit(Stack s) {
    std::lock_guard<AdaptiveMutex> lock(mu_);
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
    std::unique_lock<AdaptiveMutex> lock(mu_, std::try_to_lock);
    if (!lock.owns_lock())
      return false;
    for (const Stack &s : ring_)
      if (s.contains(addr))
        return true;
    return false;
  }

private:
  static void protect(Stack s, bool accessible) {
    const uint64_t lo = round_down(s.lo, kPageSize);
    const uint64_t hi = round_up(s.hi, kPageSize);
    if (!accessible)
      release_pages(lo, hi);
    set_access(lo, hi, accessible);
  }

  static constexpr size_t kSize = 256;
  AdaptiveMutex mu_;
  Stack ring_[kSize];
  size_t next_ = 0;
};

Quarantine &quarantine() {
  static Quarantine *q = new Quarantine;
  return *q;
}

// Per-thread caches of stacks up to 32 KiB.
struct StackCache {
  uintptr_t stacks[kCachedClassMax + 1][kCacheCapacity];
  size_t count[kCachedClassMax + 1] = {};

  ~StackCache() { flush(); }

  void flush() {
    for (int k = 0; k <= kCachedClassMax; ++k)
      while (count[k] > 0)
        arena().give(k, stacks[k][--count[k]]);
  }

  void put(int k, uintptr_t lo) {
    if (count[k] == kCacheCapacity)
      while (count[k] > kCacheCapacity / 2)
        arena().give(k, stacks[k][--count[k]]);
    stacks[k][count[k]++] = lo;
  }

  // Takes the cached stack of class k whose top offset is h, if any.
  bool take_at(int k, uint32_t h, uintptr_t *lo) {
    const size_t size = class_size(k);
    for (size_t i = count[k]; i-- > 0;) {
      if (top_offset(stacks[k][i] + size) == h) {
        *lo = stacks[k][i];
        stacks[k][i] = stacks[k][--count[k]];
        return true;
      }
    }
    return false;
  }
};
thread_local StackCache cache;

void check_size(size_t size) {
  if (size < kStackCompactSize || size > kStackMaxAllowed ||
      (size & (size - 1)) != 0)
    fatal("stack_alloc: bad stack size %zu", size);
}

Stack handed_out(uintptr_t lo, size_t size) {
  counters.stack_inuse.fetch_add(size, std::memory_order_relaxed);
  counters.stacks_by_size[class_of(size)].fetch_add(1,
                                                    std::memory_order_relaxed);
  return Stack{lo, lo + size};
}

} // namespace

Stack stack_alloc(size_t size) {
  check_size(size);
  const int k = class_of(size);
  if (k <= kCachedClassMax && cache.count[k] > 0)
    return handed_out(cache.stacks[k][--cache.count[k]], size);
  std::vector<uintptr_t> spare;
  const uintptr_t lo = arena().take_any(k, &spare);
  for (uintptr_t s : spare) {
    if (k <= kCachedClassMax)
      cache.put(k, s);
    else
      arena().give(k, s);
  }
  return handed_out(lo, size);
}

Stack stack_alloc_at(size_t size, uint32_t top) {
  check_size(size);
  if (size == kStackCompactSize && !page_granular())
    return handed_out(arena().take_parking(top), size);
  const int k = class_of(size);
  uintptr_t lo;
  if (k > kCachedClassMax || !cache.take_at(k, top, &lo))
    lo = arena().take_at(k, top);
  return handed_out(lo, size);
}

void stack_free(Stack s) {
  counters.stack_inuse.fetch_sub(s.size(), std::memory_order_relaxed);
  counters.stacks_by_size[class_of(s.size())].fetch_sub(
      1, std::memory_order_relaxed);
  if (settings.stackpoison) {
    s = quarantine().admit(s); // another, older stack comes out (or none)
    if (s.size() == 0)
      return;
  }
  if (s.size() == kStackCompactSize && !page_granular())
    return arena().give_parking(s.lo);
  const int k = class_of(s.size());
  if (k <= kCachedClassMax)
    cache.put(k, s.lo);
  else
    arena().give(k, s.lo);
}

namespace {
// Bytes of parked homes in each page that also holds other stacks.
AdaptiveMutex parked_mu;
std::unordered_map<uint64_t, uint32_t> &parked_bytes =
    *new std::unordered_map<uint64_t, uint32_t>;
} // namespace

namespace {
// Calls f(page, bytes of s in that page) for every page s touches.
template <class F> void for_each_page(Stack s, F f) {
  for (uint64_t page = round_down(s.lo, kPageSize); page < s.hi;
       page += kPageSize)
    f(page, std::min<uint64_t>(s.hi, page + kPageSize) -
                std::max<uint64_t>(s.lo, page));
}
} // namespace

void stack_home_park(Stack home) {
  // Reserved for its goroutine, but not in use while it is parked.
  counters.stack_inuse.fetch_sub(home.size(), std::memory_order_relaxed);
  counters.stacks_by_size[class_of(home.size())].fetch_sub(
      1, std::memory_order_relaxed);
  std::lock_guard<AdaptiveMutex> lock(parked_mu);
  for_each_page(home, [](uint64_t page, uint64_t bytes) {
    uint32_t whole = kPageSize;
    if (bytes != kPageSize && !page_granular())
      whole = parked_bytes[page] += static_cast<uint32_t>(bytes);
    if (whole == kPageSize) // every stack in it is parked
      release_pages(page, page + kPageSize);
  });
}

void stack_home_unpark(Stack home) {
  counters.stack_inuse.fetch_add(home.size(), std::memory_order_relaxed);
  counters.stacks_by_size[class_of(home.size())].fetch_add(
      1, std::memory_order_relaxed);
  if (page_granular())
    return;
  std::lock_guard<AdaptiveMutex> lock(parked_mu);
  for_each_page(home, [](uint64_t page, uint64_t bytes) {
    if (bytes == kPageSize)
      return;
    auto it = parked_bytes.find(page);
    it->second -= static_cast<uint32_t>(bytes);
    if (it->second == 0)
      parked_bytes.erase(it);
  });
}

bool stack_quarantine_contains(uintptr_t addr) {
  return settings.stackpoison && quarantine().contains(addr);
}

bool stack_guard_contains(const Stack &stack, uintptr_t addr) {
  return settings.guardpages && addr < stack.lo &&
         addr >= stack.lo - kGuardRegion;
}

} // namespace go::runtime
