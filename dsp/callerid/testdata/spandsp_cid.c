/*
 * spandsp_cid: the independent caller ID reference for callerid's tests,
 * built by the tests against Debian's libspandsp (libspandsp-dev).
 *
 *   spandsp_cid tx class|clip HEX   message (type, length, body; spandsp adds
 *                                   the checksum) as raw s16le 8 kHz audio on stdout
 *   spandsp_cid tx dtmf DIGITS      DTMF caller ID string as audio
 *   spandsp_cid rx class|clip|dtmf  raw s16le audio on stdin; prints one line per
 *                                   message: "<sample> <hex>" for FSK (type to body,
 *                                   checksum verified and stripped by spandsp) or
 *                                   "<sample> <digits>" for DTMF
 *   spandsp_cid bench class|clip N  runs the receiver N times over the audio on
 *                                   stdin in 80-sample blocks; prints ns/sample
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>
#include <time.h>
#include <spandsp.h>

static int standard_of(const char *s)
{
    if (strcmp(s, "class") == 0)
        return ADSI_STANDARD_CLASS;
    if (strcmp(s, "clip") == 0)
        return ADSI_STANDARD_CLIP;
    if (strcmp(s, "dtmf") == 0)
        return ADSI_STANDARD_CLIP_DTMF;
    fprintf(stderr, "spandsp_cid: unknown standard %s\n", s);
    exit(2);
}

static long samples_seen;
static int rx_standard;

static void put_msg(void *user_data, const uint8_t *msg, int len)
{
    int i;

    (void) user_data;
    printf("%ld ", samples_seen);
    for (i = 0;  i < len;  i++)
    {
        if (rx_standard == ADSI_STANDARD_CLIP_DTMF)
            putchar(msg[i]);
        else
            printf("%02x", msg[i]);
    }
    putchar('\n');
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    fprintf(stderr, "spandsp_cid: bad hex digit %c\n", c);
    exit(2);
}

static int tx(int standard, const char *arg)
{
    adsi_tx_state_t *s;
    uint8_t msg[256];
    int16_t amp[160];
    int len;
    int n;
    int i;

    if ((s = adsi_tx_init(NULL, standard)) == NULL)
        return 1;
    if (standard == ADSI_STANDARD_CLIP_DTMF)
    {
        len = (int) strlen(arg);
        memcpy(msg, arg, len);
    }
    else
    {
        len = (int) strlen(arg) / 2;
        if (len > 255)
            return 2;
        for (i = 0;  i < len;  i++)
            msg[i] = (uint8_t) (hexval(arg[2*i]) << 4 | hexval(arg[2*i + 1]));
    }
    if (adsi_tx_put_message(s, msg, len) != len)
    {
        fprintf(stderr, "spandsp_cid: adsi_tx_put_message refused the message\n");
        return 1;
    }
    /* adsi_tx keeps the DTMF generator on after the digits run out, and
       its output stops short: bound it by time (DTMF) or by its end (FSK). */
    for (i = 0;  i < 1000  &&  (n = adsi_tx(s, amp, 160)) > 0;  i++)
        fwrite(amp, sizeof(amp[0]), n, stdout);
    return 0;
}

static int rx(int standard)
{
    adsi_rx_state_t *s;
    int16_t amp[80];
    size_t n;

    rx_standard = standard;
    if ((s = adsi_rx_init(NULL, standard, put_msg, NULL)) == NULL)
        return 1;
    while ((n = fread(amp, sizeof(amp[0]), 80, stdin)) > 0)
    {
        adsi_rx(s, amp, (int) n);
        samples_seen += (long) n;
    }
    return 0;
}

static void ignore_msg(void *user_data, const uint8_t *msg, int len)
{
    (void) user_data;
    (void) msg;
    (void) len;
}

static int bench(int standard, int rounds)
{
    static int16_t amp[8000*60];
    adsi_rx_state_t *s;
    struct timespec t0;
    struct timespec t1;
    size_t n;
    size_t i;
    int r;
    double ns;

    n = fread(amp, sizeof(amp[0]), sizeof(amp)/sizeof(amp[0]), stdin);
    if ((s = adsi_rx_init(NULL, standard, ignore_msg, NULL)) == NULL)
        return 1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (r = 0;  r < rounds;  r++)
    {
        for (i = 0;  i + 80 <= n;  i += 80)
            adsi_rx(s, amp + i, 80);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ns = (t1.tv_sec - t0.tv_sec)*1e9 + (t1.tv_nsec - t0.tv_nsec);
    printf("%.2f\n", ns/((double) rounds*(double) (n - n%80)));
    return 0;
}

int main(int argc, char *argv[])
{
    if (argc >= 4 && strcmp(argv[1], "bench") == 0)
        return bench(standard_of(argv[2]), atoi(argv[3]));
    if (argc >= 3 && strcmp(argv[1], "rx") == 0)
        return rx(standard_of(argv[2]));
    if (argc >= 4 && strcmp(argv[1], "tx") == 0)
        return tx(standard_of(argv[2]), argv[3]);
    fprintf(stderr, "usage: spandsp_cid tx class|clip|dtmf MSG | rx class|clip|dtmf | bench class|clip N\n");
    return 2;
}
