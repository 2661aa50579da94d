// Amazon Linux 2023 (provided.al2023) ships glibc 2.34, but Debian 12's libm versions hypot and
// hypotf at GLIBC_2.35, which the static Swift runtime references. Defining hypotf here and binding
// hypot to the architecture's glibc baseline version keeps every bootstrap loadable on AL2023
// (`make package` checks it; ci/tests/test_package.py compiles this file for both architectures).
// Declared, not included from <math.h>: the file must compile for the other architecture too.
double hypot(double, double);

#if defined(__x86_64__)
    __asm__(".symver hypot, hypot@GLIBC_2.2.5");
#elif defined(__aarch64__)
    __asm__(".symver hypot, hypot@GLIBC_2.17");
#else
    #error "CGlibcCompat: no glibc baseline known for this architecture (Lambda runs x86_64 and arm64)"
#endif

float hypotf(float x, float y) { return (float)hypot((double)x, (double)y); }
