// examples/manifest.hpp - every example, in tour order. The tour runs them
// in this order; tests/examples runs each and compares its output with
// tests/examples/expected/<name>.txt.
#pragma once

namespace example {

struct Entry {
    const char* dir;    // subdirectory of examples/ (the layer)
    const char* name;   // file stem = executable name
    const char* title;  // what it shows
    const char* seed;   // the tutorial example it mirrors
};

inline constexpr Entry kTour[] = {
    {"core", "sync_vs_async_sync", "synchronous baseline: two 2 s jobs take 4 s",
     "003_f0e0edc5776dec87.txt, sync.py (S003-02)"},
    {"core", "sync_vs_async_async", "the same two jobs with asyncio.gather take 2 s",
     "003_f0e0edc5776dec87.txt, async.py (S003-01)"},
};

}  // namespace example
