/*
 * spandsp_fax: the independent fax reference for dsp/fax's tests, built by
 * the tests against Debian's libspandsp (libspandsp-dev). Audio is raw
 * s16le 8 kHz mono; frames are hex, one per line; bits are '0'/'1' chars.
 *
 *   hdlc-tx                 frames on stdin -> HDLC bits on stdout
 *   hdlc-rx                 bits on stdin -> "ok HEX" or "bad HEX" per frame
 *   v21-tx LEVEL            frames on stdin -> V.21 ch2 audio (1 s of flags first)
 *   v21-rx                  audio on stdin -> "<sample> ok|bad HEX" per frame
 *   bench-v21-rx N          times the V.21 receiver over N blocks of its own
 *   bench-v21-tx N          signal, and the transmitter over N blocks; prints
 *                           "wall-ns/sample cpu-ns/sample"
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>
#include <time.h>
#include <spandsp.h>

static long samples_seen;

static void die(const char *msg)
{
    fprintf(stderr, "spandsp_fax: %s\n", msg);
    exit(2);
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    die("bad hex digit");
    return 0;
}

/* read_frame reads one hex line from stdin into buf; returns its length or -1 at EOF. */
static int read_frame(uint8_t *buf, int max)
{
    char line[4096];
    int n = 0;

    if (fgets(line, sizeof(line), stdin) == NULL)
        return -1;
    for (char *p = line;  p[0] && p[0] != '\n' && p[1] && p[1] != '\n';  p += 2)
    {
        if (n >= max)
            die("frame too long");
        buf[n++] = (uint8_t) (hexval(p[0]) << 4 | hexval(p[1]));
    }
    return n;
}

static void print_frame(const char *tag, const uint8_t *pkt, int len)
{
    if (samples_seen >= 0)
        printf("%ld ", samples_seen);
    printf("%s ", tag);
    for (int i = 0;  i < len;  i++)
        printf("%02x", pkt[i]);
    putchar('\n');
}

static void frame_handler(void *user_data, const uint8_t *pkt, int len, int ok)
{
    (void) user_data;
    if (len < 0)
        return; /* a status report, not a frame */
    print_frame(ok ? "ok" : "bad", pkt, len);
}

/* The frames on stdin, fed to an HDLC transmitter one at a time as it
   asks for them (spandsp holds one frame in hand). */
static uint8_t tx_frames[64][512];
static int tx_lens[64];
static int tx_count;
static int tx_next;

static hdlc_tx_state_t *tx_hdlc;

static void hdlc_underflow(void *user_data)
{
    hdlc_tx_state_t *s = tx_hdlc;

    (void) user_data;
    if (tx_next < tx_count)
    {
        hdlc_tx_frame(s, tx_frames[tx_next], tx_lens[tx_next]);
        tx_next++;
    }
    else if (tx_next == tx_count)
    {
        /* End of transmission after the last frame's closing flag. */
        hdlc_tx_frame(s, NULL, 0);
        tx_next++;
    }
}

static hdlc_tx_state_t *load_hdlc_tx(int preamble_flags)
{
    hdlc_tx_state_t *s = hdlc_tx_init(NULL, FALSE, 1, FALSE, hdlc_underflow, NULL);

    tx_hdlc = s;
    while (tx_count < 64 && (tx_lens[tx_count] = read_frame(tx_frames[tx_count], 512)) >= 0)
        tx_count++;
    hdlc_tx_flags(s, preamble_flags);
    return s;
}

static int hdlc_tx_cmd(void)
{
    hdlc_tx_state_t *s = load_hdlc_tx(10);
    int bit;

    while ((bit = hdlc_tx_get_bit(s)) >= 0)
        putchar('0' + (bit & 1));
    putchar('\n');
    return 0;
}

static int hdlc_rx_cmd(void)
{
    hdlc_rx_state_t *s = hdlc_rx_init(NULL, FALSE, TRUE, 2, frame_handler, NULL);
    int c;

    samples_seen = -1;
    while ((c = getchar()) != EOF)
    {
        if (c == '0' || c == '1')
            hdlc_rx_put_bit(s, c - '0');
    }
    return 0;
}

