/* The 1000 ImageNet class names in index order, as torchvision's weights
 * metadata gives them (tools/imagenet_classes.txt, compiled in by CMake so
 * that the program needs no data file). */
#ifndef EFFVK_TOOLS_IMAGENET_CLASSES_H
#define EFFVK_TOOLS_IMAGENET_CLASSES_H

#define IMAGENET_CLASS_COUNT 1000u

extern const char *const imagenet_classes[IMAGENET_CLASS_COUNT];

#endif
