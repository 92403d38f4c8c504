# list.py: what /rom holds, as lines "d|- SIZE HEXNAME". Sent with helper.py at the
# start of a session, and alone after a soft reset (which forgets every definition), so
# confirming a write costs a few hundred bytes on the link, not the whole helper.
# When nothing is mounted at /rom (another tool unmounted it) the one line is
# "! nomount ERRNO".
def _rf_hexs(b):
    return "".join("%02x" % x for x in b)
def _rf_mounted(os):
    try:
        os.stat("/rom")
        return True
    except OSError as e:
        print("! nomount", e.errno if hasattr(e, "errno") else e.args[0])
def _rf_ls():
    import os
    if not _rf_mounted(os):
        return
    for n in os.listdir("/rom"):
        print("-", 0, _rf_hexs(n.encode()))
def _rf_tree(d="/rom", p=""):
    import os
    if not p and not _rf_mounted(os):
        return
    for e in os.ilistdir(d):
        n = p + e[0]
        if e[1] & 0x4000:
            print("d", 0, _rf_hexs(n.encode()))
            _rf_tree(d + "/" + e[0], n + "/")
        else:
            print("-", e[3], _rf_hexs(n.encode()))
