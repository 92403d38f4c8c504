# test_flash_repl_faults.py: a verify failure and every fault kind of `romfs sim` during
# `romfs flash --via repl`; after each, the partition holds the old image, the new one, or
# no ROMFS at all (never a mountable half-image), and a re-run completes the write.
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from flashrepl_lib import *  # noqa: E402,F401,F403
from flashrepl_lib import TMP, TORN_SEEN, run  # noqa: E402

# -- verify failure and faults ------------------------------------------------------------

def verify_failure_flipped_bit():
    ff = start_with_old_image("flip")
    s = sim("--fault", "flip-flash@%d:3" % (2 * 4096 + 100), flash_file=ff)
    try:
        rc, rep, err = flash(s.path, IMG_PATH)
        assert rc == 1 and "verification failed" in err, err
        assert "erase block 2" in err, err
        assert not mountable(ff)
    finally:
        s.close()
    torn_then_rerun(ff, rc, err)


def fault_power_cuts():
    del TORN_SEEN[:]
    for fault in ("cut-write@1", "cut-write@3", "cut-write@6", "cut-erase@1", "cut-erase@4"):
        ff = start_with_old_image("cut")
        s = sim("--fault", fault, flash_file=ff)
        try:
            rc, rep, err = flash(s.path, IMG_PATH)
        finally:
            s.close()
        torn_then_rerun(ff, rc, err)
    assert all(TORN_SEEN), TORN_SEEN  # every cut fell inside the write


def fault_disconnect_mid_transfer():
    del TORN_SEEN[:]
    for n in (3000, 9000, 16000):
        ff = start_with_old_image("disc")
        s = sim("--fault", "disconnect@%d" % n, flash_file=ff)
        try:
            rc, rep, err = flash(s.path, IMG_PATH)
            # the host sees the port go (before the transfer) or the device's own
            # report that its link closed (during it); exit 1 either way
            assert rc == 1, (rc, err)
            assert "the device disconnected" in err or "LinkClosed" in err, err
        finally:
            s.close()
        torn_then_rerun(ff, rc, err)
    assert any(TORN_SEEN), TORN_SEEN


def fault_stall_times_out():
    del TORN_SEEN[:]
    ff = start_with_old_image("stall")
    s = sim("--fault", "stall@9000:2.5", flash_file=ff)
    try:
        rc, rep, err = flash(s.path, IMG_PATH, "--timeout", "800")
    finally:
        s.close()
    torn_then_rerun(ff, rc, err)
    assert TORN_SEEN == [True], TORN_SEEN


def fault_corrupted_byte():
    for n in (12000,):
        ff = start_with_old_image("fliprx")
        s = sim("--fault", "flip-rx@%d:2" % n, flash_file=ff)
        try:
            rc, rep, err = flash(s.path, IMG_PATH)
        finally:
            s.close()
        if rc == 0:  # the flip hit nothing that matters: then the result must be right
            check_written(ff, IMG)
        else:
            torn_then_rerun(ff, rc, err)


def fault_bit_flips_while_programming():
    # flip-write: the N-th programmed byte gets a bit flipped (a weak cell). A body block
    # fails verification before the header is written; block 0 is programmed last (all
    # but its first write unit, then that), and when it fails its verification the
    # header is erased again.
    del TORN_SEEN[:]
    prog_len = (len(IMG) + 255) // 256 * 256
    for n in (9000, prog_len - 4096 + 1000):
        ff = start_with_old_image("flipw")
        s = sim("--fault", "flip-write@%d:5" % n, flash_file=ff)
        try:
            rc, rep, err = flash(s.path, IMG_PATH)
            assert rc == 1 and "verification failed" in err, err
        finally:
            s.close()
        torn_then_rerun(ff, rc, err)


TESTS = [fault_bit_flips_while_programming, verify_failure_flipped_bit, fault_power_cuts, fault_disconnect_mid_transfer, fault_stall_times_out, fault_corrupted_byte]

if __name__ == "__main__":
    rc = run(TESTS)
    import shutil
    shutil.rmtree(TMP, ignore_errors=True)
    sys.exit(rc)
