"""What a dataset is: the built-in datasets' facts, a loaded dataset (images kept as uint8 ``(N, H, W, C)``, four
times smaller in caches, with integer labels), the names of students' own datasets (``user:NAME``), subsets.
:func:`to_float` is the one scaling to float32 in [0, 1] that training and prediction both use. Where a dataset
comes from is :mod:`cnn.dataset_sources`; the files it is read from, :mod:`cnn.dataset_files`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cnn.errors import LabError
from cnn.i18n import N_, Message, _, said


@dataclass(frozen=True)
class DatasetInfo:
    """What a dataset is: shape, classes and where the standard download lives."""

    name: str
    title: str
    image_shape: tuple[int, int, int]
    class_names: tuple[str, ...]
    url: str
    licence: str



DATASETS: dict[str, DatasetInfo] = {
    "mnist": DatasetInfo(
        "mnist", N_("MNIST (handwritten digits)"), (28, 28, 1), tuple(str(i) for i in range(10)),
        "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz",
        "MNIST by LeCun, Cortes and Burges, CC BY-SA 3.0"),
    "fashion_mnist": DatasetInfo(
        "fashion_mnist", N_("Fashion-MNIST (clothes)"), (28, 28, 1),
        (N_("T-shirt/top"), N_("Trouser"), N_("Pullover"), N_("Dress"), N_("Coat"),
         N_("Sandal"), N_("Shirt"), N_("Sneaker"), N_("Bag"), N_("Ankle boot")),
        "https://storage.googleapis.com/tensorflow/tf-keras-datasets/fashion-mnist/",
        "Fashion-MNIST by Zalando Research, MIT licence"),
    "cifar10": DatasetInfo(
        "cifar10", N_("CIFAR-10 (small photos)"), (32, 32, 3),
        (N_("airplane"), N_("automobile"), N_("bird"), N_("cat"), N_("deer"),
         N_("dog"), N_("frog"), N_("horse"), N_("ship"), N_("truck")),
        "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
        "CIFAR-10 by Krizhevsky (2009), free for research and teaching"),
}



class DatasetError(LabError):
    """A dataset could not be loaded; the message says which file and why."""



class DownloadError(DatasetError):
    """The standard download failed; ``offline`` when there was no connection at all (remembered a while)."""

    def __init__(self, message: str, offline: bool):
        super().__init__(message)
        self.offline = offline



@dataclass(frozen=True)
class Dataset:
    """Train and test images (uint8, N×H×W×C) with integer labels and where they came from."""

    name: str
    train_images: np.ndarray
    y_train: np.ndarray
    test_images: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    source: str
    is_sample: bool = False
    # why a better source was not used, or what to know about a student's classes: kept as data, because a loaded
    # dataset is cached for the whole server and each reader sees its note in their own language
    notes: tuple[Message, ...] = ()
    # its fingerprint once computed: copies (pickled: the page cache's, a worker's) keep it; dataclasses.replace does
    # not (a field outside __init__), so a dataset made from another with other arrays gets its own
    _digest: str = field(default="", init=False, repr=False, compare=False)

    @property
    def note(self) -> str:
        """The notes, in this thread's language ("" when there are none)."""
        return " ".join(said(n) for n in self.notes)

    @property
    def x_train(self) -> np.ndarray:
        """Training images as float32 in [0, 1] (computed on each access)."""
        return to_float(self.train_images)

    @property
    def x_test(self) -> np.ndarray:
        """Test images as float32 in [0, 1] (computed on each access)."""
        return to_float(self.test_images)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.train_images.shape[1:])  # type: ignore[return-value]

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def describe(self) -> str:
        """One line for the UI: source and image counts."""
        return _("{title}: {train:,} training and {test:,} test images from {source}", title=title(self.name),
                 train=len(self.train_images), test=len(self.test_images), source=source_text(self.source))



PREFIX = "user:"  # a student's own dataset is named user:NAME on every page and in the command line


def user_key(name: str) -> str:
    """The dataset name every page and the command line use for a student's dataset ``name``: ``user:NAME``."""
    return PREFIX + name


def is_user(dataset: str) -> bool:
    return isinstance(dataset, str) and dataset.startswith(PREFIX)


