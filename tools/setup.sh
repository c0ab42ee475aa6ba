# Shared by tools/test and tools/bench (sourced): installs the Debian packages
# courier builds with, if any is missing. Idempotent; needs root for apt-get
# (otherwise it says what to install and goes on with what is there).

courier_packages="meson ninja-build cmake pkg-config g++ clang doctest-dev libbenchmark-dev \
libmimalloc-dev libconcurrentqueue-dev systemtap-sdt-dev relacy-dev python3 libasio-dev redis-tools"

courier_install_missing() {
  extra="$*"
  missing=""
  for p in $courier_packages $extra; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
  done
  [ -z "$missing" ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing:$missing"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
  else
    echo "== missing packages:$missing (run as root to install them; continuing)" >&2
  fi
}

# meson setup if the directory is new, else reconfigure it (new options included).
courier_configure() {
  dir=$1
  shift
  if [ -f "$dir/build.ninja" ]; then
    meson setup --reconfigure "$dir" --wrap-mode=nodownload "$@" >/dev/null
  else
    meson setup "$dir" --wrap-mode=nodownload "$@" >/dev/null
  fi
}
