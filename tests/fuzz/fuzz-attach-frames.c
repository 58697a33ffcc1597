/* SPDX-License-Identifier: Apache-2.0 */
/* The attach protocol's framing (common/attach.h): the bytes a peer sends on a container's
 * attach socket, read as the shim (shim/attach.c) and its clients (agent/cri/attach.c,
 * `podrun attach`) read them: into a buffer of one header and one frame at most, in reads of
 * (first byte % 64 + 1) bytes, attach_parse over what has arrived, each frame consumed and
 * the rest moved to the front. Each frame is decoded as its channel says (resize, exit) and
 * checked:
 *   - a frame lies inside the bytes given, its length at most ATTACH_FRAME_MAX;
 *   - its header re-encoded (attach_header) is the bytes it came from;
 *   - a shorter prefix of the same bytes is incomplete (0), never another frame;
 *   - a full buffer always parses (a frame or an error): a reader never stalls on it;
 *   - a resize or exit frame decodes iff it is 4 bytes on its channel, and re-encodes to them. */
#include "attach.h"
#include "fuzz-common.h"
#include "util.h"

#include <errno.h>

#define INPUT_MAX (256 * 1024)
#define BUF_SIZE  (ATTACH_HEADER_SIZE + ATTACH_FRAME_MAX)

static void check_frame(const uint8_t *buf, size_t have, const struct attach_frame *f, int size)
{
    if (size < ATTACH_HEADER_SIZE || (size_t)size > have)
        fuzz_fail("attach_parse: size %d of %zu bytes", size, have);
    if (f->len > ATTACH_FRAME_MAX || f->data != buf + ATTACH_HEADER_SIZE ||
        (size_t)size != ATTACH_HEADER_SIZE + f->len || (unsigned)f->channel >= ATTACH_CHANNELS)
        fuzz_fail("attach_parse: a frame outside its bytes (channel %d, len %u)", f->channel,
                  f->len);
    uint8_t hdr[ATTACH_HEADER_SIZE];
    attach_header(hdr, f->channel, f->len);
    if (memcmp(hdr, buf, sizeof(hdr)) != 0)
        fuzz_fail("attach_header does not give back the header parsed");
    /* Every shorter prefix is incomplete: a reader that has not all of it waits. */
    struct attach_frame g;
    for (size_t k = 0; k < (size_t)size; k += k < 8 ? 1 : 997)
        if (attach_parse(buf, k, &g) != 0)
            fuzz_fail("attach_parse: a prefix of %zu bytes of a %d-byte frame is not incomplete", k,
                      size);

    unsigned rows, cols;
    int rr = attach_resize_decode(f, &rows, &cols);
    bool resize = f->channel == ATTACH_RESIZE && f->len == 4;
    if (resize != (rr == 0) || (rr < 0 && rr != -EBADMSG))
        fuzz_fail("attach_resize_decode: %d for channel %d, len %u", rr, f->channel, f->len);
    if (resize) {
        uint8_t out[4];
        attach_resize_encode(out, rows, cols);
        if (memcmp(out, f->data, 4) != 0 || rows > 0xffff || cols > 0xffff)
            fuzz_fail("a resize does not re-encode to its bytes");
    }
    int32_t code;
    int er = attach_exit_decode(f, &code);
    bool exit_frame = f->channel == ATTACH_EXIT && f->len == 4;
    if (exit_frame != (er == 0) || (er < 0 && er != -EBADMSG))
        fuzz_fail("attach_exit_decode: %d for channel %d, len %u", er, f->channel, f->len);
    if (exit_frame) {
        uint8_t out[4];
        attach_exit_encode(out, code);
        if (memcmp(out, f->data, 4) != 0)
            fuzz_fail("an exit code does not re-encode to its bytes");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > INPUT_MAX)
        return -1;
    size_t chunk = data[0] % 64 + 1;
    data++;
    size--;
    static uint8_t buf[BUF_SIZE];
    size_t have = 0, fed = 0;
    while (fed < size) {
        size_t n = MIN(chunk, MIN(size - fed, BUF_SIZE - have));
        memcpy(buf + have, data + fed, n);
        have += n;
        fed += n;
        size_t off = 0;
        for (;;) {
            struct attach_frame f;
            int r = attach_parse(buf + off, have - off, &f);
            if (r < 0) {
                if (r != -EBADMSG)
                    fuzz_fail("attach_parse: unexpected %d", r);
                return 0; /* the peer is dropped */
            }
            if (r == 0) {
                if (have - off == BUF_SIZE)
                    fuzz_fail("attach_parse: a full buffer is neither a frame nor an error");
                break;
            }
            check_frame(buf + off, have - off, &f, r);
            off += (size_t)r;
        }
        memmove(buf, buf + off, have - off);
        have -= off;
    }
    return 0;
}