def user_name(dataset: str) -> str:
    """The student's name of a dataset key ``user:NAME`` (DatasetError for a key that is not one)."""
    if not is_user(dataset):
        raise DatasetError(_("'{dataset}' is not a dataset of your own (those are named {prefix}NAME).",
                             dataset=dataset, prefix=PREFIX))
    return dataset[len(PREFIX):]


def to_float(images: np.ndarray) -> np.ndarray:
    """uint8 images -> float32 in [0, 1]; the single scaling used by training and prediction."""
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images.astype(np.float32) / np.float32(255.0)
    return np.clip(images.astype(np.float32), 0.0, 1.0)



def to_float_tensor(images):
    """:func:`to_float` as TensorFlow ops, bit for bit, for the training pipeline: keeping the training set
    as uint8 and scaling each batch starts a run faster (a quarter of the bytes to hand to TensorFlow)."""
    import tensorflow as tf

    images = tf.convert_to_tensor(images)
    if images.dtype == tf.uint8:
        return tf.cast(images, tf.float32) / 255.0
    return tf.clip_by_value(tf.cast(images, tf.float32), 0.0, 1.0)



def title(name: str) -> str:
    """A dataset's name for people: "MNIST (handwritten digits)", "My data: shapes"."""
    if name in DATASETS:
        return _(DATASETS[name].title)
    return _("My data: {name}", name=user_name(name)) if is_user(name) else name



def class_titles(dataset: str, names) -> list[str]:
    """Class names for people: a built-in dataset's in the reader's language ("Sneaker": "Turnschuh"); those a
    student typed for her own data exactly as typed (a class named "Clear" is not the Clear button's word)."""
    return [_(str(n)) for n in names] if dataset in DATASETS else [str(n) for n in names]



def fingerprint(ds: Dataset) -> str:
    """A digest of a dataset's images, labels and class names: a training worker that has it already is sent only
    this. Computed once per loaded dataset (30-90 ms for MNIST, on every Train page run and press before), as
    datasets are never changed in place."""
    import hashlib

    if ds._digest:
        return ds._digest
    h = hashlib.sha1(repr((ds.name, tuple(ds.class_names), ds.train_images.shape, ds.test_images.shape)).encode(),
                     usedforsecurity=False)
    for a in (ds.train_images, ds.y_train, ds.test_images, ds.y_test):
        h.update(np.ascontiguousarray(a).data)
    object.__setattr__(ds, "_digest", h.hexdigest())  # a frozen dataclass: its one cached value
    return ds._digest



_SOURCES = {"local copy": N_("local copy ({path})"), "your own data": N_("your own data ({path})")}



def source_text(source: str) -> str:
    """A dataset's source (kept in English: the command line prints it) in the language of the page."""
    for start, text in _SOURCES.items():
        if source.startswith(start + " (") and source.endswith(")"):
            return _(text, path=source[len(start) + 2:-1])
    return _(source)



OTHER_SOURCES = (N_("keras.datasets download"), N_("bundled sample (offline)"))  # translated by source_text



def stratified_indices(labels: np.ndarray, per_class: int, seed: int = 0) -> np.ndarray:
    """Indices of ``per_class`` examples of each class, in a seeded random order."""
    rng = np.random.default_rng(seed)
    picks = [rng.permutation(np.flatnonzero(labels == c))[:per_class] for c in np.unique(labels)]
    return np.sort(np.concatenate(picks))



def subset(ds: Dataset, n_train: int | None = None, n_test: int | None = None, seed: int = 0) -> Dataset:
    """A smaller, class-balanced copy of a dataset (for lessons and quick experiments)."""
    def pick(labels: np.ndarray, n: int | None) -> np.ndarray:
        if n is None or n >= len(labels):
            return np.arange(len(labels))
        return stratified_indices(labels, max(1, n // ds.num_classes), seed)

    itr, ite = pick(ds.y_train, n_train), pick(ds.y_test, n_test)
    return Dataset(ds.name, ds.train_images[itr], ds.y_train[itr], ds.test_images[ite], ds.y_test[ite],
                   ds.class_names, ds.source, ds.is_sample)
