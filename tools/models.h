/* The model commands of the effvk program: `effvk run` and `effvk flops`. */
#ifndef EFFVK_TOOLS_MODELS_H
#define EFFVK_TOOLS_MODELS_H

/* argv holds the command's options (after the command name); the result is
 * the program's exit status: 0 success, 1 error, 2 bad usage. */
int models_run(int argc, char **argv);
int models_flops(int argc, char **argv);

/* The option lines of each command's usage. */
extern const char models_run_usage[];
extern const char models_flops_usage[];

#endif
