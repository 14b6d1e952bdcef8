/* A program built against an installed effvk (find_package, pkg-config, or
 * add_subdirectory), shared or static: it runs one conv2d. */
#include "conv2d_check.h"

int main(int argc, char **argv)
{
    return conv2d_check(argc > 0 ? argv[0] : "consumer") ? 0 : 1;
}
