"""What the generated-image benches share (deliver-bench-image.py, upgrade-bench-image.py): content-addressed blob
writes, incompressible random content, reproducible tars, and the small file builders for tar contents."""
import hashlib
import io
import os
import tarfile

MB = 1024 * 1024


def store(blob_dir, path=None, data=None):
    """Stores DATA, or moves the file PATH, into BLOB_DIR under its sha256; returns (hex digest, size)."""
    if data is not None:
        d = hashlib.sha256(data).hexdigest()
        with open(f"{blob_dir}/{d}", "wb") as f:
            f.write(data)
        return d, len(data)
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(MB), b""):
            h.update(chunk)
    d = h.hexdigest()
    os.replace(path, f"{blob_dir}/{d}")
    return d, os.path.getsize(f"{blob_dir}/{d}")


class Random(io.RawIOBase):
    def readable(self):
        return True

    def readinto(self, b):
        n = len(b)
        b[:n] = os.urandom(n)
        return n


def tar(files, path):
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as t:
        for name, (gen, size, mode) in files.items():
            ti = tarfile.TarInfo(name)
            ti.size, ti.mode, ti.mtime = size, mode, 0
            t.addfile(ti, gen())


def data(b, mode=0o644):
    return (lambda: io.BytesIO(b), len(b), mode)


def script(body):
    return data(("#!/bin/bash\nset -e\n" + body + "\n").encode(), 0o755)


def rnd(size, mode=0o755):
    return (lambda: io.BufferedReader(Random(), MB), size, mode)
