/* dfu_usb.c: struct romfs_dfu_usb implemented with libusb-1.0: find a DFU-mode interface
 * by VID:PID, serial number and alternate setting (or the alternate setting whose DfuSe
 * layout covers an address), claim it, and run class control transfers on it. */
#include "transport/dfu.h"

#include <libusb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USB_CLASS_APP_SPECIFIC 0xfe
#define DFU_SUBCLASS 0x01
#define DFU_PROTOCOL_RUNTIME 1
#define DFU_FUNCTIONAL_DESCRIPTOR 0x21

struct usb_ctx {
    libusb_context *usb;
    libusb_device_handle *handle;
    int interface;
};

int romfs_dfu_parse_id(const char *text, uint16_t *vid, uint16_t *pid, struct romfs_error *err)
{
    unsigned v, p;
    char extra;
    if (!text || sscanf(text, "%x:%x%c", &v, &p, &extra) != 2 || v > 0xffff || p > 0xffff ||
        strchr(text, '-') || strchr(text, ' '))
        return romfs_set_error(err, ROMFS_ERR_INVAL,
                               "bad USB id '%s': expected VID:PID in hex, e.g. 0483:df11",
                               text ? text : "");
    *vid = (uint16_t)v;
    *pid = (uint16_t)p;
    return ROMFS_OK;
}

static int usb_control(void *ctx, bool in, uint8_t request, uint16_t value, uint8_t *data,
                       uint16_t length, unsigned timeout_ms, struct romfs_error *err)
{
    struct usb_ctx *c = ctx;
    uint8_t type = (uint8_t)((in ? LIBUSB_ENDPOINT_IN : LIBUSB_ENDPOINT_OUT) |
                             LIBUSB_REQUEST_TYPE_CLASS | LIBUSB_RECIPIENT_INTERFACE);
    int n = libusb_control_transfer(c->handle, type, request, value, (uint16_t)c->interface,
                                    data, length, timeout_ms);
    if (n >= 0)
        return n;
    switch (n) {
    case LIBUSB_ERROR_PIPE:
        return romfs_set_error(err, ROMFS_ERR_PROTOCOL, "request stalled by the device");
    case LIBUSB_ERROR_TIMEOUT:
        return romfs_set_error(err, ROMFS_ERR_TIMEOUT, "no answer within %u ms", timeout_ms);
    case LIBUSB_ERROR_NO_DEVICE:
        return romfs_set_error(err, ROMFS_ERR_DEVICE, "device disconnected");
    default:
        return romfs_set_error(err, ROMFS_ERR_IO, "USB transfer failed: %s", libusb_strerror(n));
    }
}

static void usb_close(void *ctx)
{
    struct usb_ctx *c = ctx;
    if (c->handle) {
        libusb_release_interface(c->handle, c->interface);
        libusb_close(c->handle);
    }
    libusb_exit(c->usb);
    free(c);
}

/* The DFU functional descriptor (9 bytes, type 0x21) in a descriptor's extra bytes. */
static bool find_functional(const unsigned char *extra, int len, struct romfs_dfu_usb *out)
{
    for (int i = 0; i + 2 <= len && extra[i] >= 2; i += extra[i]) {
        if (extra[i + 1] == DFU_FUNCTIONAL_DESCRIPTOR && extra[i] >= 7 && i + extra[i] <= len) {
            out->attributes = extra[i + 2];
            out->transfer_size = (uint16_t)(extra[i + 5] | extra[i + 6] << 8);
            out->dfu_version = extra[i] >= 9 ? (uint16_t)(extra[i + 7] | extra[i + 8] << 8) : 0x0100;
            return true;
        }
    }
    return false;
}

static void describe_ids(const struct romfs_dfu_match *m, const uint16_t *vid,
                         const uint16_t *pid, size_t n, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%04x:%04x", i ? ", " : "", vid[i],
                                 pid[i]);
    if (m->serial && used < size)
        used += (size_t)snprintf(buf + used, size - used, " with serial number %s", m->serial);
    if (m->alt >= 0 && used < size)
        snprintf(buf + used, size - used, " (alt setting %d)", m->alt);
}

