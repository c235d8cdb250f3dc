"""A student's dataset as a .zip of class folders, one folder per class (the layout Keras'
``image_dataset_from_directory`` reads): export one, read one safely (sizes, counts, paths and zip bombs checked
before anything is decoded) and import it as a new dataset."""
from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

import numpy as np

from cnn import preprocess, userdata
from cnn.i18n import _
from cnn.userdata import UserDataError, UserDataset

MAX_ZIP_BYTES = 100 * 2**20  # the upload limit


MAX_ZIP_FILES = 5_000


MAX_ZIP_TOTAL = 400 * 2**20  # uncompressed, all entries together


MAX_ENTRY_BYTES = preprocess.MAX_UPLOAD_BYTES  # one image


MAX_RATIO = 200  # uncompressed / compressed size of one entry: beyond this it is a zip bomb


IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff"}



def export_zip(name: str) -> bytes:
    """The dataset as a .zip of class folders of PNGs plus dataset.json (re-importable, and readable by
    ``keras.utils.image_dataset_from_directory``)."""
    ds = userdata.get(name)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(f"{ds.name}/dataset.json", json.dumps({"name": ds.name, "classes": list(ds.classes),
                                                          "image_shape": list(ds.image_shape), "format": 1}, indent=1))
        for c in ds.classes:
            for example_id, raw in userdata.example_pngs(ds.name, c):
                z.writestr(f"{ds.name}/{c}/{example_id}.png", raw)
    return buf.getvalue()



@dataclass
class ZipContents:
    """What a zip holds, checked: examples per class (in the dataset's shape), and what was skipped and why."""

    classes: dict[str, list[np.ndarray]]
    image_shape: tuple[int, int, int]
    skipped: list[str]



def _safe_parts(name: str) -> tuple[str, ...]:
    """The path parts of a zip entry, or UserDataError for a path that could leave the folder."""
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or "\\" in name:
        raise UserDataError(_("The zip holds a file with an absolute or Windows path ('{name}'); refused, as it "
                              "could be written outside the data folder.", name=name[:80]))
    parts = PurePosixPath(name).parts
    if any(p in ("..", ".") for p in parts):
        raise UserDataError(_("The zip holds a path that climbs out of its folder ('{name}'); refused.",
                              name=name[:80]))
    return parts



