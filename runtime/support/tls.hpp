#pragma once
// COURIER_TLS_FAST: the initial-exec TLS model for the runtime's per-thread
// words read on every send or turn (a %fs-relative load instead of a
// __tls_get_addr call, which the default model of a shared library costs).
// It takes a few bytes of the static TLS block, which glibc keeps spare even
// for libraries opened later with dlopen.

#if defined(__GNUC__)
#define COURIER_TLS_FAST __attribute__((tls_model("initial-exec")))
#else
#define COURIER_TLS_FAST
#endif
