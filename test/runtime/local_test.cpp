// go::local<T>: one T per goroutine, kept across yields and sleeps (after
// which the goroutine may run on another thread), destroyed when the
// goroutine ends; outside goroutines, one per thread.
#include <catch2/catch.hpp>

#include "test_helpers.h"

#include <atomic>
#include <set>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using namespace std::chrono_literals;

// Counts constructions and destructions.
struct Tracked {
  static inline std::atomic<int> made{0}, destroyed{0};
  int value = 0;
  Tracked() { ++made; }
  Tracked(const Tracked &) = delete;
  ~Tracked() { ++destroyed; }
};

// Keys live for the whole program; made on first use.
go::local<int> &ints() {
  static go::local<int> l;
  return l;
}
go::local<Tracked> &tracked() {
  static go::local<Tracked> l;
  return l;
}

TEST_CASE("each goroutine has its own go::local, kept across yields and "
          "sleeps",
          "[local]") {
  constexpr int kGoroutines = 32, kRounds = 6;
  struct Result {
    int not_default = 0, changed = 0, moved = 0;
    int main_value = 0;
    size_t threads = 0;
    bool ended = false;
  };
  const Result r = test::in_goroutine([] {
    Result res;
    *ints() = 999; // main's own, not inherited by the goroutines it spawns
    std::atomic<int> not_default{0}, changed{0}, moved{0};
    std::vector<pid_t> tids(size_t{kGoroutines} * (kRounds + 1), 0);
    go::wait_group wg;
    wg.add(kGoroutines);
    for (int g = 0; g < kGoroutines; ++g)
      go::spawn([&, g] {
        const size_t base = static_cast<size_t>(g) * (kRounds + 1);
        tids[base] = gettid();
        int &mine = *ints();
        not_default += mine != 0;
        mine = g * 10 + 1;
        for (int i = 0; i < kRounds; ++i) {
          if (i % 2 == 0)
            go::yield();
          else
            go::sleep_for(1ms);
          tids[base + static_cast<size_t>(i) + 1] = gettid();
          changed += *ints() != g * 10 + 1;
          moved += &ints().get() != &mine;
        }
        wg.done();
      });
    wg.wait();
    res.not_default = not_default.load();
    res.changed = changed.load();
    res.moved = moved.load();
    res.main_value = *ints();
    res.threads = std::set<pid_t>(tids.begin(), tids.end()).size();
    res.ended = test::all_others_ended();
    return res;
  });
  INFO("goroutines ran on " << r.threads << " thread(s)");
  CHECK(r.not_default == 0); // a fresh goroutine starts with T()
  CHECK(r.changed == 0);
  CHECK(r.moved == 0);
  CHECK(r.main_value == 999);
  CHECK(r.ended);
}

TEST_CASE("a goroutine's go::local is destroyed when it ends", "[local]") {
  constexpr int kUsers = 20, kNonUsers = 20;
  const int made_before = Tracked::made, destroyed_before = Tracked::destroyed;
  struct Result {
    int made = 0, destroyed = 0;
    bool all_destroyed = false;
    bool ended = false;
  };
  const Result r = test::in_goroutine([&] {
    Result res;
    tracked()->value = -1; // the main goroutine's, destroyed when it ends
    go::wait_group wg;
    wg.add(kUsers + kNonUsers);
    for (int g = 0; g < kUsers; ++g)
      go::spawn([&, g] {
        tracked()->value = g;
        go::yield();
        wg.done();
      });
    for (int g = 0; g < kNonUsers; ++g) // never touch it: nothing to destroy
      go::spawn([&] {
        go::yield();
        wg.done();
      });
    wg.wait();
    // The destructors run as the goroutines end, after their done().
    res.all_destroyed = test::wait_until(
        [&] { return Tracked::destroyed - destroyed_before == kUsers; });
    res.made = Tracked::made - made_before;
    res.destroyed = Tracked::destroyed - destroyed_before;
    res.ended = test::all_others_ended();
    return res;
  });
  CHECK(r.made == kUsers + 1);
  CHECK(r.all_destroyed);
  CHECK(r.destroyed == kUsers);
  CHECK(r.ended);
  // main's went with it.
  CHECK(Tracked::made - made_before == kUsers + 1);
  CHECK(Tracked::destroyed - destroyed_before == kUsers + 1);
}

TEST_CASE("outside goroutines, go::local is per thread", "[local]") {
  *ints() = 5; // this thread's
  int other_initial = -1, other_set = -1;
  const int destroyed_before = Tracked::destroyed;
  std::thread([&] {
    other_initial = *ints();
    *ints() = 7;
    other_set = *ints();
    tracked()->value = 1; // destroyed when the thread ends
  }).join();
  const int destroyed_by_thread = Tracked::destroyed - destroyed_before;
  struct Result {
    int initial = -1, after = -1;
  };
  // The main goroutine has its own, even on this thread.
  const Result r = test::in_goroutine([] {
    Result res;
    res.initial = *ints();
    *ints() = 9;
    res.after = *ints();
    return res;
  });
  CHECK(other_initial == 0);
  CHECK(other_set == 7);
  CHECK(destroyed_by_thread == 1);
  CHECK(r.initial == 0);
  CHECK(r.after == 9);
  CHECK(*ints() == 5);
}

} // namespace
