# The installed package: what `cmake --install build --prefix <dir>` adds to
# the targets' own install rules (runtime/, plugin/, tools/), so that other
# projects can use goroutine without this source tree. Layout, with the
# default GNUInstallDirs (docs/packaging.md):
#
#   bin/goroutine-clang, goroutine-clang++       drivers (tools/CMakeLists.txt)
#   include/goroutine/*.h, *.hpp                 the API
#   lib/libgoroutine.a                           the runtime
#   lib/libgoroutine-plugin.so                   -fplugin= this (the shim) ...
#   lib/libgoroutine-plugin-impl.so              ... which loads this beside it
#   lib/cmake/Goroutine/                         find_package(Goroutine)
#   lib/pkgconfig/goroutine.pc                   pkg-config goroutine
#   share/goroutine/goroutine.dynlist            for -Wl,--dynamic-list=
#   share/goroutine/gdb/goroutine-gdb.py         the gdb helper
#
# Every installed file finds the others by a path relative to itself (the
# CMake config by PACKAGE_PREFIX_DIR, the .pc file by ${pcfiledir}, the
# drivers by their own location), so the tree works wherever it is unpacked.
include(CMakePackageConfigHelpers)

set(GOROUTINE_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/Goroutine)

# Paths the config file sets, relative to the prefix (PATH_VARS makes them
# absolute again, from the config file's location, when it is loaded).
set(GOROUTINE_INSTALL_PLUGIN ${CMAKE_INSTALL_LIBDIR}/libgoroutine-plugin.so)
set(GOROUTINE_INSTALL_DYNAMIC_LIST
  ${CMAKE_INSTALL_DATADIR}/goroutine/goroutine.dynlist)
set(GOROUTINE_INSTALL_GDB_SCRIPT
  ${CMAKE_INSTALL_DATADIR}/goroutine/gdb/goroutine-gdb.py)
configure_package_config_file(cmake/GoroutineConfig.cmake.in
  ${PROJECT_BINARY_DIR}/package/GoroutineConfig.cmake
  INSTALL_DESTINATION ${GOROUTINE_INSTALL_CMAKEDIR}
  PATH_VARS GOROUTINE_INSTALL_PLUGIN GOROUTINE_INSTALL_DYNAMIC_LIST
            GOROUTINE_INSTALL_GDB_SCRIPT)
# 0.x: a new minor version may change the API.
write_basic_package_version_file(
  ${PROJECT_BINARY_DIR}/package/GoroutineConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(EXPORT GoroutineTargets
  NAMESPACE Goroutine::
  FILE GoroutineTargets.cmake
  DESTINATION ${GOROUTINE_INSTALL_CMAKEDIR})
install(FILES
  ${PROJECT_BINARY_DIR}/package/GoroutineConfig.cmake
  ${PROJECT_BINARY_DIR}/package/GoroutineConfigVersion.cmake
  ${PROJECT_SOURCE_DIR}/cmake/GoroutineInstrument.cmake
  DESTINATION ${GOROUTINE_INSTALL_CMAKEDIR})

# pkg-config: the prefix is the .pc file's directory, up to the prefix.
file(RELATIVE_PATH GOROUTINE_PC_TO_PREFIX
  ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
string(REGEX REPLACE "/$" "" GOROUTINE_PC_TO_PREFIX ${GOROUTINE_PC_TO_PREFIX})
configure_file(cmake/goroutine.pc.in ${PROJECT_BINARY_DIR}/package/goroutine.pc
  @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/package/goroutine.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
