// Amazon Linux 2023 (provided.al2023) ships glibc 2.34, but Debian 12's libm versions hypot and
// hypotf at GLIBC_2.35, which the static Swift runtime references. Defining hypotf here and binding
// hypot to its baseline version keeps every bootstrap loadable on AL2023 (`make package` checks it).
#include <math.h>

__asm__(".symver hypot, hypot@GLIBC_2.2.5");

float hypotf(float x, float y) { return (float)hypot((double)x, (double)y); }
