#!/bin/sh
# Real third-party code on goroutine stacks.
#
# Fetches C libraries that ship their own test suites from the npm registry
# (nothing of them is committed), builds each twice -- with the goroutine
# plugin, and with plain clang-19 as the reference -- and runs every upstream
# test program. In the instrumented build the program's main() runs inside
# go::run (goroutine_main.c), so the whole test suite runs on a goroutine
# stack that starts at 2 KiB; under GOROUTINE_DEBUG=stackmove=N it moves at
# every Nth function entry. Each program's exit status and output must equal
# the reference build's.
#
#   realworld.sh build <build-dir>          fetch and build everything
#   realworld.sh run <build-dir> <lib> <mode>
#       <lib>: oniguruma | libxml2 | libsodium
#       <mode>: normal | torture | guardpages
set -eu

here=$(cd "$(dirname "$0")" && pwd)
cmd=$1
build=$(cd "$2" && pwd)
work=$build/realworld
driver=$build/bin/goroutine-clang
jobs=$(nproc)

# package@version and the folder inside the tarball with the C sources.
oniguruma_pkg=oniguruma@7.2.3
libxml2_pkg=libxmljs@1.0.11
libsodium_pkg=sodium@3.0.2

# (dash, Debian's /bin/sh, has `local`.)
fetch() { # name package -> prints the unpacked package directory
  local dir tarball
  dir=$work/src/$1
  if [ ! -f "$dir/.unpacked" ]; then
    mkdir -p "$work/cache" "$dir"
    tarball=$(cd "$work/cache" && npm pack --silent "$2" | tail -n 1)
    tar xzf "$work/cache/$tarball" -C "$dir"
    touch "$dir/.unpacked"
  fi
  echo "$dir/package"
}

# Compiles the listed sources into objects in parallel. cc_objs <cc> <flags>
# <objdir> files... ; each object is named after its path.
cc_objs() {
  local cc=$1 flags=$2 objdir=$3
  shift 3
  mkdir -p "$objdir"
  for f in "$@"; do echo "$f"; done |
    CC=$cc FLAGS=$flags OBJDIR=$objdir xargs -P "$jobs" -n 1 sh -c \
      'o=$OBJDIR/$(echo "$0" | tr / _).o; [ -f "$o" ] || $CC $FLAGS -c "$0" -o "$o"'
}

# Links a test program: its main is renamed when instrumented and called from
# goroutine_main.c instead. link_test <variant> <out> <flags> <libs> sources...
link_test() {
  local variant=$1 out=$2 flags=$3 libs=$4
  shift 4
  if [ "$variant" = reference ]; then
    $(compiler "$variant") $flags "$@" $libs -o "$out"
  else
    $(compiler "$variant") $flags -Dmain=goroutine_realworld_main "$@" \
      "$work/goroutine_main.o" $libs -o "$out"
  fi
}

# The variants: reference (plain clang-19), goroutine (the plugin), and, for
# bench/escape_cost.sh only, noescape (the plugin without its escape
# transformations: no side stack, no heap-to-stack) and remarks (the plugin,
# writing its remarks next to each object as <object>.opt.yaml).
compiler() {
  case $1 in
    reference) echo clang-19 ;;
    goroutine) echo "$driver" ;;
    noescape) echo "$driver -fplugin-arg-goroutine-no-side-stack -fplugin-arg-goroutine-no-heap-to-stack" ;;
    remarks) echo "$driver -fsave-optimization-record" ;;
  esac
}

# True if <dir> holds a build of <variant> that is current: instrumented
# builds are redone when the plugin or the runtime changed since.
up_to_date() { # dir variant
  [ -f "$1/.built" ] || return 1
  [ "$2" != reference ] || return 0
  if [ "$build/lib/libgoroutine-plugin-impl.so" -nt "$1/.built" ]; then
    rm -rf "$1"
    return 1
  fi
  [ "$build/lib/libgoroutine.a" -nt "$1/.built" ] && return 1
  return 0
}

