#ifndef KERASLITE_CHDF5_SHIM_H
#define KERASLITE_CHDF5_SHIM_H
// libhdf5 defines its predefined types and flags as macros that expand to
// function calls or casts; Swift cannot import those, so they are re-exported
// here as prefixed static inline functions.
#include <hdf5.h>

static inline hid_t keraslite_H5T_NATIVE_FLOAT(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t keraslite_H5T_NATIVE_DOUBLE(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t keraslite_H5T_NATIVE_INT64(void) { return H5T_NATIVE_INT64; }
static inline hid_t keraslite_H5T_C_S1(void) { return H5T_C_S1; }
static inline unsigned keraslite_H5F_ACC_RDONLY(void) { return H5F_ACC_RDONLY; }
static inline unsigned keraslite_H5F_ACC_RDWR(void) { return H5F_ACC_RDWR; }
static inline unsigned keraslite_H5F_ACC_EXCL(void) { return H5F_ACC_EXCL; }
static inline hid_t keraslite_H5P_DEFAULT(void) { return H5P_DEFAULT; }
static inline hid_t keraslite_H5S_ALL(void) { return H5S_ALL; }
static inline hid_t keraslite_H5E_DEFAULT(void) { return H5E_DEFAULT; }
static inline size_t keraslite_H5T_VARIABLE(void) { return H5T_VARIABLE; }

/// Silences libhdf5's own error printing; keraslite reports errors itself.
static inline void keraslite_H5_silence_errors(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

#endif
