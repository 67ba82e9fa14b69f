# goroutine_instrument(<target>)
#
# Compiles the C and C++ sources of <target> with the goroutine plugin and
# links it with libgoroutine and the flags every instrumented program needs:
#   -z now             the dynamic linker's lazy binding never runs on a
#                      goroutine stack (its resolver saves the full vector
#                      state on the current stack)
#   --dynamic-list     exports the runtime's sigaction/setjmp family so shared
#                      libraries use them too
#   -u ...             always links the runtime's setjmp family and its
#                      clone/vfork/ucontext/sigaltstack (contexts.cpp)
#
# Works in this source tree (GOROUTINE_IN_TREE) and from the installed CMake
# package (find_package(Goroutine)), which sets GOROUTINE_PLUGIN and
# GOROUTINE_DYNAMIC_LIST.
if(GOROUTINE_IN_TREE)
  set(GOROUTINE_PLUGIN $<TARGET_FILE:goroutine_plugin>)
  set(GOROUTINE_DYNAMIC_LIST ${PROJECT_SOURCE_DIR}/runtime/goroutine.dynlist)
endif()

set(GOROUTINE_LINK_OPTIONS
  -Wl,-z,now
  -Wl,--dynamic-list=${GOROUTINE_DYNAMIC_LIST}
  -Wl,-u,__goroutine_sigsetjmp
  -Wl,-u,clone)

function(goroutine_instrument target)
  cmake_parse_arguments(ARG "" "" "PLUGIN_ARGS" ${ARGN})
  set(flags -fplugin=${GOROUTINE_PLUGIN})
  foreach(arg IN LISTS ARG_PLUGIN_ARGS)
    list(APPEND flags -fplugin-arg-goroutine-${arg})
  endforeach()
  target_compile_options(${target} PRIVATE
    "$<$<COMPILE_LANGUAGE:C,CXX>:${flags}>")
  target_link_libraries(${target} PRIVATE Goroutine::runtime)
  target_link_options(${target} PRIVATE ${GOROUTINE_LINK_OPTIONS})
  if(GOROUTINE_IN_TREE)
    add_dependencies(${target} goroutine_plugin)
    # Compile only once the plugin is linked (Ninja starts compiling before
    # dependencies link), and again whenever it changes.
    get_target_property(sources ${target} SOURCES)
    set_property(SOURCE ${sources} TARGET_DIRECTORY ${target} APPEND PROPERTY
      OBJECT_DEPENDS ${CMAKE_LIBRARY_OUTPUT_DIRECTORY}/libgoroutine-plugin.so
                     ${CMAKE_LIBRARY_OUTPUT_DIRECTORY}/libgoroutine-plugin-impl.so)
  endif()
endfunction()
