/* SPDX-License-Identifier: MIT */
/*
 * A main() for the fuzz targets (fuzz_sigmoid.c, fuzz_rows.c, fuzz_family.c)
 * when there is no libFuzzer (gcc builds, valgrind): runs each file named on
 * the command line (or every file in a named directory) through
 * LLVMFuzzerTestOneInput once. Used by ctest to replay the committed corpus
 * as a regression test.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return 1;
    }
    fseek(f, 0, SEEK_END);
    const long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(len > 0 ? (size_t)len : 1);
    if (!buf || (len > 0 && fread(buf, 1, (size_t)len, f) != (size_t)len)) {
        fprintf(stderr, "%s: read error\n", path);
        fclose(f);
        free(buf);
        return 1;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(buf, (size_t)len);
    free(buf);
    return 0;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    int errors = 0, count = 0;
    LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            DIR *d = opendir(argv[i]);
            if (!d) {
                perror(argv[i]);
                errors++;
                continue;
            }
            char **names = NULL;
            size_t n = 0;
            struct dirent *e;
            while ((e = readdir(d)) != NULL) {
                if (e->d_name[0] == '.')
                    continue;
                names = realloc(names, (n + 1) * sizeof *names);
                names[n] = malloc(strlen(argv[i]) + strlen(e->d_name) + 2);
                sprintf(names[n], "%s/%s", argv[i], e->d_name);
                n++;
            }
            closedir(d);
            qsort(names, n, sizeof *names, name_cmp);
            for (size_t k = 0; k < n; k++) {
                errors += run_file(names[k]);
                count++;
                free(names[k]);
            }
            free(names);
        } else {
            errors += run_file(argv[i]);
            count++;
        }
    }
    printf("replayed %d input(s), %d unreadable\n", count, errors);
    return errors != 0 || count == 0;
}