/* Try one device: open, check serial, pick the alt setting, claim. 1 = chosen, 0 = not a
 * match (why in note), < 0 = error. */
static int try_device(libusb_device *dev, const struct libusb_device_descriptor *dd,
                      const struct romfs_dfu_match *m, uint64_t address, struct usb_ctx *c,
                      struct romfs_dfu_usb *out, char *note, size_t note_size)
{
    libusb_device_handle *h;
    int r = libusb_open(dev, &h);
    if (r) {
        snprintf(note, note_size, "%04x:%04x on bus %u device %u cannot be opened (%s%s)",
                 dd->idVendor, dd->idProduct, libusb_get_bus_number(dev),
                 libusb_get_device_address(dev), libusb_strerror(r),
                 r == LIBUSB_ERROR_ACCESS ? ": add a udev rule or run with permission" : "");
        return 0;
    }
    char serial[128] = "";
    if (dd->iSerialNumber)
        libusb_get_string_descriptor_ascii(h, dd->iSerialNumber, (unsigned char *)serial,
                                           sizeof serial);
    if (m->serial && strcmp(serial, m->serial) != 0) {
        snprintf(note, note_size, "%04x:%04x has serial number %s", dd->idVendor, dd->idProduct,
                 serial[0] ? serial : "(none)");
        libusb_close(h);
        return 0;
    }
    struct libusb_config_descriptor *cfg;
    if (libusb_get_active_config_descriptor(dev, &cfg) && libusb_get_config_descriptor(dev, 0, &cfg)) {
        libusb_close(h);
        return 0;
    }
    int chosen = 0;
    for (int i = 0; i < cfg->bNumInterfaces && !chosen; i++) {
        const struct libusb_interface *itf = &cfg->interface[i];
        for (int a = 0; a < itf->num_altsetting && !chosen; a++) {
            const struct libusb_interface_descriptor *id = &itf->altsetting[a];
            if (id->bInterfaceClass != USB_CLASS_APP_SPECIFIC || id->bInterfaceSubClass != DFU_SUBCLASS)
                continue;
            if (id->bInterfaceProtocol == DFU_PROTOCOL_RUNTIME) {
                snprintf(note, note_size, "%04x:%04x is in DFU runtime mode, not DFU mode: "
                         "reset it into its bootloader first", dd->idVendor, dd->idProduct);
                continue;
            }
            struct romfs_dfu_usb u;
            memset(&u, 0, sizeof u);
            if (!find_functional(id->extra, id->extra_length, &u) &&
                !find_functional(itf->altsetting[0].extra, itf->altsetting[0].extra_length, &u) &&
                !find_functional(itf->altsetting[itf->num_altsetting - 1].extra,
                                 itf->altsetting[itf->num_altsetting - 1].extra_length, &u) &&
                !find_functional(cfg->extra, cfg->extra_length, &u)) {
                u.transfer_size = 1024;   /* no functional descriptor: a guess */
                u.attributes = ROMFS_DFU_CAN_DNLOAD | ROMFS_DFU_CAN_UPLOAD;
                u.per_block_address = true;
            }
            if (id->iInterface)
                libusb_get_string_descriptor_ascii(h, id->iInterface, (unsigned char *)u.layout,
                                                   sizeof u.layout);
            if (m->alt >= 0) {
                if (id->bAlternateSetting != m->alt)
                    continue;
            } else {
                struct romfs_dfuse_layout l;
                if (romfs_dfuse_layout_parse(u.layout, &l, NULL) != ROMFS_OK ||
                    !romfs_dfuse_layout_sector(&l, address, NULL, NULL, NULL)) {
                    snprintf(note, note_size, "%04x:%04x alt %d (\"%s\") does not cover 0x%08llx",
                             dd->idVendor, dd->idProduct, id->bAlternateSetting, u.layout,
                             (unsigned long long)address);
                    continue;
                }
            }
            libusb_set_auto_detach_kernel_driver(h, 1);
            r = libusb_claim_interface(h, id->bInterfaceNumber);
            if (r == 0)
                r = libusb_set_interface_alt_setting(h, id->bInterfaceNumber, id->bAlternateSetting);
            if (r) {
                snprintf(note, note_size, "%04x:%04x: cannot claim interface %d alt %d: %s",
                         dd->idVendor, dd->idProduct, id->bInterfaceNumber,
                         id->bAlternateSetting, libusb_strerror(r));
                continue;
            }
            snprintf(u.description, sizeof u.description, "DFU device %04x:%04x%s%.100s alt %d",
                     dd->idVendor, dd->idProduct, serial[0] ? " serial " : "", serial,
                     id->bAlternateSetting);
            c->handle = h;
            c->interface = id->bInterfaceNumber;
            u.ctx = c;
            u.control = usb_control;
            u.close = usb_close;
            *out = u;
            chosen = 1;
        }
    }
    libusb_free_config_descriptor(cfg);
    if (!chosen)
        libusb_close(h);
    return chosen;
}

