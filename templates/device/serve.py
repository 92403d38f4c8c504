# serve.py: the fast write path, sent after helper.py. _rf_serve(g, wb, cap) reads
# commands as raw bytes from sys.stdin.buffer with the keyboard interrupt disabled
# (restored on exit). It writes b"\x05" once it listens. A command is 13 bytes: op, then
# three 32-bit little-endian numbers a, b, c; the host may send command headers at any
# time (they wait in the receive buffer while a command runs). Data follows only after
# the loop asks for it with b"\x05": then the host may send 2*g bytes, and g more for
# every b"\x01" (written after each g bytes read), so data only flows while this loop
# reads it, and no more than a header waits while flash is being erased or written.
#   E a b c    erase [a, a+b) (c: the host's write unit, checked against the device's)
#   W a b c    write b bytes at a, sent as c bytes (c < b: raw deflate, window 2**wb)
#   H a b      SHA-256 of each erase block of [a, a+b): replies b"\x02" + 32 bytes each
#   R a b      read [a, a+b): replies b"\x02" + the bytes
#   S          finish the write session (rom_ioctl 5)
#   Q          stop: replies b"\x06"
# An exception writes b"\x15" and propagates (the traceback follows on stderr).
def _rf_serve(g, wb, cap):
    import micropython
    si = sys.stdin.buffer
    so = sys.stdout.buffer
    buf = bytearray(cap)
    mv = memoryview(buf)
    out = bytearray(4096)
    om = memoryview(out)
    hdr = bytearray(13)
    hm = memoryview(hdr)
    def rd(m):
        so.write(b"\x05")
        k = 0
        n = len(m)
        while k < n:
            t = min(n - k, g)
            si.readinto(m[k:k + t])
            k += t
            if k < n:
                so.write(b"\x01")
    micropython.kbd_intr(-1)
    try:
        so.write(b"\x05")
        while True:
            si.readinto(hm)
            op = hdr[0]
            a = int.from_bytes(hdr[1:5], "little")
            b = int.from_bytes(hdr[5:9], "little")
            c = int.from_bytes(hdr[9:13], "little")
            if op == 69:
                _rf_erase(a, b, c)
            elif op == 87:
                rd(mv[:c])
                if c == b:
                    _rf_w(a, mv[:b])
                else:
                    from deflate import DeflateIO, RAW
                    from io import BytesIO
                    z = DeflateIO(BytesIO(mv[:c]), RAW, wb)
                    k = 0
                    while k < b:
                        t = min(4096, b - k)
                        j = 0
                        while j < t:
                            r = z.readinto(om[j:t])
                            if not r:
                                raise ValueError("compressed data ends early at %d" % (a + k + j))
                            j += r
                        _rf_w(a + k, om[:t])
                        k += t
            elif op == 72:
                so.write(b"\x02")
                bs = _rf["bs"]
                for x in range(a, a + b, bs):
                    so.write(_rf_sha(x, bs))
            elif op == 82:
                so.write(b"\x02")
                k = 0
                while k < b:
                    t = min(4096, b - k)
                    so.write(bytes(_rf_read(a + k, t)))
                    k += t
            elif op == 83:
                _rf_sync()
            elif op == 81:
                so.write(b"\x06")
                break
            else:
                raise ValueError("bad command %d" % op)
    except Exception:
        so.write(b"\x15")
        raise
    finally:
        micropython.kbd_intr(3)
