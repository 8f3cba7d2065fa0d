// The same program as strict.c, compiled as C++.
#include "strict.c"
