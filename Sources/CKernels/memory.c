// See ckernels.h: glibc's malloc kept from handing freed buffers back to the kernel (the CLI sets
// the streaming level first thing; Workspace the interpreters' level on first use).
#include "ckernels.h"
#if defined(__GLIBC__)
#include <malloc.h>
#endif

void ck_retain_freed_memory(size_t trim_threshold, size_t top_pad) {
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, (int)(trim_threshold < (1u << 30) ? trim_threshold : (1u << 30)));
    mallopt(M_TOP_PAD, (int)(top_pad < (1u << 30) ? top_pad : (1u << 30)));
#else
    (void)trim_threshold;
    (void)top_pad;
#endif
}
