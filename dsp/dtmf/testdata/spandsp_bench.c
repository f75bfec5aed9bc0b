// spandsp_bench times spandsp's DTMF receiver (Debian libspandsp-dev) on
// the same kind of signal as BenchmarkDetectorNoise, so the two can be
// compared on the same machine at the same moment. Usage: spandsp_bench N
// (blocks of 160 samples). It prints wall and thread-CPU ns per sample.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <spandsp.h>

static void on_digits(void *user, const char *digits, int len) {
	(*(int *) user) += len;
}

static double now(clockid_t c) {
	struct timespec ts;
	clock_gettime(c, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv) {
	long n = argc > 1 ? atol(argv[1]) : 100000;
	enum { len = 8000, block = 160 };
	static int16_t buf[len];
	// White Gaussian noise at -20 dBm0 (rms 32768*10^((-20-3.14)/20)/sqrt2).
	srand(1);
	double rms = 32768 * pow(10, (-20 - 3.14) / 20) / sqrt(2);
	for (int i = 0; i < len; i++) {
		double u1 = (rand() + 1.0) / (RAND_MAX + 2.0), u2 = (rand() + 1.0) / (RAND_MAX + 2.0);
		buf[i] = (int16_t) (rms * sqrt(-2 * log(u1)) * cos(2 * M_PI * u2));
	}
	int digits = 0;
	dtmf_rx_state_t *s = dtmf_rx_init(NULL, on_digits, &digits);
	double w0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_THREAD_CPUTIME_ID);
	for (long i = 0, off = 0; i < n; i++) {
		dtmf_rx(s, buf + off, block);
		off = (off + block) % len;
	}
	double w1 = now(CLOCK_MONOTONIC), c1 = now(CLOCK_THREAD_CPUTIME_ID);
	printf("%.3f %.3f %d\n", (w1 - w0) / (n * block), (c1 - c0) / (n * block), digits);
	return 0;
}
