// See ckernels.h: glibc's malloc kept from handing freed activation buffers back to the kernel
// (Workspace sets it up on first use).
#include "ckernels.h"
#if defined(__GLIBC__)
#include <malloc.h>
#endif

void ck_retain_freed_memory(void) {
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    mallopt(M_TOP_PAD, 64 << 20);
#endif
}
