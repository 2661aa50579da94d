// Intentionally empty: this target only contributes the symbol shim in glibc_compat.c.