int romfs_dfu_usb_open(const struct romfs_dfu_match *m, uint64_t address,
                       struct romfs_dfu_usb *out, struct romfs_error *err)
{
    memset(out, 0, sizeof *out);
    const uint16_t default_vid[] = { ROMFS_DFU_DEFAULT_VID }, default_pid[] = { ROMFS_DFU_DEFAULT_PID };
    const uint16_t *vid = m->n_ids ? m->vid : default_vid, *pid = m->n_ids ? m->pid : default_pid;
    size_t n_ids = m->n_ids ? m->n_ids : 1;
    char wanted[256];
    describe_ids(m, vid, pid, n_ids, wanted, sizeof wanted);

    struct usb_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    int r = libusb_init(&c->usb);
    if (r) {
        free(c);
        return romfs_set_error(err, ROMFS_ERR_DEVICE,
                               "no DFU device found: looked for %s, but USB is not available "
                               "here (libusb: %s)", wanted, libusb_strerror(r));
    }
    libusb_device **list;
    ssize_t n = libusb_get_device_list(c->usb, &list);
    if (n < 0) {
        libusb_exit(c->usb);
        free(c);
        return romfs_set_error(err, ROMFS_ERR_DEVICE,
                               "no DFU device found: looked for %s, but cannot list USB devices "
                               "(libusb: %s)", wanted, libusb_strerror((int)n));
    }
    char note[512] = "";
    int found = 0;
    for (size_t k = 0; k < n_ids && !found; k++) {
        for (ssize_t i = 0; i < n && !found; i++) {
            struct libusb_device_descriptor dd;
            if (libusb_get_device_descriptor(list[i], &dd) || dd.idVendor != vid[k] ||
                dd.idProduct != pid[k])
                continue;
            found = try_device(list[i], &dd, m, address, c, out, note, sizeof note);
        }
    }
    libusb_free_device_list(list, 1);
    if (found == 1)
        return ROMFS_OK;
    libusb_exit(c->usb);
    free(c);
    if (m->bootloader)
        return romfs_set_error(err, ROMFS_ERR_DEVICE,
                               "no DFU device found: looked for %s among %zd USB device%s%s%s. "
                               "Start %s", wanted, n, n == 1 ? "" : "s", note[0] ? "; " : "", note,
                               m->bootloader);
    return romfs_set_error(err, ROMFS_ERR_DEVICE,
                           "no DFU device found: looked for %s among %zd USB device%s%s%s. Put "
                           "the board into its DFU bootloader (BOOT0 high and reset, or "
                           "machine.bootloader() at the REPL)", wanted, n, n == 1 ? "" : "s",
                           note[0] ? "; " : "", note);
}
