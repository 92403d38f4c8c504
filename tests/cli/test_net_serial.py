# test_net_serial.py: boards behind ser2net, reached as socket://HOST:PORT (raw TCP) and
# rfc2217://HOST:PORT (telnet RFC 2217): query, flash, several at once, timeouts, the
# loop over fixed network ports, and the errors for servers that are not there or do not
# speak RFC 2217. ser2net (Debian package ser2net, 4.x) is started on 127.0.0.1 with its
# own YAML configuration in front of simulated boards' ptys. Without ser2net the test
# prints SKIP and the reason, and no PASS.
#
# Ground truth is each simulator's flash file (--flash FILE).
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from simlib import ROMFS, Sim, run  # noqa: E402

SER2NET = shutil.which("ser2net")
if not SER2NET:
    print("SKIP test_net_serial: ser2net is not installed (apt-get install ser2net, or make deps)")
    sys.exit(0)

TMP = tempfile.mkdtemp(prefix="romfs-net.")


def make_app(name, seed):
    d = os.path.join(TMP, name)
    os.makedirs(d, exist_ok=True)
    rnd = b"".join(hashlib.sha256(b"%s-%d" % (name.encode(), i)).digest() for i in range(700))
    open(os.path.join(d, "main.py"), "wb").write(b"print('net %d')\n" % seed)
    open(os.path.join(d, "rand.bin"), "wb").write(rnd)            # 0xff bytes here and there
    open(os.path.join(d, "ff.bin"), "wb").write(b"\xff" * 3000 + bytes(range(256)) * 8)
    img = os.path.join(TMP, name + ".romfs")
    subprocess.run([ROMFS, "pack", d, "-o", img], check=True, capture_output=True)
    return d, open(img, "rb").read()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def listening(port):
    """Whether something listens on 127.0.0.1:port (from /proc, without connecting:
    a connection to ser2net opens its serial device)."""
    want = ":%04X" % port
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                for line in f.readlines()[1:]:
                    fields = line.split()
                    if fields[1].endswith(want) and fields[3] == "0A":
                        return True
        except OSError:
            pass
    return False


class Board:
    def __init__(self, name, *args):
        self.flash = os.path.join(TMP, name + ".flash")
        self.sim = Sim("--flash", self.flash, *args, connect=False)

    def holds(self, image):
        with open(self.flash, "rb") as f:
            return f.read(len(image)) == image