build_oniguruma() { # variant
  local src out flags
  src=$(fetch oniguruma $oniguruma_pkg)/deps/onig
  out=$work/oniguruma/$1
  up_to_date "$out" "$1" && return
  flags="-O2 -w -I$src -I$src/enc"
  cc_objs "$(compiler "$1")" "$flags" "$out/obj" \
    $(cd "$src" && ls reg*.c st.c enc/*.c | grep -v mktable | sed "s|^|$src/|")
  ar rcs "$out/libonig.a" "$out"/obj/*.o
  link_test "$1" "$out/testc" "$flags" "$out/libonig.a" "$src/testc.c"
  link_test "$1" "$out/testp" "$flags -DPOSIX_TEST" "$out/libonig.a" "$src/testc.c"
  link_test "$1" "$out/testu" "$flags" "$out/libonig.a" "$src/testu.c"
  touch "$out/.built"
}

build_libxml2() { # variant
  local pkg src out flags lib t
  pkg=$(fetch libxml2 $libxml2_pkg)
  src=$pkg/vendor/libxml2
  out=$work/libxml2/$1
  up_to_date "$out" "$1" && return
  flags="-O2 -w -D_REENTRANT -DHAVE_LIBPTHREAD -DHAVE_PTHREAD_H -DHAVE_UNISTD_H
    -DHAVE_RAND_R -I$pkg/vendor/libxml2.config -I$src/include -I$src"
  lib="buf c14n catalog chvalid debugXML dict DOCBparser encoding entities
    error globals hash HTMLparser HTMLtree legacy list nanoftp nanohttp parser
    parserInternals pattern relaxng SAX2 SAX schematron threads tree uri valid
    xinclude xlink xmlIO xmlmemory xmlmodule xmlreader xmlregexp xmlsave
    xmlschemas xmlschemastypes xmlstring xmlunicode xmlwriter xpath xpointer"
  cc_objs "$(compiler "$1")" "$flags" "$out/obj" \
    $(for f in $lib; do echo "$src/$f.c"; done)
  ar rcs "$out/libxml2.a" "$out"/obj/*.o
  for t in testapi testchar testdict testlimits; do
    link_test "$1" "$out/$t" "$flags" "$out/libxml2.a -lpthread -lm -ldl" "$src/$t.c"
  done
  touch "$out/.built"
}

build_libsodium() { # variant
  local src out flags cc set pattern extra files n t
  src=$(fetch libsodium $libsodium_pkg)/deps/libsodium
  out=$work/libsodium/$1
  up_to_date "$out" "$1" && return
  mkdir -p "$out/include/sodium" "$out/t"
  sed -e 's/@VERSION@/1.0.16/' -e 's/@SODIUM_LIBRARY_VERSION_MAJOR@/10/' \
      -e 's/@SODIUM_LIBRARY_VERSION_MINOR@/1/' -e 's/@SODIUM_LIBRARY_MINIMAL_DEF@//' \
      "$src/src/libsodium/include/sodium/version.h.in" >"$out/include/sodium/version.h"
  # configure's results for this machine, by hand (only configure.ac ships).
  flags="-O2 -w -pthread -DCONFIGURED=1 -DNATIVE_LITTLE_ENDIAN=1 -DHAVE_TI_MODE=1
    -DHAVE_INLINE_ASM=1 -DHAVE_EMMINTRIN_H=1 -DHAVE_TMMINTRIN_H=1
    -DHAVE_SMMINTRIN_H=1 -DHAVE_AVXINTRIN_H=1 -DHAVE_AVX2INTRIN_H=1
    -DHAVE_WMMINTRIN_H=1 -DHAVE_MMAP=1 -DHAVE_MLOCK=1 -DHAVE_MADVISE=1
    -DHAVE_MPROTECT=1 -DHAVE_POSIX_MEMALIGN=1 -DHAVE_NANOSLEEP=1
    -DHAVE_SYS_MMAN_H=1 -DHAVE_PTHREAD=1 -DHAVE_GETPID=1 -DHAVE_SYS_RANDOM_H=1
    -DHAVE_GETRANDOM=1 -DHAVE_CPUID=1 -I$out/include -I$out/include/sodium
    -I$src/src/libsodium/include -I$src/src/libsodium/include/sodium"
  cc=$(compiler "$1")
  # SIMD implementations need their instruction sets enabled; the library
  # picks one at run time from CPUID.
  for set in "aesni|aes256gcm:-maes -mpclmul -mssse3" "avx2:-mavx2" \
             "sse41:-msse4.1" "ssse3:-mssse3" "sse2:-msse2" "other:"; do
    pattern=${set%%:*} extra=${set#*:}
    files=$(cd "$src" && find src/libsodium -name '*.c' | sort)
    if [ "$pattern" = other ]; then
      files=$(echo "$files" | grep -Ev 'aesni|aes256gcm|avx512|avx2|sse41|ssse3|sse2')
    else
      files=$(echo "$files" | grep -E "$pattern" | grep -v avx512)
    fi
    cc_objs "$cc" "$flags $extra" "$out/obj" $(echo "$files" | sed "s|^|$src/|")
  done
  ar rcs "$out/libsodium.a" "$out"/obj/*.o
  n=0
  for t in $(cd "$src/test/default" && ls *.c | sed 's/\.c$//'); do
    link_test "$1" "$out/t/$t" "$flags -I$src/test/default -I$src/test/quirks \
      -DTEST_NAME=\"$t\" -DTEST_SRCDIR=\"$src/test/default\"" \
      "$out/libsodium.a" "$src/test/default/$t.c" &
    n=$((n + 1))
    [ $((n % jobs)) -eq 0 ] && wait
  done
  wait
  touch "$out/.built"
}

tests_of() { # lib -> test program names
  case $1 in
    oniguruma) echo testc testp testu ;;
    libxml2) echo testapi testchar testdict testlimits ;;
    libsodium) (cd "$work/libsodium/reference/t" && ls) ;;
  esac
}
programs_dir() { # lib variant
  case $1 in
    libsodium) echo "$work/libsodium/$2/t" ;;
    *) echo "$work/$1/$2" ;;
  esac
}

# The torture setting per program: a move at every function entry, except
# libxml2's testlimits, which parses documents nested deep enough that copying
# its stack at each of its hundreds of millions of calls would take ten
# minutes; every 10th entry takes 40 s.
torture_of() { # lib program
  case $1/$2 in
    libxml2/testlimits) echo stackmove=10 ;;
    *) echo stackmove=1 ;;
  esac
}

# Programs that store the address of a local where a stack move cannot
# update it (docs/guide.md, "The pointer contract"): libxml2/testchar passes its local
# `char data[5]` to xmlParserInputBufferCreateStatic, which keeps it in a heap
# buffer; Oniguruma's compiler keeps `&uslist`, a local, in heap CallNodes
# (regcomp.c: cn->unset_addr_list). The escape analysis moves both locals to
# the side stack. Under torture these programs run a second time with the
# pointer-contract checker (stackpoison: old stacks become inaccessible after
# each move), which turns any escape the analysis missed into a fatal error.
# The <N> is the move interval for that run (poisoning costs a few mprotect
# calls per move).
contract_check_of() { # lib program -> stackmove interval, or nothing
  case $1/$2 in
    libxml2/testchar) echo 100 ;;
    oniguruma/testc | oniguruma/testp | oniguruma/testu) echo 1 ;;
  esac
}

# Runs <program> in <dir> with GOROUTINE_DEBUG=<debug>; its output and then
# "exit <status>" go to <file>.
capture() { # dir debug program file
  local status=0
  (cd "$1" && GOROUTINE_DEBUG=$2 "$3") >"$4" 2>&1 || status=$?
  echo "exit $status" >>"$4"
}

run_lib() { # lib mode
  local lib=$1 mode=$2 debug scratch failures count t ref got interval
  scratch=$(mktemp -d)
  failures=0
  count=0
  for t in $(tests_of "$lib"); do
    ref=$(programs_dir "$lib" reference)/$t
    got=$(programs_dir "$lib" goroutine)/$t
    [ -x "$got" ] || { echo "FAIL $lib/$t: not built"; failures=$((failures + 1)); continue; }
    case $mode in
      normal) debug= ;;
      torture) debug=$(torture_of "$lib" "$t") ;;
      guardpages) debug=guardpages=1 ;;
      *) echo "unknown mode $mode" >&2; exit 2 ;;
    esac
    count=$((count + 1))
    mkdir -p "$scratch/ref" "$scratch/got"
    capture "$scratch/ref" "" "$ref" "$scratch/ref.out"
    capture "$scratch/got" "$debug" "$got" "$scratch/got.out"
    if cmp -s "$scratch/ref.out" "$scratch/got.out"; then
      echo "ok   $lib/$t matches the reference build under GOROUTINE_DEBUG=$debug ($(tail -n 1 "$scratch/got.out"))"
    else
      echo "FAIL $lib/$t under GOROUTINE_DEBUG=$debug:"
      diff "$scratch/ref.out" "$scratch/got.out" | head -20
      failures=$((failures + 1))
    fi
    interval=$(contract_check_of "$lib" "$t")
    if [ "$mode" = torture ] && [ -n "$interval" ]; then
      debug=stackmove=$interval,stackpoison=1
      capture "$scratch/got" "$debug" "$got" "$scratch/poison.out"
      if cmp -s "$scratch/ref.out" "$scratch/poison.out"; then
        echo "ok   $lib/$t keeps the pointer contract under GOROUTINE_DEBUG=$debug"
      else
        echo "FAIL $lib/$t under GOROUTINE_DEBUG=$debug (an escape the analysis missed?):"
        diff "$scratch/ref.out" "$scratch/poison.out" | head -20
        failures=$((failures + 1))
      fi
    fi
    rm -rf "$scratch/ref" "$scratch/got"
  done
  rm -rf "$scratch"
  echo "$lib [$mode]: $((count - failures)) of $count test programs as expected"
  [ "$failures" -eq 0 ] && [ "$count" -gt 0 ]
}

case $cmd in
  build)
    mkdir -p "$work"
    $driver -O2 -c "$here/goroutine_main.c" -o "$work/goroutine_main.o"
    for lib in oniguruma libxml2 libsodium; do
      for variant in reference goroutine; do
        echo "building $lib ($variant)"
        build_$lib "$variant"
      done
    done
    ;;
  run)
    run_lib "$3" "$4"
    ;;
  build-variant) # <build-dir> <lib> <variant>
    # From the library's folder: the remarks variant's link steps write
    # <source>.opt.yaml files into the current directory.
    mkdir -p "$work/$3"
    cd "$work/$3"
    build_$3 "$4"
    ;;
  *)
    echo "usage: $0 build <build-dir> | run <build-dir> <lib> <mode>" >&2
    exit 2
    ;;
esac
