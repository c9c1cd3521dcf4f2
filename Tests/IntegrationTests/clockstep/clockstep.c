// Test-only LD_PRELOAD shim for ClockStepTests: steps a real proxy process's wall clock while it runs.
// Adds a whole number of seconds, read from the file named by SIGHTLINE_CLOCK_STEP_FILE on every call, to
// CLOCK_REALTIME, gettimeofday and time; the monotonic clocks are left alone, as a real NTP step leaves them.
// (libfaketime does the same, but a Swift binary started by Foundation's Process under it lost its arguments.)
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

static long offset_seconds(void) {
    const char *path = getenv("SIGHTLINE_CLOCK_STEP_FILE");
    if (!path) return 0;
    FILE *f = fopen(path, "re");
    if (!f) return 0;
    long value = 0;
    if (fscanf(f, "%ld", &value) != 1) value = 0;
    fclose(f);
    return value;
}

int clock_gettime(clockid_t id, struct timespec *ts) {
    static int (*real)(clockid_t, struct timespec *);
    if (!real) real = (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT, "clock_gettime");
    int rc = real(id, ts);
    if (rc == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE)) ts->tv_sec += offset_seconds();
    return rc;
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz) {
    struct timespec ts;
    int rc = clock_gettime(CLOCK_REALTIME, &ts);
    if (rc == 0 && tv) { tv->tv_sec = ts.tv_sec; tv->tv_usec = ts.tv_nsec / 1000; }
    (void)tz;
    return rc;
}

time_t time(time_t *out) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (out) *out = ts.tv_sec;
    return ts.tv_sec;
}
