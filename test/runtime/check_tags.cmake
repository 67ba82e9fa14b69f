# Checks that the tag list in test/runtime/CMakeLists.txt matches the tags of
# the TEST_CASEs in test/runtime/*.cpp and *.c: every ctest runtime.<tag>.<mode>
# runs `runtime_tests [<tag>]`, so a tag missing from the list is a test that
# never runs, and a listed tag that no TEST_CASE uses is a ctest that runs
# nothing. Run as
#   cmake -D TAGS=<tag,tag,...> -D SOURCE_DIR=<test/runtime> -P <this file>
# Catch2's special tags ([!mayfail] and the like) are not run by tag and are
# left out.
cmake_minimum_required(VERSION 3.20)
string(REPLACE "," ";" listed "${TAGS}")
file(GLOB sources ${SOURCE_DIR}/*.cpp ${SOURCE_DIR}/*.c)
list(SORT sources)

set(used "")
set(errors "")
set(ws "[ \t\r\n]*")
foreach(source IN LISTS sources)
  get_filename_component(file ${source} NAME)
  file(READ ${source} text)
  # Semicolons and brackets would split or join CMake list items.
  string(REPLACE ";" "<sc>" text "${text}")
  string(REPLACE "[" "<lb>" text "${text}")
  string(REPLACE "]" "<rb>" text "${text}")
  # TEST_CASE(<name literals>, "<tags>"): a long name may be split into
  # adjacent string literals.
  string(REGEX MATCHALL "TEST_CASE\\((${ws}\"[^\"]*\")+${ws}(,${ws}\"[^\"]*\")?"
    cases "${text}")
  string(REGEX MATCHALL "TEST_CASE\\(" opened "${text}")
  list(LENGTH cases num_cases)
  list(LENGTH opened num_opened)
  if(NOT num_cases EQUAL num_opened)
    string(APPEND errors "  ${file}: a TEST_CASE this check cannot read "
      "(not TEST_CASE(\"name\", \"[tag]\"))\n")
  endif()
  foreach(case IN LISTS cases)
    # The name: its literals joined, brackets restored.
    string(REGEX REPLACE ",${ws}\"[^\"]*\"$" "" head "${case}")
    string(REGEX MATCHALL "\"[^\"]*\"" parts "${head}")
    list(JOIN parts "" name)
    string(REPLACE "\"" "" name "${name}")
    string(REPLACE "<lb>" "[" name "${name}")
    string(REPLACE "<rb>" "]" name "${name}")
    string(REPLACE "<sc>" ";" name "${name}")
    if(NOT case MATCHES ",${ws}\"([^\"]*)\"$")
      string(APPEND errors "  ${file}: TEST_CASE \"${name}\" has no tag, "
        "so no ctest runs it\n")
      continue()
    endif()
    string(REGEX MATCHALL "<lb>[^<]*<rb>" tags "${CMAKE_MATCH_1}")
    foreach(tag IN LISTS tags)
      string(REGEX REPLACE "^<lb>(.*)<rb>$" "\\1" tag "${tag}")
      if(tag MATCHES "^!")
        continue()
      endif()
      list(APPEND used ${tag})
      if(NOT tag IN_LIST listed)
        string(APPEND errors "  ${file}: TEST_CASE \"${name}\" has tag "
          "[${tag}], which is not in the tag list of "
          "test/runtime/CMakeLists.txt (set(tags ...)): add it there\n")
      endif()
    endforeach()
  endforeach()
endforeach()

list(REMOVE_DUPLICATES used)
foreach(tag IN LISTS listed)
  if(NOT tag IN_LIST used)
    string(APPEND errors "  tag [${tag}] is in the tag list of "
      "test/runtime/CMakeLists.txt, but no TEST_CASE in ${SOURCE_DIR} uses it: "
      "remove it there\n")
  endif()
endforeach()

if(errors)
  message(FATAL_ERROR "runtime test tags do not match:\n${errors}")
endif()
list(LENGTH listed num_listed)
list(LENGTH sources num_sources)
message(STATUS "${num_listed} tags, all used; every TEST_CASE in "
  "${num_sources} sources has a listed tag")
