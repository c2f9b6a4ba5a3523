#ifndef KERASLITE_CZLIB_SHIM_H
#define KERASLITE_CZLIB_SHIM_H
#include <zlib.h>
#endif
