#!/usr/bin/python3
# Regenerates tests/fixtures/npy/: numpy-written files the C++ reader must decode, and broken ones it must reject.
"""Usage: /usr/bin/python3 scripts/make_npy_fixtures.py   (needs numpy; writes tests/fixtures/npy/)

Good files are named good_<f4|f8>_<le|be>_<c|f>_v<1|2|3>_<1d|2d|3d>.npy. Every good file holds
value(i) = (i - 7) * 0.25 at C-order flat index i, so tests/test_npy.cpp recomputes the expected
values from the shape alone; the values are exact in float32 and float64.
"""
import os
import struct
import sys

import numpy as np
from numpy.lib import format as npformat

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "npy")
SHAPES = {"1d": (5,), "2d": (3, 4), "3d": (2, 3, 4)}
VERSIONS = {"v1": (1, 0), "v2": (2, 0), "v3": (3, 0)}


def values(shape, dtype):
    return ((np.arange(int(np.prod(shape))) - 7) * 0.25).reshape(shape).astype(dtype)


def save(name, array, version=None, allow_pickle=False):
    with open(os.path.join(OUT, name), "wb") as f:
        npformat.write_array(f, array, version=version, allow_pickle=allow_pickle)


def save_raw(name, header, data=b"", version=(1, 0)):
    """Writes a header dict text verbatim (padded like numpy does), so broken headers can be made."""
    header = header.encode("latin1")
    len_format = "<H" if version[0] == 1 else "<I"
    preamble = len(npformat.MAGIC_PREFIX) + 2 + struct.calcsize(len_format)
    total = -(-(preamble + len(header) + 1) // 64) * 64
    header = header + b" " * (total - preamble - len(header) - 1) + b"\n"
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(npformat.MAGIC_PREFIX + bytes(version) + struct.pack(len_format, len(header)) + header + data)


def write_bytes(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def dict_text(descr, fortran_order, shape):
    return "{'descr': %r, 'fortran_order': %r, 'shape': %r, }" % (descr, fortran_order, tuple(shape))


def make_good():
    for dt in ("f4", "f8"):
        for endian, mark in (("le", "<"), ("be", ">")):
            dtype = np.dtype(mark + dt)
            for order in ("c", "f"):
                for vname, version in VERSIONS.items():
                    for rname, shape in SHAPES.items():
                        name = "good_%s_%s_%s_%s_%s.npy" % (dt, endian, order, vname, rname)
                        array = values(shape, dtype)
                        if order == "f" and len(shape) == 1:
                            # numpy never flags 1-D arrays as Fortran, but the flag is legal and must decode the same.
                            save_raw(name, dict_text(dtype.str, True, shape), array.tobytes(), version)
                            continue
                        if order == "f":
                            array = np.asfortranarray(array)
                        save(name, array, version)
    # '=' (host order) is legal in a descr though numpy normalizes it away when writing.
    save_raw("good_native_f4_2d.npy", dict_text("=f4", False, (3, 4)), values((3, 4), np.float32).tobytes())


def make_bad():
    good = values((2, 3), np.dtype("<f4"))
    path = os.path.join(OUT, "bad_base.tmp")
    save("bad_base.tmp", good)
    with open(path, "rb") as f:
        base = f.read()
    os.remove(path)

    write_bytes("bad_empty.npy", b"")
    write_bytes("bad_magic.npy", b"\x93NUMPZ" + base[6:])
    write_bytes("bad_version.npy", base[:6] + b"\x04\x00" + base[8:])
    write_bytes("bad_truncated_header.npy", base[:40])
    write_bytes("bad_truncated_data.npy", base[:-3])
    write_bytes("bad_trailing_bytes.npy", base + b"junk")
    # A version 2.0 header length of ~4 GiB in a tiny file: the reader must not allocate it.
    write_bytes("bad_header_len.npy", npformat.MAGIC_PREFIX + b"\x02\x00" + struct.pack("<I", 0xFFFFFF00) + b"{}")

    save("bad_int32.npy", np.arange(6, dtype=np.int32).reshape(2, 3))
    save("bad_complex.npy", np.arange(3, dtype=np.complex64))
    save("bad_object.npy", np.array([1, "a", None], dtype=object), allow_pickle=True)
    save("bad_structured.npy", np.zeros(2, dtype=[("a", "<f4"), ("b", "<i4")]))
    save("bad_float16.npy", np.arange(4, dtype=np.float16))
    save("bad_4d.npy", values((1, 2, 2, 2), np.float32))
    save("bad_scalar.npy", np.array(1.5, dtype=np.float32))
    save("bad_zero_dim.npy", np.zeros((2, 0, 3), dtype=np.float32))

    tiny = np.zeros(4, dtype="<f4").tobytes()
    save_raw("bad_huge_shape.npy", dict_text("<f4", False, (1, 1 << 40, 1 << 20)), tiny)
    save_raw("bad_overflow_shape.npy", dict_text("<f4", False, (1 << 40, 1 << 40, 1 << 40)), tiny)
    save_raw("bad_overflow_bytes.npy", dict_text("<f8", False, (1 << 61,)), tiny)
    save_raw("bad_dict_syntax.npy", "{'descr': '<f4' 'fortran_order': False, 'shape': (4,), }", tiny)
    save_raw("bad_dict_extra_key.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), 'x': 1, }", tiny)
    save_raw("bad_dict_missing_key.npy", "{'descr': '<f4', 'shape': (4,), }", tiny)
    save_raw("bad_dict_duplicate_key.npy", "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", tiny)
    save_raw("bad_dict_not_tuple.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (4), }", tiny)
    save_raw("bad_dict_order_value.npy", "{'descr': '<f4', 'fortran_order': 0, 'shape': (4,), }", tiny)
    save_raw("bad_dict_unterminated.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), ", tiny)
    save_raw("bad_negative_dim.npy", dict_text("<f4", False, (2, -2)), tiny)
    save_raw("bad_pipe_order.npy", dict_text("|f4", False, (4,)), tiny)

    nan = values((3, 4), np.float32)
    nan[1, 2] = np.nan
    save("bad_nan.npy", nan)
    # Fortran order: the message must give the C-order index [1, 0] (flat 3), not the file position (1).
    inf = np.asfortranarray(values((2, 3), np.float64))
    inf[1, 0] = np.inf
    save("bad_inf_fortran.npy", inf)
    big = values((4,), np.float64)
    big[3] = 1e300
    save("bad_f8_overflow.npy", big)


def main():
    os.makedirs(OUT, exist_ok=True)
    for name in os.listdir(OUT):
        if name.endswith(".npy"):
            os.remove(os.path.join(OUT, name))
    make_good()
    make_bad()
    total = sum(os.path.getsize(os.path.join(OUT, n)) for n in os.listdir(OUT))
    print("wrote %d files, %d bytes, to %s" % (len(os.listdir(OUT)), total, os.path.normpath(OUT)), file=sys.stderr)


if __name__ == "__main__":
    main()
