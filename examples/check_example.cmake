# Runs an example and checks the facts its output claims, where that takes
# more than a regular expression (numbers compared with each other, lines
# counted). Run as
#   cmake -D PROGRAM=<example> -D NAME=<example name> [-D SOURCE=<source>]
#         -P <this file>
# It prints the example's output, then what it checked.
execute_process(COMMAND ${PROGRAM}
  RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
message(NOTICE "${out}${err}")
if(NOT status EQUAL 0)
  message(FATAL_ERROR "${NAME} exited with ${status}")
endif()

set(failures "")
# check(<condition...> MESSAGE <what it means>): records a failure unless the
# condition (an if() expression) holds. A function, not a macro: a macro would
# evaluate the escapes in regular expressions a second time. Brackets in a
# condition must balance (CMake does not split a list inside [...]).
function(check)
  cmake_parse_arguments(CHECK "" "MESSAGE" "" ${ARGN})
  if(${CHECK_UNPARSED_ARGUMENTS})
    message(STATUS "ok: ${CHECK_MESSAGE}")
  else()
    message(STATUS "FAILED: ${CHECK_MESSAGE}")
    set(failures "${failures}  ${CHECK_MESSAGE}\n" PARENT_SCOPE)
  endif()
endfunction()

# number_in(<regex> <var> <default>): the first group of <regex> in the
# output, or <default> when it does not match (a check then fails).
function(number_in regex var default)
  if(out MATCHES "${regex}")
    set(${var} ${CMAKE_MATCH_1} PARENT_SCOPE)
  else()
    set(${var} ${default} PARENT_SCOPE)
  endif()
endfunction()

# The line number of the first line of SOURCE that contains `text`.
function(line_of text result)
  file(STRINGS ${SOURCE} lines)
  set(number 0)
  foreach(line IN LISTS lines)
    math(EXPR number "${number} + 1")
    string(FIND "${line}" "${text}" at)
    if(NOT at EQUAL -1)
      set(${result} ${number} PARENT_SCOPE)
      return()
    endif()
  endforeach()
  message(FATAL_ERROR "no line with '${text}' in ${SOURCE}")
endfunction()

if(NAME STREQUAL "locals")
  # "<name> local <n> bytes: stack <before> -> <inside> bytes"; the quiet
  # lines come first, then the printing ones.
  string(REGEX MATCHALL
    "(shallow|deep) +local +[0-9]+ bytes: stack +[0-9]+ -> +[0-9]+ bytes"
    rows "${out}")
  list(LENGTH rows count)
  check(count EQUAL 4 MESSAGE "four measurements")
  if(count EQUAL 4)
    foreach(i RANGE 3)
      list(GET rows ${i} row)
      string(REGEX MATCH "stack +([0-9]+) -> +([0-9]+)" _ "${row}")
      set(before_${i} ${CMAKE_MATCH_1})
      set(inside_${i} ${CMAKE_MATCH_2})
    endforeach()
    check(before_0 EQUAL 2048 AND before_1 EQUAL 2048
      MESSAGE "both goroutines start on a 2 KiB stack")
    check(inside_0 EQUAL 2048
      MESSAGE "the shallow goroutine's stack stays at 2 KiB (${inside_0})")
    check(inside_1 GREATER 65536
      MESSAGE "the deep goroutine's stack grew past its 64 KiB local (${inside_1})")
    check(inside_2 GREATER_EQUAL 32768
      MESSAGE "printing from the shallow goroutine grows its stack to at least 32 KiB (${inside_2})")
  endif()
  check(out MATCHES "Shallow function with small stack needs\n"
    MESSAGE "the shallow goroutine printed")
  check(out MATCHES "Deep function with large stack needs\n"
    MESSAGE "the deep goroutine printed")

elseif(NAME STREQUAL "memory_tour")
  # Each stage: "<stage> goroutines stack_inuse stack_sys heap_alloc heap_sys
  # sys RSS" (KiB), then "  stacks in use: ...".
  set(number "([0-9]+)")
  set(row " +${number} +${number} +${number} +${number} +${number} +${number} +${number}\n  stacks in use: +([^\n]*)")
  foreach(stage IN ITEMS Baseline "After 1000 small goroutines"
                         "After 10 large stack goroutines"
                         "After 10 goroutines with heap allocations"
                         "At the end")
    string(REPLACE " " "_" key "${stage}")
    if(out MATCHES "${stage}[^\n0-9]*${row}")
      set(${key}_goroutines ${CMAKE_MATCH_1})
      set(${key}_stack_inuse ${CMAKE_MATCH_2})
      set(${key}_heap_alloc ${CMAKE_MATCH_4})
      set(${key}_stacks "${CMAKE_MATCH_8}")
    else()
      string(APPEND failures "  no row for '${stage}'\n")
      set(${key}_goroutines 0)
      set(${key}_stack_inuse 0)
      set(${key}_heap_alloc 0)
      set(${key}_stacks "")
    endif()
  endforeach()
  # Deltas, less the main goroutine's own stack (at most 32 KiB; it shrinks
  # while it waits and grows again to print).
  math(EXPR small "${After_1000_small_goroutines_stack_inuse} - ${Baseline_stack_inuse} + 32")
  math(EXPR large "${After_10_large_stack_goroutines_stack_inuse} - ${After_1000_small_goroutines_stack_inuse} + 32")
  math(EXPR heap "${After_10_goroutines_with_heap_allocations_heap_alloc} - ${After_10_large_stack_goroutines_heap_alloc}")
  check(After_1000_small_goroutines_goroutines EQUAL 1001
    MESSAGE "1000 goroutines alive besides main")
  check(After_1000_small_goroutines_stacks MATCHES "(^| )1000 x 2 KiB"
    MESSAGE "their 1 KiB locals fit in 2 KiB stacks")
  check(small GREATER_EQUAL 2000 AND small LESS 2200
    MESSAGE "stack_inuse grew by about 1000 x 2 KiB (${small} KiB, give or take main's stack)")
  check(After_10_large_stack_goroutines_stacks MATCHES "(^| )10 x 256 KiB"
    MESSAGE "a 128 KiB local needs a 256 KiB stack")
  check(large GREATER_EQUAL 2560
    MESSAGE "stack_inuse grew by 10 x 256 KiB (${large} KiB, give or take main's stack)")
  check(heap GREATER_EQUAL 10000
    MESSAGE "heap_alloc grew by 10 x 1000 x 1 KiB (${heap} KiB)")
  check(At_the_end_goroutines EQUAL 1 MESSAGE "only main is left at the end")
  check(At_the_end_stacks MATCHES "^1 x [0-9]+ KiB *$"
    MESSAGE "one stack in use at the end (${At_the_end_stacks})")
  math(EXPR freed "${After_10_goroutines_with_heap_allocations_heap_alloc} - ${At_the_end_heap_alloc}")
  check(freed GREATER_EQUAL 10000
    MESSAGE "the heap allocations were freed (${freed} KiB)")

elseif(NAME STREQUAL "trace")
  line_of("recursive(n - 1);" call)
  check(out MATCHES "^Stack trace: goroutine [0-9]+ \\[running\\]:\n"
    MESSAGE "the trace starts with the running goroutine")
  # Its frames: go::stack_trace itself when it was not inlined, then the 11
  # calls of recursive(), 10 of them at the recursive call.
  string(FIND "${out}" "All goroutines:" all_at)
  string(SUBSTRING "${out}" 0 ${all_at} first)
  string(REGEX MATCHALL "\nrecursive\\(int\\)\n" frames "${first}")
  list(LENGTH frames count)
  check(count EQUAL 11 MESSAGE "11 frames of recursive() in the trace (${count})")
  string(REGEX MATCHALL "\nrecursive\\(int\\)\n\t[^\n]*/trace\\.cpp:${call} " calls "${first}")
  list(LENGTH calls count)
  check(count EQUAL 10
    MESSAGE "10 of them at the recursive call, trace.cpp:${call} (${count})")
  check(out MATCHES "\ngoroutine [0-9]+ \\[chan receive\\]:\n([^\n]+\n)*consumer\\(go::chan<int>, go::wait_group\\*\\)\n"
    MESSAGE "stack_trace(true) shows consumer() parked on a channel receive")
  check(out MATCHES "\ngoroutine 1 \\[[a-zA-Z. ]+\\]:\n"
    MESSAGE "stack_trace(true) shows the main goroutine")

elseif(NAME STREQUAL "goroutines_vs_threads")
  check(out MATCHES "10000 goroutines, each parked"
    MESSAGE "10000 goroutines")
  number_in("\n([0-9]+) threads \\(std::thread" threads 0)
  check(threads GREATER_EQUAL 1000
    MESSAGE "at least 1000 threads started (${threads})")
  number_in("\\(([0-9]+) of them wait on 512-byte stacks\\)" compacted 0)
  check(compacted GREATER 0
    MESSAGE "with 10000 goroutines, parked ones wait on 512-byte stacks (${compacted})")
  if(out MATCHES "Per goroutine ([0-9]+) bytes of RSS, per thread ([0-9]+):")
    set(per_goroutine ${CMAKE_MATCH_1})
    set(per_thread ${CMAKE_MATCH_2})
  else()
    set(per_goroutine 1)
    set(per_thread 0)
  endif()
  check(per_goroutine LESS per_thread
    MESSAGE "a goroutine adds less RSS than a thread (${per_goroutine} < ${per_thread} bytes)")
  check(per_goroutine LESS 4096
    MESSAGE "a parked goroutine adds less than a page of RSS (${per_goroutine} bytes)")

else()
  message(FATAL_ERROR "check_example.cmake: no checks for '${NAME}'")
endif()

if(failures)
  message(FATAL_ERROR "${NAME}: the output does not show:\n${failures}")
endif()
