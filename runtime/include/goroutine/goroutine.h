/* goroutine.h: the C interface of libgoroutine.
 *
 * Code that runs on goroutines must be compiled with the goroutine plugin
 * (goroutine-clang, or clang-19 -fplugin=libgoroutine-plugin.so): its stacks
 * start at 2 KiB and grow by copying. See docs/user-guide.md.
 *
 * Every function here may be called from a goroutine; the plugin knows their
 * stack use is bounded (names starting with goroutine_ are reserved). */
#ifndef GOROUTINE_GOROUTINE_H
#define GOROUTINE_GOROUTINE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Starts the runtime on the calling thread, runs fn(arg) as the main
 * goroutine and returns when it returns. Must not be called from a
 * goroutine. */
void goroutine_run(void (*fn)(void *), void *arg);

/* Gives up the thread to other goroutines; a safe point at which the
 * runtime may shrink the caller's stack. */
void goroutine_yield(void);

/* The calling goroutine's id (the main goroutine is 1), or 0 when not called
 * from a goroutine. */
uint64_t goroutine_id(void);

/* The size in bytes of the calling goroutine's stack, or 0 when not called
 * from a goroutine. */
size_t goroutine_stack_size(void);

/* Sets the maximum size of a single goroutine stack (default 1 GiB) and
 * returns the previous value, like Go's debug.SetMaxStack. A goroutine that
 * needs more dies with "goroutine stack exceeds N-byte limit". */
size_t goroutine_set_max_stack(size_t bytes);

/* Memory statistics, named after Go's runtime.MemStats where they apply. */
typedef struct goroutine_mem_stats {
  uint64_t stack_inuse;        /* bytes in stacks handed to goroutines */
  uint64_t stack_sys;          /* bytes of stack memory obtained from the OS */
  uint64_t num_goroutine;      /* goroutines that exist now */
  uint64_t num_stack_grow;     /* stack growths since start */
  uint64_t num_stack_shrink;   /* stack shrinks since start */
  uint64_t num_stack_move;     /* copies of a stack (growth, shrink, torture) */
  uint64_t stack_bytes_copied; /* bytes copied by all stack moves */
  uint64_t side_stack_sys;     /* bytes of side-stack chunks (escaping locals) */
} goroutine_mem_stats;

/* Fills *stats with a snapshot of the counters. */
void goroutine_read_mem_stats(goroutine_mem_stats *stats);

#ifdef __cplusplus
}
#endif

#endif /* GOROUTINE_GOROUTINE_H */
