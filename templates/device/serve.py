# serve.py: the fast write path, sent after helper.py with the _RF_* names of
# serve_protocol.def ahead of it (that table says what each marker and op means).
# _rf_serve(g, wb, cap, pc) reads commands as raw bytes from sys.stdin.buffer. It writes
# READY once it listens. A command is _RF_HEADER bytes: the op, then three
# _RF_FIELD-byte little-endian numbers a, b, c. Data follows only after the loop asks
# for it with READY: then the host may send 2*g bytes, and g more for every GRANT
# (written after each g bytes read). Everything the host sends is escaped (0x01..0x05
# and _RF_ESCAPE travel as _RF_ESCAPE, byte ^ 0x40), so the keyboard interrupt stays
# enabled: Ctrl-C from any client ends the loop at once, and nothing of a command that
# did not arrive whole is written. A host silent for _RF_IDLE_MS while the loop waits
# for it has gone: the loop ends by itself and the REPL is back, as it does when a Ctrl-C
# arrives in the stream (ports whose Ctrl-C does not interrupt code: qemu). Deflated data uses a
# window of 2**wb; data is read in pieces of pc bytes. An exception writes FAILED, then
# the op and partition offset it failed at as a line "OP OFFSET", and propagates.
def _rf_serve(g, wb, cap, pc):
    si = sys.stdin.buffer
    so = sys.stdout.buffer
    try:
        import select
        p = select.poll()
        p.register(sys.stdin, select.POLLIN)
    except Exception:
        p = None
    E = _RF_ESCAPE
    pairs = [(bytes((E, c ^ 0x40)), bytes((c,))) for c in (1, 2, 3, 4, 5, E)]
    import gc
    gc.collect()
    buf = bytearray(cap)
    mv = memoryview(buf)
    win = bytearray(g + 1)
    wm = memoryview(win)
    out = bytearray(_RF_CHUNK)
    om = memoryview(out)
    one = bytearray(1)
    class Gone(Exception):
        pass
    def wait():
        if p is not None and not p.poll(_RF_IDLE_MS):
            raise Gone()
    def byte():
        si.readinto(one)
        if one[0] == 3:
            raise Gone()
        if one[0] != E:
            return one[0]
        si.readinto(one)
        return one[0] ^ 0x40
    def rd(n):
        # n wire bytes in windows of g, unescaped into buf; returns the decoded length
        so.write(_RF_READY)
        k = 0
        d = 0
        carry = 0
        while k < n:
            t = min(n - k, g)
            j = 0
            while j < t:
                # a piece at a time, once bytes are there: a host that stops sending
                # mid-window can only leave a piece unfinished, and the next client's
                # burst of Ctrl-C (which never occurs in the escaped stream) completes it
                # and is seen here, on ports where Ctrl-C does not interrupt code
                wait()
                u = min(pc, t - j)
                si.readinto(wm[carry + j:carry + j + u])
                if b"\x03" in bytes(wm[carry + j:carry + j + u]):
                    raise Gone()
                j += u
            k += t
            if k < n:
                so.write(_RF_GRANT)
            t += carry
            carry = 0
            if win[t - 1] == E and k < n:
                carry = 1
                t -= 1
            piece = bytes(wm[:t])
            if E in piece:
                for a, b in pairs:
                    piece = piece.replace(a, b)
            buf[d:d + len(piece)] = piece
            d += len(piece)
            if carry:
                win[0] = E
        return d
    hdr = bytearray(_RF_HEADER)
    f = _RF_FIELD
    op = 0
    at = 0
    try:
        so.write(_RF_READY)
        while True:
            wait()
            for i in range(_RF_HEADER):
                hdr[i] = byte()
            op = hdr[0]
            a = int.from_bytes(hdr[1:1 + f], "little")
            b = int.from_bytes(hdr[1 + f:1 + 2 * f], "little")
            c = int.from_bytes(hdr[1 + 2 * f:1 + 3 * f], "little")
            at = a
            if op == _RF_OP_ERASE:
                _rf_erase(a, b, c)
            elif op == _RF_OP_WRITE:
                n = rd(c)
                if n == b:
                    _rf_w(a, mv[:b])
                else:
                    from deflate import DeflateIO, RAW
                    from io import BytesIO
                    z = DeflateIO(BytesIO(mv[:n]), RAW, wb)
                    k = 0
                    while k < b:
                        t = min(_RF_CHUNK, b - k)
                        j = 0
                        while j < t:
                            r = z.readinto(om[j:t])
                            if not r:
                                raise ValueError("compressed data ends early at %d" % (a + k + j))
                            j += r
                        at = a + k
                        _rf_w(at, om[:t])
                        k += t
            elif op == _RF_OP_HASH:
                so.write(_RF_REPLY)
                bs = c or _rf["bs"]
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
    except Gone:
        pass
    except Exception:
        so.write(_RF_FAILED)
        # what failed, and where: the host names it in its message
        print(op, at)
        raise
