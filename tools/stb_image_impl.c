/* stb_image's implementation (Debian's libstb-dev), compiled here and
 * nowhere else. It is third-party code: CMake compiles this file with its
 * warnings off, so that -Werror never trips over it. */
#define STB_IMAGE_IMPLEMENTATION
#define STBI_FAILURE_USERMSG
#include <stb_image.h>
