#pragma once
// The only file that includes doctest (its spelling differs between Debian and the wrap).
#if __has_include(<doctest/doctest.h>)
#include <doctest/doctest.h>
#else
#include <doctest.h>
#endif
