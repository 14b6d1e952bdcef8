/* effvk classify: an image through an ImageNet classifier, top-K classes. */
#ifndef EFFVK_TOOLS_CLASSIFY_H
#define EFFVK_TOOLS_CLASSIFY_H

/* argv holds the command's arguments (after "classify"); returns the exit
 * status: 0 success, 1 error, 2 bad usage. */
int classify_main(int argc, char **argv);

extern const char classify_usage[];

#endif
