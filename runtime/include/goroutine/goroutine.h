/* goroutine.h: the C interface of libgoroutine.
 *
 * Code that runs on goroutines must be compiled with the goroutine plugin
 * (goroutine-clang, or clang-19 -fplugin=libgoroutine-plugin.so): its stacks
 * start at 2 KiB and grow by copying. See README.md and docs/.
 *
 * Every function here may be called from a goroutine; the plugin knows their
 * stack use is bounded (names starting with goroutine_ are reserved). */
#ifndef GOROUTINE_GOROUTINE_H
#define GOROUTINE_GOROUTINE_H

#include <stddef.h>
#include <stdint.h>

/* A pointer parameter the function does not keep once it returns: a local
 * passed there stays on the goroutine's stack (the escape analysis reads it
 * as LLVM's nocapture). */
#if defined(__clang__)
#define GOROUTINE_NOESCAPE __attribute__((noescape))
#else
#define GOROUTINE_NOESCAPE
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* A call to goroutine_run from code compiled without the goroutine plugin
 * (which defines __GOROUTINE_INSTRUMENTED__) is a build error, as go::run's
 * static_assert is in C++: such code has no stack checks, so it cannot run on
 * a stack that starts at 2 KiB. Define GOROUTINE_ALLOW_UNINSTRUMENTED to
 * override. */
#if !defined(__GOROUTINE_INSTRUMENTED__) &&                                    \
    !defined(GOROUTINE_ALLOW_UNINSTRUMENTED) && !defined(__cplusplus) &&       \
    defined(__has_attribute)
#if __has_attribute(error)
#define GOROUTINE_RUN_UNINSTRUMENTED                                           \
  __attribute__((error(                                                        \
      "this translation unit was not compiled with the goroutine plugin; "     \
      "its code cannot run on a growable stack. Compile it with "              \
      "goroutine-clang or -fplugin=<path to libgoroutine-plugin.so>")))
#endif
#endif
#ifndef GOROUTINE_RUN_UNINSTRUMENTED
#define GOROUTINE_RUN_UNINSTRUMENTED
#endif

/* Starts the runtime on the calling thread, runs fn(arg) as the main
 * goroutine and returns when it returns. Must not be called from a
 * goroutine. arg is not kept once it returns (so go::run's callable stays in
 * the caller's frame, on the thread's own stack). */
GOROUTINE_RUN_UNINSTRUMENTED void goroutine_run(void (*fn)(void *),
                                                void *GOROUTINE_NOESCAPE arg);

/* Gives up the thread to other goroutines of its P (Go's runtime.Gosched). */
void goroutine_yield(void);

/* The calling goroutine's id (the main goroutine is 1), or 0 when not called
 * from a goroutine. */
uint64_t goroutine_id(void);

/* The size in bytes of the calling goroutine's stack, or 0 when not called
 * from a goroutine. */
size_t goroutine_stack_size(void);

/* The stable coordinate of a position on the calling goroutine's stack.
 * Goroutine stacks move when they grow or shrink, and only pointers are
 * relocated: an address kept as an integer (a recorded "stack top", a stack
 * bound of an interpreter or a conservative collector) goes stale. A move
 * keeps every frame's distance from the top of the stack, and the stable
 * coordinate is that distance measured from a base fixed for the goroutine's
 * life: it never changes while the frame lives, and differences and
 * comparisons between stable coordinates of one goroutine mean what they
 * mean between addresses (the stack grows down). It is not an address:
 * never dereference it (it has bit 62 set). For an address outside the
 * calling goroutine's stack, or when not called from a goroutine (plain
 * threads, before goroutine_run), returns addr unchanged.
 *
 * The plugin applies it by itself to the integer view of
 * __builtin_frame_address(0) and of %rsp (read by `mov %rsp, %0` inline
 * assembly or a register variable) when the integer is only compared,
 * computed with, stored or passed on; it says where it cannot with a missed
 * remark (-Rpass-missed=goroutine-escape). Convert by hand what it cannot,
 * and the address of a probe local (`char probe; (uintptr_t)&probe`), which
 * it leaves alone. Costs a call of about a dozen instructions. */
