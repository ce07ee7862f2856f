"""Shared helpers of the fixture generators: deterministic .npz and .json writing, seeding.

Both generators must produce byte-identical files when run twice, so that regenerating the
fixtures shows up in `git diff` only when something really changed. `numpy.savez` stamps each
archive member with the current time; `save_npz` writes the same format (uncompressed zip of
.npy members, readable by numpy and by ndarray-npy) with a fixed timestamp instead.
"""
import io
import json
import zipfile
import zlib

import numpy as np

FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def seed_of(name):
    """A stable per-fixture seed, so adding a fixture never changes another one's data."""
    return zlib.crc32(name.encode("utf-8")) & 0x7FFFFFFF


def save_npz(path, arrays):
    """Write `arrays` (name -> ndarray, insertion order kept) as an uncompressed .npz."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        for key, value in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asarray(value), allow_pickle=False)
            info = zipfile.ZipInfo(key + ".npy", date_time=FIXED_ZIP_TIME)
            info.external_attr = 0o644 << 16
            zf.writestr(info, buf.getvalue())


def save_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")
