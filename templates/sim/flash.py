# flash.py: the simulated device's ROMFS partitions, with NOR flash semantics.
#
# A partition is `size` bytes split into erase blocks of `erase_block` bytes and
# programmed in units of `write_block` bytes. Erasing sets a block to 0xff; programming
# can only clear bits (stored = old & data), so writing over unerased flash corrupts
# what was there, exactly as on real NOR flash. With a backing file every change is
# written through at once (os.pwrite), so a killed or "power-cut" simulator leaves
# the file holding what the flash held at that instant.
#
# Faults (see faults.py) can flip a bit of a byte while it is programmed, flip a bit
# of flash after a write covering it, cut the power in the middle of an erase or a
# write (half the operation done, then the process exits), or make an erase or a write
# fail with an errno (FlashIOError; nothing done).

import os

import devtime

EINVAL = 22
EIO = 5


class FlashError(Exception):
    """A flash operation outside the partition or not aligned to its write unit."""


class FlashIOError(FlashError):
    """An injected failure of the flash itself (faults.py fail-write, fail-erase)."""

    def __init__(self, errno, what):
        FlashError.__init__(self, what)
        self.errno = errno


class Partition:
    def __init__(self, index, size, erase_block, write_block, path=None, faults=None, stats=None):
        # The size need not be a multiple of the erase block: boards whose partition
        # spans sectors of different sizes give the largest; the last block is short.
        if size <= 0 or erase_block <= 0:
            raise ValueError("partition %d: size %d and erase block %d must be positive"
                             % (index, size, erase_block))
        if write_block <= 0 or erase_block % write_block:
            raise ValueError("partition %d: write block %d does not divide the erase block %d"
                             % (index, write_block, erase_block))
        self.index = index
        self.size = size
        self.erase_block = erase_block
        self.write_block = write_block
        self.faults = faults
        self.stats = stats
        self.data = bytearray(b"\xff" * size)
        self.fd = None
        if path is not None:
            self._open_backing(path)
        # A read-only live view: what a memory-mapped partition looks like to Python.
        self.view = memoryview(self.data).toreadonly()

    def _open_backing(self, path):
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        have = os.fstat(fd).st_size
        if have > self.size:
            os.close(fd)
            raise ValueError("%s holds %d bytes, more than the %d-byte partition %d"
                             % (path, have, self.size, self.index))
        if have:
            old = os.pread(fd, have, 0)
            self.data[:have] = old
        if have < self.size:
            # A new or short file: the rest is erased flash.
            os.pwrite(fd, bytes(self.data[have:]), have)
        self.fd = fd

    def _persist(self, offset, length):
        if self.fd is not None and length:
            os.pwrite(self.fd, bytes(self.data[offset:offset + length]), offset)

    def _count(self, key, n=1):
        if self.stats is not None:
            self.stats[key] = self.stats.get(key, 0) + n

    # -- erase ---------------------------------------------------------------
    def block_count(self):
        return (self.size + self.erase_block - 1) // self.erase_block

    def erase_block_at(self, block):
        """Erase block number `block` (0-based) to 0xff."""
        if not 0 <= block < self.block_count():
            raise FlashError("erase block %d outside partition %d (%d blocks)"
                             % (block, self.index, self.block_count()))
        start = block * self.erase_block
        end = min(start + self.erase_block, self.size)
        self._count("erases")
        devtime.spend("erase")
        if self.stats is not None:
            self.stats.setdefault("erased_blocks", []).append(block)
        hit = self.faults.this_erase() if self.faults is not None else None
        if hit not in (None, "cut"):
            raise FlashIOError(hit, "erase of block %d failed" % block)
        if hit == "cut":
            half = start + (end - start) // 2
            self.data[start:half] = b"\xff" * (half - start)
            self._persist(start, half - start)
            self.faults.power_cut("erase of block %d of partition %d" % (block, self.index))
        self.data[start:end] = b"\xff" * (end - start)
        self._persist(start, end - start)

    def erase_stepping(self, offset, length):
        """Erase as stm32's rom_ioctl(3) does: erase the block holding `offset`, step by
        one block size, repeat while below offset+length. A start that is not
        block-aligned can therefore leave the last touched block unerased (a real quirk)."""
        addr = offset
        end = offset + length
        while addr < end:
            self.erase_block_at(addr // self.erase_block)
            addr += self.erase_block

    # -- program -------------------------------------------------------------
    def program(self, offset, data):
        """Program `data` at `offset`: stored = old & data. Both must be aligned to the
        write block; raises FlashError otherwise or when outside the partition."""
        data = bytes(data)
        n = len(data)
        if offset < 0 or offset + n > self.size:
            raise FlashError("write of %d bytes at offset %d outside partition %d (%d bytes)"
                             % (n, offset, self.index, self.size))
        if offset % self.write_block or n % self.write_block:
            raise FlashError("write of %d bytes at offset %d not aligned to the %d-byte write unit"
                             % (n, offset, self.write_block))
        hit = self.faults.this_write() if self.faults is not None else None
        if hit not in (None, "cut"):
            raise FlashIOError(hit, "write of %d bytes at offset %d failed" % (n, offset))
        self._count("writes")
        devtime.spend("write", n)
        self._count("written_bytes", n)
        if self.faults is not None:
            data = self.faults.corrupt_flash_write(data)
            if hit == "cut":
                keep = (n // 2) // self.write_block * self.write_block
                self._and_in(offset, data[:keep])
                self.faults.power_cut("write of %d bytes at offset %d of partition %d"
                                      % (n, offset, self.index))
        self._and_in(offset, data)
        if self.faults is not None:
            flip = self.faults.flash_flip_in(self.index, offset, n)
            if flip is not None:
                pos, bit = flip
                self.data[pos] ^= 1 << bit
                self._persist(pos, 1)

    def _and_in(self, offset, data):
        n = len(data)
        if not n:
            return
        old = int.from_bytes(self.data[offset:offset + n], "little")
        new = old & int.from_bytes(data, "little")
        self.data[offset:offset + n] = new.to_bytes(n, "little")
        self._persist(offset, n)

    def read(self, offset, length):
        if offset < 0 or length < 0 or offset + length > self.size:
            raise FlashError("read of %d bytes at offset %d outside partition %d"
                             % (length, offset, self.index))
        return bytes(self.data[offset:offset + length])