uintptr_t goroutine_stable_stack_address(const void *GOROUTINE_NOESCAPE addr);

/* Sets the maximum size of a single goroutine stack (default 1 GiB) and
 * returns the previous value, like Go's debug.SetMaxStack. A goroutine that
 * needs more dies with "goroutine stack exceeds N-byte limit". */
size_t goroutine_set_max_stack(size_t bytes);

/* The stack sizes the runtime hands out: 512 << i bytes, i < this. */
#define GOROUTINE_NUM_STACK_SIZES 23

/* Formats the calling goroutine's stack trace into buf, like Go's
 * runtime.Stack: "goroutine N [running]:", then a function per line with its
 * file:line below it (where the program has debug information). With all,
 * the traces of every other goroutine follow, each after a blank line, taken
 * while the world is stopped (every goroutine waits at its next function
 * entry). Returns the length of the whole text; when that exceeds len, buf
 * holds its first len bytes. Not NUL-terminated. */
size_t goroutine_stack_trace(char *GOROUTINE_NOESCAPE buf, size_t len, int all);

/* Memory statistics, named after Go's runtime.MemStats where they apply.
 * There is no garbage collector, so Go's GC fields have no counterpart; the
 * stack counters are this runtime's own. */
typedef struct goroutine_mem_stats {
  uint64_t stack_inuse;        /* bytes in stacks handed to goroutines */
  uint64_t stack_sys;          /* bytes of stack memory obtained from the OS */
  uint64_t num_goroutine;      /* goroutines that exist now */
  uint64_t num_stack_grow;     /* stack growths since start */
  uint64_t num_stack_shrink;   /* stack shrinks since start */
  uint64_t num_stack_move;     /* copies of a stack (growth, shrink, parking,
                                  torture) */
  uint64_t stack_bytes_copied; /* bytes copied by all stack moves */
  uint64_t side_stack_sys;     /* bytes of side-stack chunks (escaping locals),
                                  part of heap_sys: they come from malloc */
  /* The C heap (glibc malloc, read with mallinfo2): */
  uint64_t heap_alloc; /* bytes in allocated chunks */
  uint64_t heap_inuse; /* heap_sys minus the free top of the heap, which
                          malloc can give back to the OS */
  uint64_t heap_sys;   /* bytes of heap obtained from the OS */
  uint64_t sys;        /* stack_sys + heap_sys */
  /* Stacks in use by size: index i counts stacks of 512 << i bytes (512 B
   * for parked goroutines, 2 KiB for a new one, up to 2 GiB). */
  uint64_t stacks_by_size[GOROUTINE_NUM_STACK_SIZES];
} goroutine_mem_stats;

/* Fills *stats with a snapshot of the counters. (Deliberately not
 * GOROUTINE_NOESCAPE: a goroutine's stats record lives on its side stack, so
 * reading the stack statistics does not itself grow the stack they
 * measure.) */
void goroutine_read_mem_stats(goroutine_mem_stats *stats);

/* ---- Scheduling ------------------------------------------------------- */

/* Starts fn(arg) as a new goroutine and returns its id. Callable from
 * goroutines and from any thread (it runs once go::run is active). */
uint64_t goroutine_spawn(void (*fn)(void *), void *arg);

/* Memory for a goroutine's closure: goroutine_spawn_closure(fn, closure)
 * starts fn(closure) and frees the closure when fn returns (fn destroys what
 * is in it, but does not free it). The runtime allocates and frees it on its
 * own stack, so a goroutine's stack never pays for malloc. Until spawned, a
 * closure can be given back with goroutine_closure_free. */
void *goroutine_closure_alloc(size_t size, size_t align);
void goroutine_closure_free(void *closure);
uint64_t goroutine_spawn_closure(void (*fn)(void *), void *closure);

