# Runs first on boot: make modules in /rom importable ahead of the flash filesystem.
import sys
if "/rom/lib" not in sys.path:
    sys.path.insert(0, "/rom/lib")
