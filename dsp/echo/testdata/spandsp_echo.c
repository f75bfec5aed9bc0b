/*
 * spandsp_echo: the reference for callbox's echo canceller tests. Runs
 * Debian libspandsp's line echo canceller over interleaved little-endian
 * int16 (far, near) pairs from stdin and writes the int16 output to stdout;
 * prints its own CPU time per sample as the last line on stderr.
 *
 * usage: spandsp_echo TAPS [nlp]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <spandsp.h>

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: spandsp_echo TAPS [nlp]\n");
        return 2;
    }
    /* libspandsp's canceller prints trace lines on stdout: keep the real
       stdout for the samples and send the library's chatter to stderr. */
    FILE *samples = fdopen(dup(1), "wb");
    dup2(2, 1);
    int taps = atoi(argv[1]);
    int mode = ECHO_CAN_USE_ADAPTION;
    if (argc > 2 && strcmp(argv[2], "nlp") == 0)
        mode |= ECHO_CAN_USE_NLP | ECHO_CAN_USE_CNG;
    echo_can_state_t *ec = echo_can_init(taps, mode);
    if (ec == NULL) {
        fprintf(stderr, "echo_can_init failed\n");
        return 1;
    }
    size_t cap = 1 << 16, n = 0;
    int16_t *in = malloc(cap * 2 * sizeof(int16_t));
    size_t got;
    while ((got = fread(in + 2 * n, 2 * sizeof(int16_t), cap - n, stdin)) > 0) {
        n += got;
        if (n == cap) {
            cap *= 2;
            in = realloc(in, cap * 2 * sizeof(int16_t));
        }
    }
    int16_t *out = malloc((n + 1) * sizeof(int16_t));
    struct timespec t0, t1;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
    for (size_t i = 0; i < n; i++)
        out[i] = echo_can_update(ec, in[2 * i], in[2 * i + 1]);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
    double ns = (t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec);
    fflush(stdout);
    fwrite(out, sizeof(int16_t), n, samples);
    fclose(samples);
    fprintf(stderr, "%.1f cpu-ns/sample\n", n ? ns / n : 0.0);
    echo_can_free(ec);
    return 0;
}