/* Goroutines that exist now (running, runnable or blocked). */
uint64_t goroutine_num_goroutine(void);

/* The number of Ps: goroutines running at the same time (GOROUTINE_MAXPROCS,
 * default the number of CPUs). */
int goroutine_maxprocs(void);

/* Brackets a call that may block its OS thread (file I/O, a blocking
 * library): the thread lends its P to another thread meanwhile, like Go's
 * entersyscall/exitsyscall. Outside goroutines they do nothing. */
void goroutine_enter_blocking(void);
void goroutine_exit_blocking(void);

/* ---- Channels --------------------------------------------------------- */

/* How a channel moves its elements. move constructs *dst from *src (src stays
 * owned by the caller); NULL means memcpy. destroy NULL means trivial. */
typedef struct goroutine_elem_ops {
  size_t size;
  size_t align;
  void (*move)(void *dst, void *src);
  void (*destroy)(void *obj);
} goroutine_elem_ops;

typedef struct goroutine_chan goroutine_chan;

/* A new channel with `cap` buffered elements (0: unbuffered), holding one
 * reference. ops must outlive the channel. */
goroutine_chan *goroutine_chan_make(const goroutine_elem_ops *ops, size_t cap);
/* Reference counting: channels are shared handles, like Go's. */
void goroutine_chan_retain(goroutine_chan *c);
void goroutine_chan_release(goroutine_chan *c);

/* The goroutine plugin knows that the runtime may keep `elem`, `received`
 * and `cases` below while the caller is parked, and relocates them when its
 * stack moves: passing them is not an escape (docs/design.md, "Escape analysis"). */

/* Sends *elem (moved). Blocks unless block == 0; returns 1 when sent, 0 when
 * block == 0 and it could not be sent now. A send on a closed channel panics;
 * a blocking send on a NULL channel blocks forever. */
int goroutine_chan_send(goroutine_chan *c, void *elem, int block);
/* Receives into the raw storage at elem. Returns 1 when the operation
 * completed: *received is 1 if a value was constructed at elem, 0 if the
 * channel is closed and drained. Returns 0 when block == 0 and nothing was
 * ready. */
int goroutine_chan_recv(goroutine_chan *c, void *elem, int block,
                        int *received);
/* Closes c: receivers drain the buffer, then see closed. Closing a closed or
 * NULL channel panics. */
void goroutine_chan_close(goroutine_chan *c);
size_t goroutine_chan_len(const goroutine_chan *c);
size_t goroutine_chan_cap(const goroutine_chan *c);

/* NOLINTNEXTLINE(performance-enum-size): a C enum */
enum { GOROUTINE_SELECT_SEND = 1, GOROUTINE_SELECT_RECV = 2 };

/* One case of a select. For a receive, elem is raw storage and `received`
 * says on return whether a value was constructed there. A NULL chan never
 * becomes ready (Go's nil channel). */
typedef struct goroutine_select_case {
  goroutine_chan *chan;
  void *elem;
  int dir; /* GOROUTINE_SELECT_SEND or GOROUTINE_SELECT_RECV */
  int received;
} goroutine_select_case;

/* Waits until one of the n cases can proceed and performs it, choosing
 * uniformly at random among the ready ones. Returns its index; returns -1 at
 * once if block == 0 (a default case) and none is ready. The cases may live on
 * the goroutine's stack: the runtime relocates what it keeps of them. */
long goroutine_select(goroutine_select_case *cases, size_t n, int block);

/* ---- Synchronization (zero-initialized structs are ready to use) ----- */

/* A FIFO of parked goroutines with its own spin lock; the building block of
 * the sync types. Fields are the runtime's. */
typedef struct goroutine_waitq {
  void *head;
  void *tail;
  uint32_t lock;
  uint32_t pad;
} goroutine_waitq;

