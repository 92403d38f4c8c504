#!/usr/bin/env python3
# apptree.py DIR TARGET_BYTES SEED: a generated, realistic MicroPython app tree for the
# REPL benchmarks: Python source in main.py and a lib/ package (lib/settings.py is exactly
# 2 KiB, the file the re-write benchmarks change), a JSON config, and binary assets:
# photos that do not compress, a bitmap font and PCM sound that do. Deterministic.
import math, os, random, sys, json
root, target, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(seed)
words = ("sensor reading value buffer index count timer pin state config network packet "
         "display pixel color width height offset length data result error retry delay "
         "update handler callback event queue message level threshold sample rate channel "
         "voltage current motor speed angle position target button press release led").split()
def ident():
    return "_".join(rnd.choice(words) for _ in range(rnd.randint(1, 3)))
def py_module(size):
    out = ['"""%s."""' % " ".join(rnd.choice(words) for _ in range(12)).capitalize(), "",
           "import time", "from machine import Pin", ""]
    while sum(len(l) + 1 for l in out) < size:
        if rnd.random() < 0.3:
            cls = ident().title().replace("_", "")
            out += ["class %s:" % cls,
                    '    """%s."""' % " ".join(rnd.choice(words) for _ in range(8)).capitalize(),
                    "    def __init__(self, %s=%d):" % (ident(), rnd.randint(0, 999)),
                    "        self.%s = %s" % (ident(), rnd.randint(0, 99)),
                    "        self.%s = []" % ident(), ""]
        name, arg = ident(), ident()
        out += ["def %s(%s, %s=None):" % (name, arg, ident()),
                "    # %s" % " ".join(rnd.choice(words) for _ in range(rnd.randint(3, 9))),
                "    if %s > %d:" % (arg, rnd.randint(0, 4096)),
                "        return %s * %d + %d" % (arg, rnd.randint(2, 64), rnd.randint(0, 255)),
                "    for i in range(%d):" % rnd.randint(1, 32),
                "        time.sleep_ms(%d)" % rnd.randint(1, 100),
                "    print('%s', %s)" % (" ".join(rnd.choice(words) for _ in range(3)), arg),
                "    return None", ""]
    return ("\n".join(out) + "\n").encode()
def write(path, data):
    p = os.path.join(root, path)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(data)
text = target * 45 // 100
photos = target * 25 // 100
font = target * 15 // 100
sound = target - text - photos - font
write("main.py", py_module(3000))
write("boot.py", b"import gc\ngc.collect()\n")
settings = py_module(1900)[:2048]
settings += b"#" * (2048 - len(settings) - 1) + b"\n"
write("lib/settings.py", settings)            # the 2 KiB file the re-write bench changes
write("lib/__init__.py", b"")
n = max(4, text // 6000)
for i in range(n):
    write("lib/%s_%02d.py" % (rnd.choice(words), i), py_module(text // n))
write("config.json", json.dumps({ident(): rnd.randint(0, 1000) for _ in range(40)}, indent=2).encode())
for i in range(3):
    write("assets/photo%d.jpg" % i, rnd.randbytes(photos // 3))
glyphs = bytearray()
while len(glyphs) < font:
    row = rnd.choice((0x00, 0x18, 0x3c, 0x66, 0x7e, 0xc3, 0xff, 0x81))
    glyphs += bytes([row]) * rnd.randint(1, 4)
write("assets/font8x16.bin", bytes(glyphs[:font]))
pcm = bytes(int(128 + 100 * math.sin(i / 7.0) + rnd.randint(-6, 6)) & 0xff for i in range(sound))
write("assets/chime.pcm", pcm)
