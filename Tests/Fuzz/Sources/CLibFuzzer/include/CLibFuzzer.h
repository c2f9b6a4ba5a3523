// libFuzzer's documented driver entry (llvm.org/docs/LibFuzzer.html, "Using libFuzzer as a
// library"). The fuzz target's main.swift calls it, so the executable keeps its own `main`
// (SwiftPM renames an executable's entry point, which clashes with libFuzzer's `main`).
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
