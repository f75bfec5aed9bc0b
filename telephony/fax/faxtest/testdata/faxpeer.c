/*
 * faxpeer: a fax machine for callbox's call tests, built by the tests
 * against Debian's libspandsp (libspandsp-dev). It runs spandsp's fax
 * terminal (T.30 with its V.21, V.27ter and V.29 modems) over a call's
 * audio in lockstep with the test: each block of 80 16-bit samples (10 ms)
 * read from standard input is what it hears, and it answers with the
 * block it sends on standard output.
 *
 *   faxpeer call|answer send|receive FILE [ecm] [v27ter]
 *
 * "call" is the calling terminal (CNG first), "answer" the answering one
 * (CED and DIS); "send" sends the TIFF FILE, "receive" writes what it
 * receives there. By default it offers V.29 and V.27ter, MH, MR and MMR,
 * without error correction; "ecm" turns ECM on, "v27ter" offers V.27ter
 * only. At the end it prints one line on standard error:
 *
 *   result CODE TEXT pages-tx N pages-rx N rate R ident REMOTE
 *
 * and stops a quarter of a second after its session ended.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tiffio.h>
#include <spandsp.h>

#define BLOCK 80

static int done;
static int result = -1;

static void phase_e(t30_state_t *s, void *user_data, int r)
{
    (void) s;
    (void) user_data;
    result = r;
    done = 1;
}

static void die(const char *msg)
{
    fprintf(stderr, "faxpeer: %s\n", msg);
    exit(2);
}

int main(int argc, char **argv)
{
    int calling, sending, ecm = 0, only27 = 0;
    int16_t in[BLOCK], out[BLOCK];
    int after = 0;

    if (argc < 4)
        die("usage: faxpeer call|answer send|receive FILE [ecm] [v27ter]");
    calling = strcmp(argv[1], "call") == 0;
    sending = strcmp(argv[2], "send") == 0;
    for (int i = 4;  i < argc;  i++)
    {
        if (strcmp(argv[i], "ecm") == 0)
            ecm = 1;
        else if (strcmp(argv[i], "v27ter") == 0)
            only27 = 1;
        else
            die("unknown option");
    }
    fax_state_t *f = fax_init(NULL, calling);
    if (f == NULL)
        die("fax_init failed");
    t30_state_t *t30 = fax_get_t30_state(f);
    t30_set_tx_ident(t30, calling ? "+86 21 5555 0100" : "+86 21 5555 0200");
    t30_set_supported_modems(t30, only27 ? T30_SUPPORT_V27TER : (T30_SUPPORT_V27TER | T30_SUPPORT_V29));
    t30_set_supported_compressions(t30, T30_SUPPORT_T4_1D_COMPRESSION | T30_SUPPORT_T4_2D_COMPRESSION
                                        | T30_SUPPORT_T6_COMPRESSION);
    t30_set_ecm_capability(t30, ecm);
    t30_set_phase_e_handler(t30, phase_e, NULL);
    fax_set_transmit_on_idle(f, 1);
    if (sending)
        t30_set_tx_file(t30, argv[3], -1, -1);
    else
        t30_set_rx_file(t30, argv[3], -1);
    while (fread(in, sizeof(int16_t), BLOCK, stdin) == BLOCK)
    {
        fax_rx(f, in, BLOCK);
        int n = fax_tx(f, out, BLOCK);
        if (n < BLOCK)
            memset(out + n, 0, (BLOCK - n)*sizeof(int16_t));
        if (fwrite(out, sizeof(int16_t), BLOCK, stdout) != BLOCK)
            break;
        fflush(stdout);
        if (done && ++after > 25)
            break;
    }
    t30_stats_t st;
    char ident[64] = "";
    t30_get_transfer_statistics(t30, &st);
    const char *rid = t30_get_rx_ident(t30);
    if (rid)
        snprintf(ident, sizeof(ident), "%s", rid);
    for (char *p = ident;  *p;  p++)
    {
        if (*p == ' ')
            *p = '_';
    }
    fprintf(stderr, "result %d %s pages-tx %d pages-rx %d rate %d ident %s\n",
            result, result >= 0 ? t30_completion_code_to_str(result) : "unfinished",
            st.pages_tx, st.pages_rx, st.bit_rate, ident[0] ? ident : "-");
    fax_release(f);
    return 0;
}
