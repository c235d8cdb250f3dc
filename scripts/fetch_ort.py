"""Put ONNX Runtime Web (the Draw page's in-browser runtime) in static/ort, once, from the npm registry.

    python scripts/fetch_ort.py

Downloads the pinned onnxruntime-web package (no Node.js needed), checks it against its published sha512, and
keeps only the three files the app serves. Does nothing when they are already there. The app runs offline
afterwards; without them the Draw page reads drawings on the server and says so.
"""
from __future__ import annotations

import base64
import hashlib
import io
import sys
import tarfile
import urllib.request
from pathlib import Path

VERSION = "1.30.0"
URL = f"https://registry.npmjs.org/onnxruntime-web/-/onnxruntime-web-{VERSION}.tgz"
SHA512 = "q0y+JrrtukXSzsBWEMccVfqX25LRmosXHF+CaRJmg8pZClzcV7svNc4rKY3jL02Vb7QmRMDs1SigqR4CXAfKYQ=="
FILES = ("ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm")
TARGET = Path(__file__).resolve().parent.parent / "static" / "ort"


def main() -> int:
    if all((TARGET / name).is_file() for name in FILES):
        return 0
    try:
        with urllib.request.urlopen(URL, timeout=120) as response:
            data = response.read()
    except OSError as e:
        print(f"error: cannot download {URL} ({e})", file=sys.stderr)
        return 1
    if base64.b64encode(hashlib.sha512(data).digest()).decode() != SHA512:
        print(f"error: {URL} does not match its published sha512", file=sys.stderr)
        return 1
    TARGET.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for name in FILES:
            member = tar.extractfile(f"package/dist/{name}")
            if member is None:
                print(f"error: {name} is missing from onnxruntime-web {VERSION}", file=sys.stderr)
                return 1
            part = TARGET / f".{name}.part"
            part.write_bytes(member.read())
            part.replace(TARGET / name)
    print(f"ONNX Runtime Web {VERSION} in {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
