/* dfuse_model.h: a simulated USB DfuSe device (an STM32 system bootloader / mboot) behind
 * struct romfs_dfu_usb, for tests.
 *
 * The state machine follows the USB DFU 1.1 specification (chapter 6 and its state
 * diagram) as ST's DfuSe documentation (AN3156) specialises it: DNLOAD wBlockNum 0 carries
 * commands (0x21 set address pointer, 0x41 erase page / mass erase, 0x00 get commands),
 * wBlockNum >= 2 carries data at pointer + (wBlockNum - 2) * wTransferSize, UPLOAD
 * wBlockNum >= 2 reads memory the same way, a zero-length DNLOAD starts manifestation
 * (DfuSe: leave DFU and jump to the pointer; the device drops off the bus).
 * Requests not allowed in a state are stalled and the device enters dfuERROR.
 *
 * Flash semantics: erase sets a sector to 0xff; programming can only clear bits; the
 * device reads back what it programmed and reports errVERIFY on a difference; writes or
 * erases outside writable/erasable sectors fail with errTARGET. Time is virtual: the
 * device answers GETSTATUS with a bwPollTimeout proportional to the work, and counts
 * every request that arrives before that time has passed (a real device would not
 * answer it: the model returns a timeout). */
#ifndef DFUSE_MODEL_H
#define DFUSE_MODEL_H

#include "transport/dfu.h"

#define MODEL_MAX_SECTORS 256
#define MODEL_MAX_SEGMENTS 8

struct model_sector {
    uint32_t start, size;
    uint8_t attrs;           /* ROMFS_DFUSE_* bits */
    unsigned erase_count;
};

struct dfuse_model {
    /* memory: one or more contiguous segments (the first is also base/size/mem) */
    uint32_t base;
    uint32_t size;
    uint8_t *mem;
    struct { uint32_t base, size; uint8_t *mem; } segs[MODEL_MAX_SEGMENTS];
    size_t n_segs;
    struct model_sector sectors[MODEL_MAX_SECTORS];
    size_t n_sectors;
    char layout[256];        /* the interface string it reports */

    /* DFU */
    uint16_t transfer_size;
    uint8_t attributes;
    uint8_t state, status;
    uint32_t pointer;
    bool pointer_set;
    uint8_t pending[4096];   /* the DNLOAD being processed */
    uint16_t pending_len, pending_block;
    bool has_pending;
    bool pending_result_ready;
    uint32_t poll_ms;        /* bwPollTimeout of the last GETSTATUS */
    bool gone;               /* left DFU: off the bus */
    uint32_t jumped_to;      /* address the device jumped to on leave */

    /* virtual time */
    uint64_t now_ms, busy_until_ms;

    /* statistics */
    unsigned requests[7];    /* per bRequest */
    unsigned early_requests; /* requests while still busy (host ignored bwPollTimeout) */
    unsigned stalls;
    uint64_t bytes_programmed;

    /* error injection: the Nth (1-based) request of type inject_request is hit */
    int inject_request;      /* bRequest, or -1 */
    unsigned inject_countdown;
    enum { INJECT_NONE, INJECT_STALL, INJECT_TIMEOUT } inject_kind;
    uint32_t fail_write_at;  /* a program touching this address fails with errWRITE (0: off) */
    uint32_t corrupt_at;     /* a program touching this address flips a bit: errVERIFY (0: off) */
    uint32_t fail_erase_at;  /* erase of the sector containing it fails with errERASE (0: off) */
    bool busy_forever;       /* stays in dfuDNBUSY */
    uint32_t poll_ms_override; /* if nonzero, every bwPollTimeout is this */

    /* plain DFU 1.1 mode (not DfuSe): DNLOAD blocks 0, 1, 2... are the firmware, written
       from `base` in order; manifestation programs nothing more */
    bool plain;
    bool manifest_tolerant;  /* bitManifestationTolerant: back to dfuIDLE, else
                                dfuMANIFEST-WAIT-RESET (DfuSe: leave and drop off the bus) */
    bool manifested;
    uint32_t plain_bytes;    /* bytes received in plain mode */
};

/* An STM32F4-like device: layout "@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg",
 * memory all 0xff, wTransferSize 2048. */
void model_init_f4(struct dfuse_model *m);
/* A device reporting `layout` (every segment backed by memory, all 0xff) with the given
 * wTransferSize and bmAttributes. MicroPython's mboot (ports/stm32/mboot/main.c): one DFU
 * interface, alt 0, whose string is the internal flash layout followed by
 * MBOOT_SPIFLASH_LAYOUT and MBOOT_SPIFLASH2_LAYOUT; functional descriptor bmAttributes
 * 0x0b, wTransferSize 2048, bcdDFU 0x011a. Returns false when the layout does not parse
 * or has more sectors than the model holds. */
bool model_init_layout(struct dfuse_model *m, const char *layout, uint16_t transfer_size, uint8_t attributes);
/* The byte at addr in the model's memory (contiguous to the end of its segment), or NULL. */
uint8_t *model_at(struct dfuse_model *m, uint32_t addr);
void model_free(struct dfuse_model *m);
/* The USB interface driving this model (description "model"). */
struct romfs_dfu_usb model_usb(struct dfuse_model *m);
/* Fill a region with a pattern as pre-existing data (e.g. firmware). */
void model_fill(struct dfuse_model *m, uint32_t addr, uint32_t len, uint8_t seed);
/* Index of the sector containing addr, or -1. */
int model_sector_index(const struct dfuse_model *m, uint32_t addr);

#endif