typedef struct goroutine_mutex {
  uint32_t state; /* bit 0 locked, bit 1 waiters */
  uint32_t pad;
  goroutine_waitq waiters;
} goroutine_mutex;
void goroutine_mutex_lock(goroutine_mutex *m);
int goroutine_mutex_trylock(goroutine_mutex *m);
void goroutine_mutex_unlock(goroutine_mutex *m);

typedef struct goroutine_rwmutex {
  goroutine_waitq readers; /* its lock guards every field */
  goroutine_waitq writers;
  int32_t active_readers;
  int32_t writer; /* 1 while a writer holds it */
  int32_t waiting_writers;
  int32_t pad;
} goroutine_rwmutex;
void goroutine_rwmutex_lock(goroutine_rwmutex *m);
int goroutine_rwmutex_trylock(goroutine_rwmutex *m);
void goroutine_rwmutex_unlock(goroutine_rwmutex *m);
void goroutine_rwmutex_rlock(goroutine_rwmutex *m);
int goroutine_rwmutex_tryrlock(goroutine_rwmutex *m);
void goroutine_rwmutex_runlock(goroutine_rwmutex *m);

typedef struct goroutine_cond {
  goroutine_waitq waiters;
} goroutine_cond;
/* Unlocks m, waits for a signal, locks m again. */
void goroutine_cond_wait(goroutine_cond *c, goroutine_mutex *m);
void goroutine_cond_signal(goroutine_cond *c);
void goroutine_cond_broadcast(goroutine_cond *c);

typedef struct goroutine_waitgroup {
  uint64_t state; /* counter in the high 32 bits, waiters in the low 32 */
  goroutine_waitq waiters;
} goroutine_waitgroup;
void goroutine_waitgroup_add(goroutine_waitgroup *wg, int64_t delta);
void goroutine_waitgroup_wait(goroutine_waitgroup *wg);

/* ---- Time -------------------------------------------------------------- */

/* CLOCK_MONOTONIC in nanoseconds (std::chrono::steady_clock). */
int64_t goroutine_nanotime(void);
/* Parks the calling goroutine until nanotime() >= when (a thread that runs no
 * goroutine sleeps). */
void goroutine_sleep_until(int64_t when);

typedef struct goroutine_timer goroutine_timer;
/* Calls fn(arg) on a runtime thread at `when`, then every `period` ns if
 * period > 0. fn must not block: it runs inside the scheduler (sending on a
 * channel without blocking is what it is for). */
goroutine_timer *goroutine_timer_start(int64_t when, int64_t period,
                                       void (*fn)(void *), void *arg);
/* Go's time.NewTicker: calls fn(arg) every `period` ns, the first time one
 * period from now. A period <= 0 panics ("non-positive interval for
 * go::ticker"). Stop it with goroutine_timer_stop. */
goroutine_timer *goroutine_ticker_start(int64_t period, void (*fn)(void *),
                                        void *arg);
/* Stops t and frees it; returns 1 if it had not fired yet (or is periodic).
 * Every timer from goroutine_timer_start or goroutine_ticker_start is
 * stopped exactly once; once it returns, fn is not running and never runs
 * again. */
int goroutine_timer_stop(goroutine_timer *t);
/* A one-shot timer without a handle: calls fn(arg) at `when`, then frees
 * itself. */
void goroutine_after_func(int64_t when, void (*fn)(void *), void *arg);

/* ---- Goroutine-local storage ------------------------------------------ */

/* At most this many keys may ever be created in a process: keys are never
 * reused, and one more is a fatal error naming the limit. */
#define GOROUTINE_MAX_LOCAL_KEYS 4096
/* A new key; destroy(value) runs when a goroutine (or thread) that set a
 * non-NULL value ends. */
size_t goroutine_local_key(void (*destroy)(void *));
/* The calling goroutine's slot for key (a thread's own, outside goroutines). */
void **goroutine_local_slot(size_t key);

#ifdef __cplusplus
}
#endif

#endif /* GOROUTINE_GOROUTINE_H */
