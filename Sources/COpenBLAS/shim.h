#ifndef KERASLITE_COPENBLAS_SHIM_H
#define KERASLITE_COPENBLAS_SHIM_H
// OpenBLAS' CBLAS interface (cblas_sgemm, openblas_set_num_threads); Debian: libopenblas-dev,
// whose pkg-config file `openblas` points the include path at the pthread variant.
#include <cblas.h>
#endif
