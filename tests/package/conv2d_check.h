/* A pointwise conv2d on the default device against a plain loop: what each
 * program that links effvk a different way runs to show it works. */
#ifndef EFFVK_TESTS_CONV2D_CHECK_H
#define EFFVK_TESTS_CONV2D_CHECK_H

/* 1 when the conv ran and matched; otherwise 0, with the reason on stderr
 * after `who`. */
int conv2d_check(const char *who);

#endif
