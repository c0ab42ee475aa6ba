#!/bin/sh
# Installs courier into a scratch prefix and builds a user's program against
# it twice: with pkg-config (g++ app.cpp $(pkg-config --cflags --libs courier))
# and as a meson subproject (dependency('courier')).
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
