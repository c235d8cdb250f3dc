"""cnn.userdata: a student's own datasets, stored, split, zipped and unzipped, with every bad input refused."""
import io
import zipfile

import numpy as np
import pytest
from PIL import Image, ImageDraw

from cnn import data, dataset_sources, store, userdata, userdata_split, userdata_zip


@pytest.fixture(autouse=True)
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv("CNN_USER_DATA_DIR", str(tmp_path / "user"))
    return tmp_path / "user"


def shape_image(kind: str, seed: int, size: int = 120, mode: str = "L") -> Image.Image:
    """A drawn circle, triangle or square, white on black, varied a little by ``seed``."""
    rng = np.random.default_rng(seed)
    img = Image.new(mode, (size, size), 0)
    d = ImageDraw.Draw(img)
    m = int(rng.integers(10, 30))
    fill = 255 if mode == "L" else (255, 255, 255)
    if kind == "circle":
        d.ellipse([m, m, size - m, size - m], outline=fill, width=8)
    elif kind == "square":
        d.rectangle([m, m, size - m, size - m], outline=fill, width=8)
    else:
        d.polygon([(size // 2, m), (m, size - m), (size - m, size - m)], outline=fill, width=8)
    return img


def png(img: Image.Image, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    return buf.getvalue()


def make_zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in files.items():
            z.writestr(name, content)
    return buf.getvalue()


def shapes_zip(per_class: int = 4, prefix: str = "") -> bytes:
    return make_zip({f"{prefix}{k}/{i}.png": png(shape_image(k, i)) for k in ("circle", "square", "triangle")
                     for i in range(per_class)})


def test_create_add_split_load_export_import_round_trip(folder):
    ds = userdata.create("shapes", ["circle", "square", "triangle"], (28, 28, 1), owner="ada", owner_name="Ada")
    for k in ds.classes:
        added, problems = userdata.add_files("shapes", k, [(f"{k}{i}.png", png(shape_image(k, i))) for i in range(6)])
        assert added == 6 and problems == []
    ds = userdata.get("shapes")
    assert ds.counts == (6, 6, 6) and ds.describe().startswith("3 classes, 18 examples, 28×28 grey, by Ada")
    loaded = dataset_sources.load_dataset("user:shapes")
    assert loaded.class_names == ("circle", "square", "triangle") and loaded.image_shape == (28, 28, 1)
    assert len(loaded.test_images) == 3 * 1 and len(loaded.train_images) == 15  # one in five, at least one each
    assert sorted(np.bincount(loaded.y_test)) == [1, 1, 1]
    assert data.title("user:shapes") == "My data: shapes" and "user:shapes" in dataset_sources.dataset_names()
    raw = userdata_zip.export_zip("shapes")
    copy, skipped = userdata_zip.import_zip("shapes2", raw)
    assert skipped == [] and copy.classes == ds.classes and copy.counts == ds.counts
    for k in ds.classes:
        a = sorted(x.tobytes() for _, x in userdata.examples("shapes", k))
        b = sorted(x.tobytes() for _, x in userdata.examples("shapes2", k))
        assert a == b
    with zipfile.ZipFile(io.BytesIO(raw)) as z:  # the layout Keras' image_dataset_from_directory reads
        assert {n.split("/")[1] for n in z.namelist() if n.endswith(".png")} == {"circle", "square", "triangle"}


def test_the_split_is_stratified_stable_and_says_when_a_class_is_too_small(folder):
    userdata.create("tiny", ["a", "b", "c"], (28, 28, 1))
    userdata.add_files("tiny", "a", [(f"{i}.png", png(shape_image("circle", i))) for i in range(10)])
    userdata.add_files("tiny", "b", [(f"{i}.png", png(shape_image("square", i))) for i in range(2)])
    userdata.add_files("tiny", "c", [("0.png", png(shape_image("triangle", 0)))])
    first = userdata_split.split("tiny")
    assert np.bincount(first.y_test, minlength=3).tolist() == [2, 1, 0]
    assert np.bincount(first.y_train, minlength=3).tolist() == [8, 1, 1]
    assert any("Class 'c' has only 1 example" in str(n) for n in first.notes)
    assert userdata_split.split("tiny").x_test.tobytes() == first.x_test.tobytes(), "the same examples, the same split"
    userdata.add_files("tiny", "a", [(f"n{i}.png", png(shape_image("circle", 100 + i))) for i in range(10)])
    again = userdata_split.split("tiny")
    # Each example's side comes from its id alone: an old test example stays in the test set unless at least as many
    # new examples as the class now tests outrank it (with random ids a new one sometimes does; it never shuffles).
    ranked = sorted(userdata.examples("tiny", "a"), key=lambda item: userdata_split._test_rank(item[0]))
    tested_a = sorted(x.tobytes() for x, y in zip(again.x_test, again.y_test, strict=True) if y == 0)
    assert tested_a == sorted(x.tobytes() for _, x in ranked[:4]), "class a tests its 4 best-ranked examples"
    assert "only 1 example" in dataset_sources.load_dataset("user:tiny").note


def test_an_empty_dataset_cannot_train(folder):
    userdata.create("empty", ["x", "y"], (28, 28, 1))
    with pytest.raises(data.DatasetError, match="no examples yet"):
        dataset_sources.load_dataset("user:empty")


@pytest.mark.parametrize("name,classes,message", [
    ("bad name", ["a", "b"], "not a valid dataset name"), ("../escape", ["a", "b"], "not a valid dataset name"),
    (".hidden", ["a", "b"], "not a valid dataset name"), ("ok", ["a"], "at least 2 classes"),
    ("ok", [str(i) for i in range(21)], "at most 20 classes"), ("ok", ["Cat", "cat"], "named alike"),
    ("ok", ["a", "<b>"], "Class name '<b>'"), ("ok", ["a", "x" * 31], "1-30 letters"),
])
def test_bad_names_are_refused(folder, name, classes, message):
    with pytest.raises(userdata.UserDataError, match=message):
        userdata.create(name, classes, (28, 28, 1))
    assert not any(p for p in folder.parent.rglob("*") if p.is_file()), "nothing written"


def test_a_zip_with_one_wrapping_folder_and_nested_folders_reads_like_keras(folder):
    raw = make_zip({**{f"photos/cats/{i}.png": png(shape_image("circle", i, mode="RGB")) for i in range(3)},
                    "photos/dogs/puppies/1.png": png(shape_image("square", 1, mode="RGB")),
                    "photos/dogs/2.jpg": png(shape_image("square", 2, mode="RGB"), "JPEG"),
                    "photos/readme.txt": b"hello", "photos/dogs/notes.txt": b"hi",
                    "__MACOSX/photos/._cats": b"junk", "photos/.DS_Store": b"junk"})
    contents = userdata_zip.read_zip(raw, (32, 32, 3))
    assert {k: len(v) for k, v in contents.classes.items()} == {"cats": 3, "dogs": 2}
    assert all(x.shape == (32, 32, 3) and x.dtype == np.uint8 for v in contents.classes.values() for x in v)
    assert sorted(contents.skipped) == ["dogs/notes.txt: not an image file", "readme.txt: not inside a class folder"]


def test_mixed_image_modes_and_sizes_are_converted(folder):
    files = {"a/grey.png": png(Image.new("L", (50, 20), 200)), "a/rgba.png": png(Image.new("RGBA", (300, 300))),
             "a/palette.gif": png(Image.new("P", (64, 64)), "GIF"), "b/big.jpg": png(Image.new("RGB", (800, 600),
                                                                                                  (9, 9, 9)), "JPEG"),
             "b/bad.png": b"not really a png"}
    contents = userdata_zip.read_zip(make_zip(files), (64, 64, 3))
    assert [len(v) for v in contents.classes.values()] == [3, 1]
    assert all(x.shape == (64, 64, 3) for v in contents.classes.values() for x in v)
    assert contents.skipped == ["b/bad.png: This file is not an image CNN Lab can read: use a PNG, JPEG, GIF, BMP, "
                                "WebP or TIFF file."]


@pytest.mark.parametrize("entries,message", [
    ({"/etc/cats/x.png": b"x", "dogs/y.png": b"y"}, "absolute"),
    ({"cats/../../outside.png": b"x", "dogs/y.png": b"y"}, "climbs out"),
    ({"cats\\..\\x.png": b"x", "dogs/y.png": b"y"}, "Windows path"),
    ({"C:/cats/x.png": b"x", "dogs/y.png": b"y"}, "absolute"),
    ({"Cats/x.png": None, "cats/y.png": None}, "named alike"),
    ({"only/x.png": None}, "at least 2 classes"),
    ({"readme.txt": b"nothing here"}, "no images in class folders"),
    ({}, "no images in class folders"),
])
def test_bad_zips_are_refused_with_a_reason(folder, entries, message):
    files = {k: (v if v is not None else png(shape_image("circle", 0))) for k, v in entries.items()}
    with pytest.raises(userdata.UserDataError, match=message):
        userdata_zip.import_zip("fromzip", make_zip(files))
    assert not (folder / "fromzip").exists()
    assert not (folder.parent / "outside.png").exists() and not any(folder.parent.rglob("outside.png"))


def test_zip_bombs_and_floods_are_refused_before_anything_is_decoded(folder, monkeypatch):
    bomb = make_zip({"cats/bomb.png": b"\0" * (5 * 2**20), "dogs/x.png": png(shape_image("square", 0))})
    with pytest.raises(userdata.UserDataError, match="zip bomb"):
        userdata_zip.read_zip(bomb)
    monkeypatch.setattr(userdata_zip, "MAX_ZIP_FILES", 5)
    with pytest.raises(userdata.UserDataError, match="holds 12 files; the limit is 5"):
        userdata_zip.read_zip(shapes_zip(4))
    monkeypatch.setattr(userdata_zip, "MAX_ZIP_FILES", 5000)
    monkeypatch.setattr(userdata_zip, "MAX_ZIP_TOTAL", 1000)
    with pytest.raises(userdata.UserDataError, match="unpacks to"):
        userdata_zip.read_zip(shapes_zip(4))
    with pytest.raises(userdata.UserDataError, match=r"not a readable \.zip"):
        userdata_zip.read_zip(b"PK\x03\x04 but not really")
    monkeypatch.setattr(userdata_zip, "MAX_ZIP_BYTES", 100)
    with pytest.raises(userdata.UserDataError, match="the limit is"):
        userdata_zip.read_zip(shapes_zip(1))


def test_huge_images_are_refused_by_their_header(folder):
    import struct
    import zlib

    def chunk(kind, payload):
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    huge = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 60000, 60000, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 10)) + chunk(b"IEND", b""))
    contents = userdata_zip.read_zip(make_zip({"a/huge.png": huge, "a/ok.png": png(shape_image("circle", 1)),
                                           "b/ok.png": png(shape_image("square", 1))}))
    assert any("too large" in s for s in contents.skipped)


def test_only_the_owner_or_the_teacher_may_change_a_dataset(folder):
    userdata.create("adas", ["a", "b"], (28, 28, 1), owner="ada")
    img = userdata.prepare(shape_image("circle", 0), (28, 28, 1))
    bob, ada, teacher = store.Actor("bob"), store.Actor("ada"), store.Actor(teacher=True)
    with pytest.raises(userdata.UserDataError, match="datasets you made"):
        userdata.add_images("adas", "a", [img], actor=bob)
    userdata.add_images("adas", "a", [img], actor=ada)
    example_id = userdata.examples("adas", "a")[0][0]
    with pytest.raises(userdata.UserDataError, match="datasets you made"):
        userdata.remove_example("adas", "a", example_id, actor=bob)
    with pytest.raises(userdata.UserDataError, match="datasets you made"):
        userdata.delete("adas", actor=bob)
    userdata.remove_example("adas", "a", example_id, actor=ada)
    assert userdata.get("adas").counts == (0, 0)
    userdata.delete("adas", actor=teacher)
    assert userdata.list_datasets() == []


def test_a_damaged_dataset_is_skipped_in_listings_and_named_when_opened(folder):
    from cnn import db

    userdata.create("good", ["a", "b"], (28, 28, 1))
    db.database().execute("INSERT INTO datasets (name, classes, image_shape, updated) VALUES ('broken', '{not json', "
                          "'[28, 28, 1]', 0)")
    assert [d.name for d in userdata.list_datasets()] == ["good"]
    with pytest.raises(data.DatasetError, match="damaged description"):
        dataset_sources.load_dataset("user:broken")
    with pytest.raises(data.DatasetError, match="No dataset named 'nothing'"):
        dataset_sources.load_dataset("user:nothing")


def test_dataset_folders_of_earlier_versions_join_the_class_database_once(folder, tmp_path):
    """Before the database held them, datasets were folders: each is imported with its examples (ids kept); a
    damaged or half-made folder is left alone; the folder is not needed afterwards."""
    import shutil

    (folder / "shapes" / "circle").mkdir(parents=True)
    (folder / "shapes" / "square").mkdir()
    (folder / "shapes" / "dataset.json").write_text('{"name": "shapes", "classes": ["circle", "square"], '
                                                    '"image_shape": [28, 28, 1], "owner": "o1", "owner_name": "Ana"}')
    circle = np.asarray(shape_image("circle", 1).resize((28, 28)), np.uint8)[..., None]
    Image.fromarray(circle[..., 0]).save(folder / "shapes" / "circle" / "0123456789abcdef.png")
    Image.fromarray(circle[..., 0]).save(folder / "shapes" / "square" / "fedcba9876543210.png")
    (folder / "broken").mkdir()
    (folder / "broken" / "dataset.json").write_text("{not json")
    (folder / ".tmp-half-made").mkdir()
    [ds] = userdata.list_datasets()
    assert (ds.name, ds.counts, ds.owner_name) == ("shapes", (1, 1), "Ana")
    [(example_id, image)] = userdata.examples("shapes", "circle")
    assert example_id == "0123456789abcdef" and np.array_equal(image, circle)
    shutil.rmtree(folder)
    assert userdata.get("shapes").counts == (1, 1)  # the database has them now


def test_a_dataset_without_a_name_is_asked_for_one_in_the_readers_words():
    """My data said "Gib dem Modell einen Namen" (give the model a name) for a dataset: the English word "model" was
    swapped afterwards, which no other language saw."""
    from cnn import i18n

    i18n.set_language("de")
    try:
        with pytest.raises(userdata.UserDataError, match=r"^Gib dem Datensatz einen Namen"):
            userdata.validate_name("  ")
        with pytest.raises(userdata.UserDataError, match="kein gültiger Name für einen Datensatz"):
            userdata.validate_name("a b")
    finally:
        i18n.set_language(i18n.DEFAULT)
    with pytest.raises(userdata.UserDataError, match="not a valid dataset name"):
        userdata.validate_name("a/b")
