#pragma once
// The only include of Relacy (one adapter per third-party library). Its
// relacy_std.hpp clashes with libstdc++ 12's <atomic>, so the models use the
// rl:: API directly.
#include <relacy/relacy.hpp>
