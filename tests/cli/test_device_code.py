# test_device_code.py: every program romfs sends to a board is MicroPython, checked by
# MicroPython's own compiler. The simulator runs device code with CPython, which accepts
# syntax MicroPython rejects; so the templates (templates/device/*.py) and every program
# the tool really sends (recorded by `romfs sim --code-log` while `romfs query` and
# `romfs flash` run with each transfer mode, partition API and REPL mode; that includes
# the code built inline in lib/flash/repl_*.c and what the device exec()s itself) are
# compiled with mpy-cross: $MPY_CROSS, else $MICROPYTHON_TREE/mpy-cross/build/mpy-cross.
# With $MICROPYTHON_UNIX (MicroPython's unix port) the helper's definitions also run.
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from simlib import ROMFS, Sim, run, skip  # noqa: E402

SOURCE = os.environ.get("ROMFS_SOURCE_DIR") or os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
TMP = tempfile.mkdtemp(prefix="romfs-devcode.")
CODE = []   # (what, source) of every program recorded


def mpy_cross():
    path = os.environ.get("MPY_CROSS")
    if not path and os.environ.get("MICROPYTHON_TREE"):
        path = os.path.join(os.environ["MICROPYTHON_TREE"], "mpy-cross", "build", "mpy-cross")
    if not path:
        skip("no mpy-cross: set MPY_CROSS, or MICROPYTHON_TREE to a tree with mpy-cross built")
    if not os.access(path, os.X_OK):
        skip("mpy-cross %s is not there (build it: make -C mpy-cross)" % path)
    return path


def compile_ok(tool, name, source):
    """Compile source with mpy-cross; return its complaint, or None."""
    src = os.path.join(TMP, "code.py")
    with open(src, "w") as f:
        f.write(source)
    p = subprocess.run([tool, "-o", os.path.join(TMP, "code.mpy"), "-s", name, src],
                       capture_output=True, text=True, timeout=60)
    return None if p.returncode == 0 else (p.stderr or p.stdout).strip()


def record_sessions():
    """Run the tool against simulated boards in every mode; CODE gets what they ran."""
    if CODE:
        return
    app = os.path.join(TMP, "app")
    os.makedirs(os.path.join(app, "lib"), exist_ok=True)
    with open(os.path.join(app, "main.py"), "w") as f:
        f.write("import lib.util\nprint(lib.util.answer())\n")
    with open(os.path.join(app, "lib", "util.py"), "w") as f:
        f.write("def answer():\n    return 42\n")
    with open(os.path.join(app, "data.bin"), "wb") as f:
        f.write(os.urandom(9000))
    runs = [([], ["--transfer", m]) for m in ("auto", "raw", "raw-deflate", "deflate-base64", "base64", "hex",
                                             "repr")]
    runs += [(["--api", "object"], []), (["--raw-paste", "off"], ["--no-raw-paste"]),
             (["--no-deflate", "--no-base64", "--no-fromhex"], []), (["--without", "select"], [])]
    for i, (sim_args, flash_args) in enumerate(runs):
        log = os.path.join(TMP, "code%d.jsonl" % i)
        s = Sim("--partition-size", "128K", "--code-log", log, *sim_args, connect=False)
        try:
            for cmd in (["query", "--port", s.path, "--list"],
                        ["flash", app, "--port", s.path, "-q"] + flash_args,
                        ["flash", app, "--port", s.path, "-q"] + flash_args):   # unchanged
                p = subprocess.run([ROMFS] + cmd, capture_output=True, text=True, timeout=120)
                assert p.returncode == 0, (sim_args, cmd, p.stderr)
        finally:
            s.close()
        with open(log) as f:
            for line in f:
                CODE.append((" ".join(sim_args + flash_args) or "defaults", json.loads(line)["source"]))


def templates_compile():
    tool = mpy_cross()
    d = os.path.join(SOURCE, "templates", "device")
    names = sorted(n for n in os.listdir(d) if n.endswith(".py"))
    assert "helper.py" in names and "serve.py" in names, names
    for name in names:
        with open(os.path.join(d, name)) as f:
            error = compile_ok(tool, name, f.read())
        assert error is None, "%s: %s" % (name, error)


def code_sent_to_boards_compiles():
    tool = mpy_cross()
    record_sessions()
    seen = {}
    for what, source in CODE:
        seen.setdefault(source, what)
    # The recording holds the helper and the write loop, whichever way they travelled.
    assert any("def _rf_caps" in src for src in seen), "the helper was not recorded"
    assert any("def _rf_serve" in src for src in seen), "the write loop was not recorded"
    failures = []
    for source, what in seen.items():
        error = compile_ok(tool, "<stdin>", source)
        if error is not None:
            failures.append("(%s) %r...: %s" % (what, source[:120], error))
    assert not failures, "\n".join(failures)
    print("    %d distinct programs compiled" % len(seen))


def helper_runs_in_unix_port():
    unix = os.environ.get("MICROPYTHON_UNIX")
    if not unix:
        skip("MICROPYTHON_UNIX not set (MicroPython's unix port, ports/unix/build-standard/micropython)")
    record_sessions()
    defs = []
    for _, source in CODE:
        if ("def _rf_caps" in source or "def _rf_serve" in source) and source not in defs:
            defs.append(source)
    prog = "\n".join(defs) + "\n_rf_caps()\n"
    p = subprocess.run([unix, "-c", prog], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.startswith("caps "), p.stdout


if __name__ == "__main__":
    try:
        sys.exit(run([templates_compile, code_sent_to_boards_compiles, helper_runs_in_unix_port]))
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
