#!/usr/bin/env python3
"""Compiles and runs the C++ examples of README.md, so the README stays true.
The first block is a complete program; later blocks are declarations that
must compile inside it (they are inserted before its main()).

usage: check.py README BUILD_ROOT SOURCE_ROOT COMPILER [ARGS...]
"""
import os
import re
import subprocess
import sys
import tempfile


def main() -> int:
    readme, build, source, *compiler = sys.argv[1:]
    blocks = re.findall(r"```cpp\n(.*?)```", open(readme, encoding="utf-8").read(), re.S)
    if not blocks:
        print("no C++ block in README")
        return 1
    program = blocks[0]
    extra = "\n".join(blocks[1:])
    program = program.replace("int main() {", extra + "\nint main() {", 1)
    program = "#include <chrono>\n" + program
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "readme.cpp")
        exe = os.path.join(tmp, "readme")
        open(src, "w").write(program)
        # the build tree has the versioned library only (libcourier.so.0, its
        # SONAME); the unversioned link name is made by `meson install`
        library = os.path.join(build, "runtime", "libcourier.so.0")
        cmd = compiler + ["-std=c++20", "-Wall", "-Wextra", "-Werror", "-I", os.path.join(source, "include"),
                          "-I", os.path.join(build, "include"), src, library, "-pthread", "-o", exe]
        built = subprocess.run(cmd, capture_output=True, text=True)
        if built.returncode != 0:
            print(built.stderr[:4000])
            return 1
        env = dict(os.environ, LD_LIBRARY_PATH=os.path.join(build, "runtime"))
        ran = subprocess.run([exe], capture_output=True, text=True, env=env, timeout=60)
        print(ran.stdout, end="")
        if ran.returncode != 0:
            print(f"README program exited with {ran.returncode}")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
