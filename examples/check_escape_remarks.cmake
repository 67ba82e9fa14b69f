# Shows the goroutine plugin's escape-analysis remarks for the escape example
# and checks that they say what Go says for the article's example. Run as
#   cmake -D COMPILER=<goroutine-clang++> -D SOURCE=<escape.cpp> -P <this file>
# (a test, and part of `tools/bootstrap.sh examples`).
#
# At -O2 (what the examples are built with) createOnStack's x gets no remark,
# as in Go: it is the constant 42 and never needs memory at all; createOnHeap's
# x gets "moved to heap: x". At -O0 every local is a stack slot, and the
# analysis remarks name the ones that stay on the stack: "x does not escape"
# for createOnStack's x, while createOnHeap's x still moves to the heap.
get_filename_component(directory ${SOURCE} DIRECTORY)
get_filename_component(name ${SOURCE} NAME)

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

# Compiles the example at `level` with every goroutine-escape remark and
# sets `result` to the remark lines about the example itself (the runtime's
# headers have remarks of their own).
function(remarks level result)
  set(command ${COMPILER} ${level} -Rpass=goroutine-escape
      -Rpass-analysis=goroutine-escape -c ${name} -o /dev/null)
  execute_process(COMMAND ${command} WORKING_DIRECTORY ${directory}
    RESULT_VARIABLE status ERROR_VARIABLE output OUTPUT_VARIABLE output)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "compiling ${SOURCE} failed:\n${output}")
  endif()
  string(REGEX MATCHALL "(^|\n)${name}:[0-9]+:[0-9]+: remark: [^\n]*" found
    "${output}")
  string(REPLACE ";" "" found "${found}")
  string(REGEX REPLACE "^\n" "" found "${found}")
  get_filename_component(driver ${COMPILER} NAME)
  string(REPLACE ";" " " shown "${command}")
  string(REPLACE "${COMPILER}" "${driver}" shown "${shown}")
  message(NOTICE "$ ${shown}\n${found}")
  set(${result} "${found}" PARENT_SCOPE)
endfunction()

set(failures "")
remarks(-O2 optimized)
if(NOT optimized MATCHES "${name}:${on_heap}:[0-9]+: remark: moved to heap: x ")
  string(APPEND failures "  -O2: no 'moved to heap: x' for createOnHeap's x (line ${on_heap})\n")
endif()
if(optimized MATCHES "${name}:${on_stack}:")
  string(APPEND failures "  -O2: a remark for createOnStack's x (line ${on_stack})\n")
endif()

remarks(-O0 unoptimized)
if(NOT unoptimized MATCHES "${name}:${on_stack}:[0-9]+: remark: x does not escape ")
  string(APPEND failures "  -O0: no 'x does not escape' for createOnStack's x (line ${on_stack})\n")
endif()
if(NOT unoptimized MATCHES "${name}:${on_heap}:[0-9]+: remark: moved to heap: x ")
  string(APPEND failures "  -O0: no 'moved to heap: x' for createOnHeap's x (line ${on_heap})\n")
endif()

if(failures)
  message(FATAL_ERROR "the escape remarks are not Go's:\n${failures}")
endif()
message(NOTICE "createOnStack's x stays on the stack (no remark at -O2, "
  "'x does not escape' at -O0); createOnHeap's x: 'moved to heap: x'")
