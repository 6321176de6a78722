"""Writes the seed corpus of every libFuzzer target (native/test/fuzz_*.cpp) from the regression
fixtures: test/fixtures/checkpoints (files written by real torch 1.13) and
test/fixtures/pickles/cases.json (CPython's pickler at protocols 0-5).

Run: /usr/bin/python3 scripts/fuzz-seeds.py OUT_DIR   -> OUT_DIR/<target>/<seed files>
"""
import io
import json
import os
import pickle
import struct
import sys
import warnings
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CKPT = os.path.join(ROOT, "test", "fixtures", "checkpoints")
MAX_SEED = 64 * 1024  # libFuzzer's speed falls with input size: whole small files only


def write(out, target, name, data):
    folder = os.path.join(out, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name.replace("/", "_")), "wb") as f:
        f.write(data)


def small_safetensors(tensors, metadata=None, laid_out=False):
    header, offset, data = {}, 0, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, nbytes in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
        data += b"\0" * nbytes
    if laid_out:  # as safetensors' writer lays it out: no spaces, padded with spaces to 8 bytes
        text = json.dumps(header, separators=(",", ":")).encode()
        text += b" " * (-len(text) % 8)
    else:
        text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


def main(out):
    files = []
    for dirpath, _, names in os.walk(CKPT):
        files += [os.path.join(dirpath, n) for n in sorted(names)]
    for path in files:
        rel = os.path.relpath(path, CKPT)
        with open(path, "rb") as f:
            data = f.read()
        if len(data) <= MAX_SEED:
            write(out, "checkpoint", rel, data)
            if data.startswith(b"PK"):
                write(out, "zip", rel, data)
        if path.endswith(".metadata"):
            write(out, "dcp", rel, data)
            write(out, "pickle", rel, data)
        if path.endswith(".json"):
            write(out, "json", rel, data)
        if path.endswith(".index.json"):
            write(out, "index", rel, data)
        if data.startswith(b"PK") and zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as z:
                for info in z.infolist():
                    if info.filename.endswith(".pkl") and info.file_size <= MAX_SEED:
                        write(out, "pickle", rel + "_" + info.filename, z.read(info))
        if path.endswith(".safetensors") and len(data) >= 8:
            (n,) = struct.unpack("<Q", data[:8])
            header = data[8 : 8 + n]
            write(out, "json", rel + ".header", header)
            # The same header with its data cut to nothing keeps the seed small.
            if len(data) <= MAX_SEED:
                write(out, "safetensors", rel, data)
            tensors = json.loads(header)
            tensors.pop("__metadata__", None)
            first = sorted(tensors.items(), key=lambda kv: kv[1]["data_offsets"][0])[:3]
            rebuilt = [(k, v["dtype"], v["shape"], v["data_offsets"][1] - v["data_offsets"][0]) for k, v in first]
            fits = all(nbytes <= 4096 for *_, nbytes in rebuilt)
            if fits:
                write(out, "safetensors", rel + ".first3", small_safetensors(rebuilt, {"format": "pt"}))
                write(out, "safetensors", rel + ".first3.laid_out", small_safetensors(rebuilt, {"format": "pt"}, True))
    cases = json.load(open(os.path.join(ROOT, "test", "fixtures", "pickles", "cases.json")))["cases"]
    for i, case in enumerate(cases):
        write(out, "pickle", "case%03d" % i, bytes.fromhex(case["hex"]))
    write(out, "safetensors", "dtypes", small_safetensors(
        [("a", "F32", [2, 2], 16), ("b", "BF16", [3], 6), ("c", "BOOL", [1], 1), ("d", "F8_E4M3", [4], 4),
         ("e", "F4", [2], 1), ("f", "I64", [], 8)], {"k": "v"}))
    write(out, "safetensors", "dtypes.laid_out", small_safetensors(
        [("a", "F32", [2, 2], 16), ("b", "BF16", [3], 6), ("c", "BOOL", [1], 1), ("d", "F8_E4M3", [4], 4),
         ("e", "F4", [2], 1), ("f", "I64", [], 8)], {"k": "v"}, True))
    write(out, "safetensors", "empty", small_safetensors([]))
    # A header that starts with whitespace (the reference's own test, and one with tensors).
    write(out, "safetensors", "leading_whitespace", b"\x06\x00\x00\x00\x00\x00\x00\x00\x09\x0A{}\x0D\x20")
    padded = small_safetensors([("a", "F32", [2], 8), ("b", "U8", [3], 3)], {"k": "v"}, True)
    (n,) = struct.unpack("<Q", padded[:8])
    write(out, "safetensors", "leading_whitespace_tensors", struct.pack("<Q", n + 5) + b" \t\r\n " + padded[8:])
    # Pickles of the inert calls: an enum member through getattr, functools.partial, a legacy
    # module id, a DCP enum by value and a pathlib path.
    for name, text in [
        ("getattr_enum", b"\x80\x02cbuiltins\ngetattr\ncmymod\nColor\nX\x03\x00\x00\x00REDq\x00\x86R."),
        ("partial", b"\x80\x02cfunctools\npartial\nctorch.nn.modules.normalization\nLayerNorm\n\x85R}X\x03\x00\x00\x00epsG?\x84z\xe1G\xae\x14{sb."),
        ("legacy_module_id", b"\x80\x02(X\x06\x00\x00\x00modulecmymod\nNet\nX\x06\x00\x00\x00net.pyX\x00\x00\x00\x00tQ)\x81}b."),
        ("dcp_enum_by_value", b"\x80\x04ctorch.distributed.checkpoint.metadata\n_MEM_FORMAT_ENCODING\nK\x00\x85R."),
        ("pathlib", b"\x80\x04cpathlib\nPosixPath\nX\x01\x00\x00\x00/X\x04\x00\x00\x00ckpt\x86R."),
    ]:
        write(out, "pickle", name, text)
    # Zip archives whose entry names repeat: two data.pkl, data.pkl under two folders.
    state_dict = pickle.dumps({}, protocol=2)
    for name, entries in [("duplicate_data_pkl", ["archive/data.pkl", "archive/data.pkl"]),
                          ("data_pkl_in_two_folders", ["a/data.pkl", "b/data.pkl"])]:
        buffer = io.BytesIO()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zipfile warns of the duplicate name it writes
            with zipfile.ZipFile(buffer, "w") as z:
                for entry in entries:
                    z.writestr(entry, state_dict)
        write(out, "zip", name, buffer.getvalue())
        write(out, "checkpoint", name, buffer.getvalue())
    write(out, "json", "numbers", b'[0,-1,1.5e300,-0.0,12345678901234567890,"\\u00e9\\ud83d\\ude00",true,false,null,{"a":{}}]')
    write(out, "index", "minimal", json.dumps({"metadata": {"total_size": 8}, "weight_map": {"a": "x.safetensors", "b": "y.safetensors"}}).encode())


if __name__ == "__main__":
    main(sys.argv[1])