def _read_entry(z: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """An entry's bytes, never more than the limit, whatever its header claims."""
    with z.open(info) as f:
        raw = f.read(MAX_ENTRY_BYTES + 1)
    if len(raw) > MAX_ENTRY_BYTES:
        raise UserDataError(_("'{filename}' unpacks to more than {max_entry_bytes} MB (a zip bomb?); refused.",
                              filename=info.filename[:80], max_entry_bytes=MAX_ENTRY_BYTES // 2**20))
    return raw



def read_zip(raw: bytes, image_shape: tuple[int, int, int] | None = None) -> ZipContents:
    """Read a zip of class folders (``cats/1.png``, ``dogs/2.jpg``; one wrapping folder allowed; files in
    deeper folders count for their class folder, as Keras reads them). Everything is checked before a
    byte is decoded; the images are decoded in memory, never unpacked to disk."""
    if len(raw) > MAX_ZIP_BYTES:
        raise UserDataError(_("The zip is {n_raw:.0f} MB; the limit is {max_zip_bytes} MB.",
                              n_raw=len(raw) / 2**20, max_zip_bytes=MAX_ZIP_BYTES // 2**20))
    try:
        z = zipfile.ZipFile(io.BytesIO(raw))
        infos = z.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise UserDataError(_("This file is not a readable .zip archive.")) from None
    files = [i for i in infos if not i.is_dir()]
    if len(files) > MAX_ZIP_FILES:
        raise UserDataError(_("The zip holds {n_files:,} files; the limit is {max_zip_files:,}.",
                              n_files=len(files), max_zip_files=MAX_ZIP_FILES))
    if sum(i.file_size for i in files) > MAX_ZIP_TOTAL:
        raise UserDataError(_("The zip unpacks to {sum:,.0f} MB; the limit is {max_zip_total} MB (a zip bomb?).",
                              sum=sum(i.file_size for i in files) / 2**20, max_zip_total=MAX_ZIP_TOTAL // 2**20))
    entries = []
    for info in files:
        parts = _safe_parts(info.filename)
        if info.file_size > MAX_ENTRY_BYTES or (info.compress_size and info.file_size > 2**20
                                                and info.file_size / info.compress_size > MAX_RATIO):
            raise UserDataError(_("'{file}' unpacks to {mb:.0f} MB from {size:,} bytes (a zip bomb?); refused.",
                                  file=info.filename[:80], mb=info.file_size / 2**20, size=info.compress_size))
        if any(p.startswith(".") or p == "__MACOSX" for p in parts) or parts[-1] in ("Thumbs.db", "desktop.ini"):
            continue  # system litter, silently
        entries.append((parts, info))
    meta: dict[str, Any] = {}
    tops = {parts[0] for parts, _ in entries}
    if (len(tops) == 1 and all(len(parts) > 1 for parts, _ in entries)
            and any(len(parts) > 2 for parts, _ in entries)):  # one folder wrapping class folders: look inside
        entries = [(parts[1:], info) for parts, info in entries]
    for parts, info in entries:
        if parts == ("dataset.json",):
            try:
                meta = json.loads(_read_entry(z, info))
            except (ValueError, UnicodeDecodeError):
                meta = {}
    shape = image_shape or _shape_from(meta) or (28, 28, 1)
    classes: dict[str, list[np.ndarray]] = {}
    order = [c for c in meta.get("classes", []) if isinstance(c, str)] if isinstance(meta, dict) else []
    skipped: list[str] = []
    for parts, info in sorted(entries, key=lambda e: e[0]):
        if parts == ("dataset.json",):
            continue
        if len(parts) < 2:
            skipped.append(f"{'/'.join(parts)}: not inside a class folder")
            continue
        if PurePosixPath(parts[-1]).suffix.lower() not in IMAGE_SUFFIXES:
            skipped.append(f"{'/'.join(parts)}: not an image file")
            continue
        try:
            img = preprocess.open_image(_read_entry(z, info))
            classes.setdefault(parts[0], []).append(userdata.prepare(img, shape))
        except preprocess.ImageError as e:
            skipped.append(f"{'/'.join(parts)}: {e}")
    if not classes:
        raise UserDataError(_("The zip holds no images in class folders. Put each class's images in a folder named "
                              "after the class (cats/…, dogs/…) and zip those folders."))
    names = userdata.validate_classes(list(classes))  # the folder names: 2-20, valid, none alike
    ordered = [c for c in order if c in classes] + [c for c in names if c not in order]
    total = sum(len(v) for v in classes.values())
    if total > userdata.MAX_IMAGES:
        raise UserDataError(_("The zip holds {total:,} images; a dataset may hold at most {max_images:,}.",
                              total=total, max_images=userdata.MAX_IMAGES))
    return ZipContents({c: classes[c] for c in ordered}, tuple(shape), skipped)



def _shape_from(meta: Any) -> tuple[int, int, int] | None:
    try:
        shape = tuple(int(x) for x in meta["image_shape"])
    except (KeyError, TypeError, ValueError):
        return None
    return shape if shape in userdata.SIZES.values() else None



def import_zip(name: str, raw: bytes, image_shape: tuple[int, int, int] | None = None, owner: str = "",
               owner_name: str = "") -> tuple[UserDataset, list[str]]:
    """A new dataset from a zip of class folders (see :func:`read_zip`): (the dataset, what was skipped)."""
    name = userdata.validate_name(name)
    if name in {d.name for d in userdata.list_datasets()}:
        raise UserDataError(_("A dataset named '{name}' already exists. Choose another name.", name=name))
    contents = read_zip(raw, image_shape)
    ds = userdata.create(name, list(contents.classes), contents.image_shape, owner, owner_name)
    for c, images in contents.classes.items():
        userdata.add_images(name, c, images)
    return userdata.get(ds.name), contents.skipped