static int v21_tx_cmd(float level)
{
    /* T.30: one second of flags (+-15%) before the first frame. */
    hdlc_tx_state_t *h = load_hdlc_tx(38);
    fsk_tx_state_t *f = fsk_tx_init(NULL, &preset_fsk_specs[FSK_V21CH2], (get_bit_func_t) hdlc_tx_get_bit, h);
    int16_t amp[160];
    int n;

    fsk_tx_power(f, level);
    while ((n = fsk_tx(f, amp, 160)) > 0)
    {
        fwrite(amp, sizeof(int16_t), n, stdout);
        if (n < 160)
            break;
    }
    return 0;
}

static void v21_put_bit(void *user_data, int bit)
{
    if (bit < 0)
        return; /* status */
    hdlc_rx_put_bit((hdlc_rx_state_t *) user_data, bit);
}

static int v21_rx_cmd(void)
{
    hdlc_rx_state_t *h = hdlc_rx_init(NULL, FALSE, TRUE, 2, frame_handler, NULL);
    fsk_rx_state_t *f = fsk_rx_init(NULL, &preset_fsk_specs[FSK_V21CH2], FSK_FRAME_MODE_SYNC, v21_put_bit, h);
    int16_t amp[160];
    size_t n;

    /* The threshold spandsp's own fax stack (fax_modems.c) sets. */
    fsk_rx_signal_cutoff(f, -39.09f);
    while ((n = fread(amp, sizeof(int16_t), 160, stdin)) > 0)
    {
        fsk_rx(f, amp, (int) n);
        samples_seen += (long) n;
    }
    return 0;
}

static double now(clockid_t c)
{
    struct timespec ts;

    clock_gettime(c, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int ones_bit(void *user_data)
{
    (void) user_data;
    return rand() & 1;
}

static void drop_bit(void *user_data, int bit)
{
    (*(long *) user_data) += bit;
}

/* Benchmarks: time the transmitter generating N blocks of 160 samples, or
   the receiver over N blocks of a recorded signal of its own kind. */
static int bench_cmd(const char *what, long blocks)
{
    enum { rec_len = 8000*4 };
    static int16_t rec[rec_len];
    int16_t amp[160];
    long sink = 0;
    double w0, c0, w1, c1;

    srand(1);
    if (strcmp(what, "v21-tx") == 0 || strcmp(what, "v21-rx") == 0)
    {
        fsk_tx_state_t *tx = fsk_tx_init(NULL, &preset_fsk_specs[FSK_V21CH2], ones_bit, NULL);
        fsk_rx_state_t *rx = fsk_rx_init(NULL, &preset_fsk_specs[FSK_V21CH2], FSK_FRAME_MODE_SYNC, drop_bit, &sink);

        fsk_tx_power(tx, -13.0f);
        fsk_tx(tx, rec, rec_len);
        w0 = now(CLOCK_MONOTONIC);
        c0 = now(CLOCK_THREAD_CPUTIME_ID);
        for (long i = 0, off = 0;  i < blocks;  i++)
        {
            if (what[4] == 't')
                fsk_tx(tx, amp, 160);
            else
                fsk_rx(rx, rec + off, 160);
            off = (off + 160) % rec_len;
        }
    }
    else
    {
        die("unknown benchmark");
        return 2;
    }
    w1 = now(CLOCK_MONOTONIC);
    c1 = now(CLOCK_THREAD_CPUTIME_ID);
    printf("%.3f %.3f %ld\n", (w1 - w0)/(blocks*160.0), (c1 - c0)/(blocks*160.0), sink);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        die("usage: spandsp_fax COMMAND [ARGS] (see the source)");
    if (strcmp(argv[1], "hdlc-tx") == 0)
        return hdlc_tx_cmd();
    if (strcmp(argv[1], "hdlc-rx") == 0)
        return hdlc_rx_cmd();
    if (strcmp(argv[1], "v21-tx") == 0 && argc == 3)
        return v21_tx_cmd((float) atof(argv[2]));
    if (strcmp(argv[1], "v21-rx") == 0)
        return v21_rx_cmd();
    if (strncmp(argv[1], "bench-", 6) == 0 && argc == 3)
        return bench_cmd(argv[1] + 6, atol(argv[2]));
    die("unknown command (see the source)");
    return 2;
}
