/* gmtime_r and uname are POSIX, not C11. */
#define _POSIX_C_SOURCE 200809L

#include "bench_provenance.h"

#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include "effvk/effvk.h"

/* CMake passes `git rev-parse --short HEAD` of the source tree. */
#ifndef EFFVK_GIT_REVISION
#define EFFVK_GIT_REVISION "unknown"
#endif

#define CPU_NAME_SIZE 256

const char bench_peak_method[] =
    "evk_measure_peak: FMA from the peak_fma shader (independent vec4 FMA chains per "
    "invocation, 2 FLOPs per FMA), copy from the peak_copy shader (a vec4 buffer copy, read + "
    "write bytes, through texel reads where the device's kernels read that way); each repeated "
    "in one submission until it runs 25 ms, the best of three by GPU timestamps";

/* The value of the first "KEY : value" line of /proc/cpuinfo with that key. */
static int cpuinfo_value(const char *key, char *value, size_t size)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return -1;
    char line[CPU_NAME_SIZE + 64];
    int found = -1;
    size_t key_length = strlen(key);
    while (found != 0 && fgets(line, sizeof line, f)) {
        if (strncmp(line, key, key_length) != 0)
            continue;
        char *colon = line + key_length + strspn(line + key_length, " \t");
        if (*colon != ':')
            continue;
        char *start = colon + 1 + strspn(colon + 1, " \t");
        start[strcspn(start, "\r\n")] = '\0';
        if (*start) {
            snprintf(value, size, "%s", start);
            found = 0;
        }
    }
    fclose(f);
    return found;
}

/* x86 and most ARM Linux kernels name the CPU model; older ARM ones name the
 * board ("Hardware"); elsewhere the machine type is all there is. */
static void host_cpu(char *name, size_t size)
{
    if (cpuinfo_value("model name", name, size) == 0 || cpuinfo_value("Hardware", name, size) == 0)
        return;
    struct utsname host;
    snprintf(name, size, "%s", uname(&host) == 0 ? host.machine : "unknown");
}

void bench_write_provenance_json(json_writer *w)
{
    char date[32] = "unknown", cpu[CPU_NAME_SIZE];
    time_t now = time(NULL);
    struct tm utc;
    if (now != (time_t)-1 && gmtime_r(&now, &utc))
        strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &utc);
    host_cpu(cpu, sizeof cpu);
    json_key_string(w, "schema_version", BENCH_SCHEMA_VERSION);
    json_key_string(w, "effvk_version", EVK_VERSION_STRING);
    json_key_string(w, "git_revision", EFFVK_GIT_REVISION);
    json_key_string(w, "date", date);
    json_key_string(w, "host_cpu", cpu);
}
