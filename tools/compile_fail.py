#!/usr/bin/env python3
"""Compile one tests/compile_fail/*.cpp and expect it to fail with the
diagnostic named in its first line (`// expect: <text>`), with the extra
compiler flags of an optional second line (`// flags: -Werror=...`).

usage: compile_fail.py SOURCE INCLUDE_DIR GENERATED_INCLUDE_DIR COMPILER [ARGS...]
"""
import subprocess
import sys


def main() -> int:
    source, include, generated, *compiler = sys.argv[1:]
    with open(source, encoding="utf-8") as f:
        first = f.readline().strip()
    if not first.startswith("// expect:"):
        print(f"{source}: first line must be '// expect: <diagnostic text>'")
        return 1
    expected = first[len("// expect:"):].strip()
    lines = open(source, encoding="utf-8").readlines()
    second = lines[1].strip() if len(lines) > 1 else ""
    flags = second[len("// flags:"):].split() if second.startswith("// flags:") else []
    cmd = compiler + ["-std=c++20", "-fsyntax-only", "-I", include, "-I", generated] + flags + [source]
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode == 0:
        print(f"{source}: compiled, but it must not")
        return 1
    if expected not in run.stderr:
        print(f"{source}: failed without the expected diagnostic '{expected}':\n{run.stderr[:4000]}")
        return 1
    errors = [l for l in run.stderr.splitlines() if ": error:" in l]
    if len(errors) != 1:
        print(f"{source}: expected one error line, got {len(errors)}:\n" + "\n".join(errors))
        return 1
    print(f"{source}: rejected as expected ({len(errors)} error line(s)): {errors[0] if errors else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
