# list.py: what /rom holds, as lines "d|- SIZE HEXNAME". Sent with helper.py at the
# start of a session, and alone after a soft reset (which forgets every definition), so
# confirming a write costs a few hundred bytes on the link, not the whole helper.
def _rf_hexs(b):
    return "".join("%02x" % x for x in b)
def _rf_ls():
    import os
    for n in os.listdir("/rom"):
        print("-", 0, _rf_hexs(n.encode()))
def _rf_tree(d="/rom", p=""):
    import os
    for e in os.ilistdir(d):
        n = p + e[0]
        if e[1] & 0x4000:
            print("d", 0, _rf_hexs(n.encode()))
            _rf_tree(d + "/" + e[0], n + "/")
        else:
            print("-", e[3], _rf_hexs(n.encode()))