class Ser2net:
    """ser2net with one connection per (accepter kind, board)."""

    def __init__(self, boards):
        self.urls = []
        conf = []
        for i, (kind, board) in enumerate(boards):
            port = free_port()
            accepter = "telnet(rfc2217),tcp" if kind == "rfc2217" else "tcp"
            conf.append("connection: &con%d\n  accepter: %s,127.0.0.1,%d\n"
                        "  connector: serialdev,%s,115200n81,local\n" % (i, accepter, port,
                                                                           board.sim.path))
            self.urls.append("%s://127.0.0.1:%d" % (kind, port))
        self.yaml = os.path.join(TMP, "ser2net-%d.yaml" % time.monotonic_ns())
        with open(self.yaml, "w") as f:
            f.write("\n".join(conf))
        self.log = open(self.yaml + ".log", "w")
        # -n: stay in the foreground; -u: no UUCP lock files (the ptys are ours)
        self.proc = subprocess.Popen([SER2NET, "-n", "-u", "-c", self.yaml, "-P",
                                      self.yaml + ".pid"], stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 10
        ports = [int(u.rsplit(":", 1)[1]) for u in self.urls]
        while not all(listening(p) for p in ports):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise AssertionError("ser2net did not start: %s" % open(self.log.name).read())
            time.sleep(0.05)

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.log.close()


def romfs(*args, timeout=120):
    return subprocess.run([ROMFS] + list(args), capture_output=True, timeout=timeout)


BOARDS = [Board("raw"), Board("tel"), Board("stall", "--fault", "stall@3000:20")]
SERVER = Ser2net([("socket", BOARDS[0]), ("rfc2217", BOARDS[1]), ("socket", BOARDS[2])])
RAW_URL, RFC_URL, STALL_URL = SERVER.urls


def query_and_flash(url, board, name, *flash_args):
    p = romfs("query", "--port", url)
    assert p.returncode == 0 and b"MicroPython" in p.stdout and b"partition 0" in p.stdout, \
        (p.returncode, p.stdout, p.stderr)
    app, img = make_app(name, len(name))
    p = romfs("flash", app, "--port", url, "--json", *flash_args)
    assert p.returncode == 0, (p.stdout, p.stderr)
    rep = json.loads(p.stdout)
    assert rep["ok"] and rep["verified"] and rep["blocks_written"] == rep["blocks_in_image"] > 0, rep
    assert "/rom lists" in rep["confirmed"], rep
    assert board.holds(img), "the board's flash does not hold the image"
    p = romfs("query", "--port", url, "--json")
    assert p.returncode == 0, p.stderr
    dev = json.loads(p.stdout)
    part = dev["partitions"][0]
    assert part["sha256"] == hashlib.sha256(img).hexdigest(), part
    return img


def socket_url_query_and_flash():
    query_and_flash(RAW_URL, BOARDS[0], "raw1")


def rfc2217_url_query_and_flash():
    # raw bytes on the wire (no deflate): every 0xff of the image crosses the telnet link
    query_and_flash(RFC_URL, BOARDS[1], "tel1", "--transfer", "raw")
    query_and_flash(RFC_URL, BOARDS[1], "tel2")


def several_network_boards_at_once():
    app, img = make_app("both", 7)
    p = romfs("flash", app, "--port", RAW_URL, "--port", RFC_URL, "--json")
    assert p.returncode == 0, (p.stdout, p.stderr)
    rep = json.loads(p.stdout)
    assert [r["port"] for r in rep] == [RAW_URL, RFC_URL] and all(r["ok"] for r in rep), rep
    assert BOARDS[0].holds(img) and BOARDS[1].holds(img)


def timeouts_as_for_a_local_port():
    app, _ = make_app("stall", 9)
    t0 = time.monotonic()
    p = romfs("flash", app, "--port", STALL_URL, "--timeout", "1000")
    took = time.monotonic() - t0
    assert p.returncode == 1 and b"within 1000 ms" in p.stderr, (p.returncode, p.stderr)
    assert took < 10, "the stalled board held the tool for %.1f s" % took


def break_in_to_a_running_program():
    # another client leaves the board running a program that never ends and prints
    # nothing; romfs must interrupt it (Ctrl-C) through the server, as on a local port
    for url in (RAW_URL, RFC_URL):
        port = int(url.rsplit(":", 1)[1])
        c = socket.create_connection(("127.0.0.1", port), timeout=5)
        if url.startswith("rfc2217"):
            c.sendall(b"\xff\xfb\x00\xff\xfd\x00")   # binary, so the bytes pass untouched
        c.sendall(b"\r\x03\x03\r\x01")             # raw REPL
        time.sleep(0.3)
        c.sendall(b"import time\nwhile True:\n  time.sleep(1)\x04")
        time.sleep(0.5)
        c.close()
        time.sleep(1.5)   # ser2net releases the device a moment after a client leaves
        p = romfs("query", "--port", url, "--timeout", "3000", timeout=60)
        assert p.returncode == 0 and b"partition 0" in p.stdout, (url, p.stdout, p.stderr)


def loop_over_fixed_network_ports():
    app, img = make_app("loop", 11)
    log = os.path.join(TMP, "loop.jsonl")
    out = open(os.path.join(TMP, "loop.out"), "w+")
    proc = subprocess.Popen([ROMFS, "flash", app, "--loop", "--port", RFC_URL, "--log", log],
                            stdout=out, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            out.seek(0)
            lines = out.read().splitlines()
            if lines or proc.poll() is not None or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert lines and lines[0].startswith("PASS %s serial -: " % RFC_URL), lines
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 143
        assert BOARDS[1].holds(img)
        entry = json.loads(open(log).read().splitlines()[0])
        assert entry["port"] == RFC_URL and entry["result"] == "pass", entry
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()
        out.close()


def unreachable_and_wrong_servers():
    closed = free_port()
    p = romfs("query", "--port", "rfc2217://127.0.0.1:%d" % closed)
    assert p.returncode == 2 and b"cannot connect" in p.stderr and b"refused" in p.stderr, p.stderr
    p = romfs("query", "--port", "socket://127.0.0.1")
    assert p.returncode == 2 and b"socket://HOST:PORT" in p.stderr, p.stderr
    # a server that answers telnet but refuses the COM-PORT-OPTION
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    proc = subprocess.Popen([ROMFS, "query", "--port", "rfc2217://127.0.0.1:%d" % port],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    conn, _ = srv.accept()
    conn.settimeout(5)
    got = b""
    while b"\xff\xfb\x2c" not in got:           # IAC WILL COM-PORT-OPTION
        got += conn.recv(100)
    conn.sendall(b"\xff\xfe\x2c\xff\xfb\x01")    # IAC DONT COM-PORT, IAC WILL ECHO
    _, err = proc.communicate(timeout=10)
    rest = b""
    try:
        while True:
            chunk = conn.recv(100)
            if not chunk:
                break
            rest += chunk
    except OSError:
        pass
    conn.close()
    srv.close()
    assert proc.returncode == 1 and b"refused the RFC 2217 COM-PORT-OPTION" in err, err
    assert b"\xff\xfe\x01" in rest, "WILL ECHO was not refused with DONT ECHO: %r" % rest


try:
    rc = run([socket_url_query_and_flash, rfc2217_url_query_and_flash,
              several_network_boards_at_once, timeouts_as_for_a_local_port,
              break_in_to_a_running_program,
              loop_over_fixed_network_ports, unreachable_and_wrong_servers])
finally:
    SERVER.close()
    for b in BOARDS:
        b.sim.close()
    shutil.rmtree(TMP, ignore_errors=True)
sys.exit(rc)
