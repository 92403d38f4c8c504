# serve.py: the fast write path, sent after helper.py with the _RF_* names of
# serve_protocol.def ahead of it (that table says what each marker and op means).
# _rf_serve(g, wb, cap) reads commands as raw bytes from sys.stdin.buffer with the keyboard
# interrupt disabled (restored on exit). It writes READY once it listens. A command is
# _RF_HEADER bytes: the op, then three _RF_FIELD-byte little-endian numbers a, b, c; the
# host may send headers at any time (they wait in the receive buffer while a command runs).
# Data follows only after the loop asks for it with READY: then the host may send 2*g
# bytes, and g more for every GRANT (written after each g bytes read), so data only flows
# while this loop reads it, and no more than a header waits while flash is being erased
# or written. Deflated data uses a window of 2**wb. An exception writes FAILED and
# propagates (the traceback follows on stderr).
def _rf_serve(g, wb, cap):
    import micropython
    si = sys.stdin.buffer
    so = sys.stdout.buffer
    buf = bytearray(cap)
    mv = memoryview(buf)
    out = bytearray(_RF_CHUNK)
    om = memoryview(out)
    hdr = bytearray(_RF_HEADER)
    hm = memoryview(hdr)
    f = _RF_FIELD
    def rd(m):
        so.write(_RF_READY)
        k = 0
        n = len(m)
        while k < n:
            t = min(n - k, g)
            si.readinto(m[k:k + t])
            k += t
            if k < n:
                so.write(_RF_GRANT)
    micropython.kbd_intr(-1)
    try:
        so.write(_RF_READY)
        while True:
            si.readinto(hm)
            op = hdr[0]
            a = int.from_bytes(hdr[1:1 + f], "little")
            b = int.from_bytes(hdr[1 + f:1 + 2 * f], "little")
            c = int.from_bytes(hdr[1 + 2 * f:1 + 3 * f], "little")
            if op == _RF_OP_ERASE:
                _rf_erase(a, b, c)
            elif op == _RF_OP_WRITE:
                rd(mv[:c])
                if c == b:
                    _rf_w(a, mv[:b])
                else:
                    from deflate import DeflateIO, RAW
                    from io import BytesIO
                    z = DeflateIO(BytesIO(mv[:c]), RAW, wb)
                    k = 0
                    while k < b:
                        t = min(_RF_CHUNK, b - k)
                        j = 0
                        while j < t:
                            r = z.readinto(om[j:t])
                            if not r:
                                raise ValueError("compressed data ends early at %d" % (a + k + j))
                            j += r
                        _rf_w(a + k, om[:t])
                        k += t
            elif op == _RF_OP_HASH:
                so.write(_RF_REPLY)
                bs = _rf["bs"]
                for x in range(a, a + b, bs):
                    so.write(_rf_sha(x, bs))
            elif op == _RF_OP_READ:
                so.write(_RF_REPLY)
                k = 0
                while k < b:
                    t = min(_RF_CHUNK, b - k)
                    so.write(bytes(_rf_read(a + k, t)))
                    k += t
            elif op == _RF_OP_SYNC:
                _rf_sync()
            elif op == _RF_OP_STOP:
                so.write(_RF_STOPPED)
                break
            else:
                raise ValueError("bad command %d" % op)
    except Exception:
        so.write(_RF_FAILED)
        raise
    finally:
        micropython.kbd_intr(3)
