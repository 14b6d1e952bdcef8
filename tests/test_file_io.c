/* CPU tier: files given by a user can neither block the library nor lose
 * what they held (host/file_io.c). Every reader (the safetensors mapper, the
 * .npy reader, the generic reader) refuses a FIFO, a directory and a device
 * at once; every writer (the .npy writer, the generic writer) replaces a
 * file only when the new one is complete: a file-size limit leaves the
 * previous bytes, a character device or FIFO given as the target is refused
 * and stays, a symbolic link keeps pointing at the replaced file, and no
 * temporary file is left behind. An alarm fails any call that blocks. */
#define _XOPEN_SOURCE 700

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "test_util.h"

#include "context.h"
#include "file_io.h"
#include "npy.h"
#include "model/safetensors.h"

#define DIR_PATH "test_file_io_dir"
#define FIFO_PATH DIR_PATH "/fifo"
#define TARGET_PATH DIR_PATH "/target.npy"

static const char previous_bytes[] = "the previous output, to be kept byte for byte";

static void on_alarm(int signal_number)
{
    (void)signal_number;
    static const char message[] = "a file call blocked for 5 s\n";
    if (write(2, message, sizeof message - 1) < 0)
        _exit(2);
    _exit(1);
}

static void remove_tree(const char *path)
{
    DIR *dir = opendir(path);
    if (!dir)
        return;
    struct dirent *entry;
    char child[512];
    while ((entry = readdir(dir))) {
        if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
            continue;
        snprintf(child, sizeof child, "%s/%s", path, entry->d_name);
        if (remove(child) != 0)
            remove_tree(child);
    }
    closedir(dir);
    rmdir(path);
}

static int setup(void **state)
{
    (void)state;
    remove_tree(DIR_PATH);
    if (mkdir(DIR_PATH, 0755) != 0 || mkfifo(FIFO_PATH, 0644) != 0)
        return -1;
    signal(SIGALRM, on_alarm);
    alarm(5);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    alarm(0);
    remove_tree(DIR_PATH);
    return 0;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

static void assert_file_holds(const char *path, const char *text)
{
    char buffer[256] = {0};
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(buffer, 1, sizeof buffer - 1, f);
    fclose(f);
    assert_int_equal(n, strlen(text));
    assert_memory_equal(buffer, text, n);
}

/* Only the files a test made itself: no ".target.npy.*.tmp" left over. */
static void assert_no_temporary_files(void)
{
    DIR *dir = opendir(DIR_PATH);
    assert_non_null(dir);
    struct dirent *entry;
    while ((entry = readdir(dir))) {
        if (strstr(entry->d_name, ".tmp"))
            fail_msg("temporary file left behind: %s", entry->d_name);
    }
    closedir(dir);
}

static void assert_io_error_naming(evk_status status, const char *path, const char *reason)
{
    assert_int_equal(status, EVK_ERROR_IO);
    const char *message = evk_last_error(NULL);
    if (!strstr(message, path) || !strstr(message, reason))
        fail_msg("message \"%s\" should name %s and say \"%s\"", message, path, reason);
}

static void readers_refuse_a_fifo(void **state)
{
    (void)state;
    int fd;
    uint64_t size;
    assert_io_error_naming(evk_file_open_read(NULL, FIFO_PATH, &fd, &size), FIFO_PATH,
                           "not a regular file");
    assert_int_equal(fd, -1);
    evk_safetensors *st;
    assert_io_error_naming(evk_safetensors_open(NULL, FIFO_PATH, &st), FIFO_PATH,
                           "not a regular file");
    assert_null(st);
    npy_array array;
    assert_io_error_naming(npy_read(NULL, FIFO_PATH, &array), FIFO_PATH,
                           "not a regular file");
    void *bytes;
    size_t length;
    assert_io_error_naming(evk_file_read_all(NULL, FIFO_PATH, 1 << 20, &bytes, &length),
                           FIFO_PATH, "not a regular file");
    assert_null(bytes);
}

static void readers_refuse_directories_and_devices(void **state)
{
    (void)state;
    evk_safetensors *st;
    assert_io_error_naming(evk_safetensors_open(NULL, DIR_PATH, &st), DIR_PATH,
                           "not a regular file");
    npy_array array;
    assert_io_error_naming(npy_read(NULL, "/dev/zero", &array), "/dev/zero",
                           "not a regular file");
    assert_io_error_naming(npy_read(NULL, DIR_PATH "/absent.npy", &array),
                           DIR_PATH "/absent.npy", "No such file");
}

static void reader_enforces_its_size_limit(void **state)
{
    (void)state;
    write_file(TARGET_PATH, previous_bytes);
    void *bytes;
    size_t length;
    assert_int_equal(evk_file_read_all(NULL, TARGET_PATH, 8, &bytes, &length),
                     EVK_ERROR_LIMIT_EXCEEDED);
    assert_int_equal(evk_file_read_all(NULL, TARGET_PATH, 1 << 20, &bytes, &length),
                     EVK_SUCCESS);
    assert_int_equal(length, strlen(previous_bytes));
    assert_memory_equal(bytes, previous_bytes, length);
    free(bytes);
}

static void write_replaces_a_file_and_keeps_its_mode(void **state)
{
    (void)state;
    write_file(TARGET_PATH, previous_bytes);
    assert_int_equal(chmod(TARGET_PATH, 0640), 0);
    const uint64_t shape[1] = {3};
    const float data[3] = {1.0f, 2.0f, 3.0f};
    assert_int_equal(npy_write(NULL, TARGET_PATH, shape, 1, data), EVK_SUCCESS);
    npy_array array;
    assert_int_equal(npy_read(NULL, TARGET_PATH, &array), EVK_SUCCESS);
    assert_int_equal(array.count, 3);
    assert_memory_equal(array.data, data, sizeof data);
    npy_free(NULL, &array);
    struct stat info;
    assert_int_equal(stat(TARGET_PATH, &info), 0);
    assert_int_equal(info.st_mode & 07777, 0640);
    assert_no_temporary_files();
}

/* RLIMIT_FSIZE with SIGXFSZ ignored: the write fails with EFBIG, as on a
 * full disk. */
static void file_size_limit_keeps_the_previous_file(void **state)
{
    (void)state;
    write_file(TARGET_PATH, previous_bytes);
    static float data[1 << 16];
    const uint64_t shape[1] = {1 << 16};
    struct rlimit saved, limited;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved), 0);
    limited = saved;
    limited.rlim_cur = 4096;
    void (*previous_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &limited), 0);
    evk_status status = npy_write(NULL, TARGET_PATH, shape, 1, data);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &saved), 0);
    signal(SIGXFSZ, previous_handler);
    assert_io_error_naming(status, TARGET_PATH, "unchanged");
    assert_file_holds(TARGET_PATH, previous_bytes);
    assert_no_temporary_files();
}

