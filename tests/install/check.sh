#!/bin/sh
# Installs courier into a scratch prefix and builds a user's program against
# it three times: with pkg-config (g++ app.cpp $(pkg-config --cflags --libs
# courier)), with CMake (find_package(courier) and courier::courier), and as a
# meson subproject (dependency('courier')).
# usage: check.sh SOURCE_ROOT BUILD_ROOT
set -eu
src=$1
build=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

DESTDIR="$work/root" meson install -C "$build" --quiet --no-rebuild
pc=$(find "$work/root" -name courier.pc | head -n 1)
so=$(find "$work/root" -name 'libcourier.so.0.*' | head -n 1)
[ -n "$so" ] || { echo "libcourier.so.0.* was not installed"; exit 1; }
readelf -d "$so" | grep -q 'SONAME.*\[libcourier.so.0\]' || { echo "libcourier's SONAME is not libcourier.so.0"; exit 1; }
[ -n "$pc" ] || { echo "courier.pc was not installed"; exit 1; }
prefix_dir=$(dirname "$pc")
flags=$(PKG_CONFIG_SYSROOT_DIR="$work/root" PKG_CONFIG_PATH="$prefix_dir" pkg-config --cflags --libs courier)
libdir=$(dirname "$prefix_dir")

cat > "$work/app.cpp" <<'APP'
#include <courier/courier.hpp>
struct sum { int a, b; };
struct adder : courier::actor<adder> {
  int on(sum s) { return s.a + s.b; }
};
int main() {
  courier::runtime rt{{.workers = 1}};
  auto a = rt.spawn<adder>();
  auto r = a.ask(sum{16, 4}).get();
  return r && *r == 20 && rt.shutdown() ? 0 : 1;
}
APP
# shellcheck disable=SC2086
${CXX:-g++} -std=c++20 "$work/app.cpp" -o "$work/app" $flags
LD_LIBRARY_PATH="$libdir" "$work/app"
echo "pkg-config build: ok"

config=$(find "$work/root" -name courierConfig.cmake | head -n 1)
[ -n "$config" ] || { echo "courierConfig.cmake was not installed"; exit 1; }
[ -f "$(dirname "$config")/courierConfigVersion.cmake" ] || { echo "courierConfigVersion.cmake was not installed"; exit 1; }
mkdir -p "$work/cm"
cp "$work/app.cpp" "$work/cm/app.cpp"
cat > "$work/cm/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.16)
project(user CXX)
find_package(courier 0.1 REQUIRED)
add_executable(app app.cpp)
target_link_libraries(app PRIVATE courier::courier)
CMAKE
header=$(find "$work/root" -path '*/include/courier/courier.hpp' | head -n 1)
prefix=${header%/include/courier/courier.hpp}
cmake -S "$work/cm" -B "$work/cm/build" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null  # as a user would
cmake --build "$work/cm/build" >/dev/null
LD_LIBRARY_PATH="$libdir" "$work/cm/build/app"
# A version the copy cannot satisfy is refused.
mkdir -p "$work/cm2"
cat > "$work/cm2/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.16)
project(user CXX)
find_package(courier 1.0 QUIET)
if(courier_FOUND)
  message(FATAL_ERROR "courier 1.0 was accepted from a 0.x copy")
endif()
CMAKE
cmake -S "$work/cm2" -B "$work/cm2/build" -Dcourier_DIR="$(dirname "$config")" >/dev/null
echo "CMake build: ok"

mkdir -p "$work/sub/subprojects"
ln -s "$src" "$work/sub/subprojects/courier"
cp "$work/app.cpp" "$work/sub/app.cpp"
cat > "$work/sub/meson.build" <<'MESON'
project('user', 'cpp', default_options : ['cpp_std=c++20'])
courier = dependency('courier', fallback : ['courier', 'courier_dep'],
                     default_options : ['tests=disabled', 'relacy=disabled'])
test('app', executable('app', 'app.cpp', dependencies : courier))
MESON
meson setup "$work/sub/build" "$work/sub" --wrap-mode=nodownload --force-fallback-for=courier >/dev/null
ninja -C "$work/sub/build" >/dev/null
"$work/sub/build/app"
echo "meson subproject build: ok"
