# Checks that the escape example reports what Go reports for the article's
# example: nothing for createOnStack's x, "moved to heap: x" for
# createOnHeap's. Run as
#   cmake -D COMPILER=<goroutine-clang++> -D SOURCE=<escape.cpp> -P <this file>
execute_process(
  COMMAND ${COMPILER} -O2 -Rpass=goroutine-escape -c ${SOURCE} -o /dev/null
  RESULT_VARIABLE status ERROR_VARIABLE remarks OUTPUT_VARIABLE remarks_out)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "compiling ${SOURCE} failed:\n${remarks}")
endif()
message(STATUS "remarks:\n${remarks}")

# The lines of the two declarations of x, in the order of the functions.
file(STRINGS ${SOURCE} lines)
set(number 0)
set(declarations)
foreach(line IN LISTS lines)
  math(EXPR number "${number} + 1")
  if(line MATCHES "^  int x = 42;")
    list(APPEND declarations ${number})
  endif()
endforeach()
list(LENGTH declarations count)
if(NOT count EQUAL 2)
  message(FATAL_ERROR "expected two declarations of x in ${SOURCE}")
endif()
list(GET declarations 0 on_stack)
list(GET declarations 1 on_heap)

if(NOT remarks MATCHES "escape.cpp:${on_heap}:[0-9]+: remark: moved to heap: x")
  message(FATAL_ERROR "no 'moved to heap: x' for createOnHeap (line ${on_heap})")
endif()
if(remarks MATCHES "escape.cpp:${on_stack}:")
  message(FATAL_ERROR "a remark for createOnStack's x (line ${on_stack})")
endif()
message(STATUS "createOnStack: nothing; createOnHeap: moved to heap: x")