static void assert_write_refused(const char *path)
{
    const uint64_t shape[1] = {1};
    const float data[1] = {1.0f};
    assert_io_error_naming(npy_write(NULL, path, shape, 1, data), path,
                           "not a regular file");
    evk_file_writer writer;
    assert_io_error_naming(evk_file_write_begin(NULL, path, &writer), path,
                           "not a regular file");
    assert_null(writer.stream);
}

static void write_refuses_devices_fifos_and_folders(void **state)
{
    (void)state;
    struct stat before, after;
    assert_int_equal(stat("/dev/null", &before), 0);
    assert_write_refused("/dev/null");
    assert_int_equal(stat("/dev/null", &after), 0);
    assert_true(S_ISCHR(after.st_mode));
    assert_int_equal(after.st_rdev, before.st_rdev);
    assert_write_refused(FIFO_PATH);
    assert_int_equal(stat(FIFO_PATH, &after), 0);
    assert_true(S_ISFIFO(after.st_mode));
    assert_write_refused(DIR_PATH);
    /* The audit's case: a node equivalent to /dev/full, where every write
     * fails; where this process may not make device nodes, /dev/null above
     * stands for it. */
    const char *full = DIR_PATH "/full";
    if (mknod(full, S_IFCHR | 0666, makedev(1, 7)) == 0) {
        assert_write_refused(full);
        assert_int_equal(stat(full, &after), 0);
        assert_true(S_ISCHR(after.st_mode));
    }
    assert_no_temporary_files();
}

static void write_through_a_symlink_replaces_its_target(void **state)
{
    (void)state;
    write_file(TARGET_PATH, previous_bytes);
    const char *link_path = DIR_PATH "/link.npy";
    assert_int_equal(symlink("target.npy", link_path), 0);
    const uint64_t shape[1] = {2};
    const float data[2] = {5.0f, 6.0f};
    assert_int_equal(npy_write(NULL, link_path, shape, 1, data), EVK_SUCCESS);
    struct stat info;
    assert_int_equal(lstat(link_path, &info), 0);
    assert_true(S_ISLNK(info.st_mode));
    npy_array array;
    assert_int_equal(npy_read(NULL, TARGET_PATH, &array), EVK_SUCCESS);
    assert_int_equal(array.count, 2);
    npy_free(NULL, &array);
    assert_no_temporary_files();
}

static void aborted_write_leaves_nothing(void **state)
{
    (void)state;
    write_file(TARGET_PATH, previous_bytes);
    evk_file_writer writer;
    assert_int_equal(evk_file_write_begin(NULL, TARGET_PATH, &writer), EVK_SUCCESS);
    assert_non_null(writer.stream);
    fputs("half a file", writer.stream);
    evk_file_write_abort(&writer);
    evk_file_write_abort(&writer);
    assert_file_holds(TARGET_PATH, previous_bytes);
    assert_no_temporary_files();
    assert_io_error_naming(evk_file_write_begin(NULL, DIR_PATH "/absent/x.npy", &writer),
                           DIR_PATH "/absent/x.npy", "cannot create");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(readers_refuse_a_fifo, setup, teardown),
        cmocka_unit_test_setup_teardown(readers_refuse_directories_and_devices, setup, teardown),
        cmocka_unit_test_setup_teardown(reader_enforces_its_size_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(write_replaces_a_file_and_keeps_its_mode, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(file_size_limit_keeps_the_previous_file, setup, teardown),
        cmocka_unit_test_setup_teardown(write_refuses_devices_fifos_and_folders, setup, teardown),
        cmocka_unit_test_setup_teardown(write_through_a_symlink_replaces_its_target, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(aborted_write_leaves_nothing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
