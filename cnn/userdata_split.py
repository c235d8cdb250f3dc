"""How a student's examples become training and test arrays: a stratified split that stays put as examples are
added (each example's place comes from its id), with notes on classes too small to split."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from cnn import userdata
from cnn.i18n import M_, Message, _
from cnn.userdata import UserDataError

TEST_SHARE = 5  # one image in five is held out for testing (at least one per class)


def _test_rank(example_id: str) -> int:
    """A stable pseudo-random number per example: the split does not move when examples are added."""
    return int(hashlib.sha1(example_id.encode()).hexdigest()[:8], 16)


@dataclass(frozen=True)
class Split:
    """Arrays for training and testing, and notes on classes too small to split."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    notes: tuple[Message, ...]  # said in the reader's language when shown


def split(name: str) -> Split:
    """A stratified split: one example in five of each class is held out for testing, at least one per class
    with two or more examples (a class with one example trains only, and a note says so)."""
    ds = userdata.get(name)
    if ds.total == 0:
        raise UserDataError(_("'{name}' has no examples yet: add some on the My data page.", name=name))
    train, test, notes = [], [], []
    for k, c in enumerate(ds.classes):
        items = userdata.examples(name, c)
        if not items:
            notes.append(M_("Class '{name}' has no examples: the model can never predict it. Add some.", name=c))
            continue
        if len(items) == 1:
            notes.append(M_("Class '{name}' has only 1 example: it is used for training only, so it is never tested. "
                            "Add more (10 or more per class work well).", name=c))
            train += [(arr, k) for _, arr in items]
            continue
        ranked = sorted(items, key=lambda item: _test_rank(item[0]))
        n_test = min(len(items) - 1, max(1, round(len(items) / TEST_SHARE)))
        test += [(arr, k) for _, arr in ranked[:n_test]]
        train += [(arr, k) for _, arr in ranked[n_test:]]
    if not test:
        raise UserDataError(_("'{name}' has too few examples to test on: add at least 2 to some class.", name=name))
    if len({k for _, k in train}) < 2:
        raise UserDataError(_("'{name}' needs examples in at least 2 classes to learn anything.", name=name))

    def stack(items):
        return (np.stack([a for a, _ in items]).astype(np.uint8), np.array([k for _, k in items], np.int64))

    (xtr, ytr), (xte, yte) = stack(train), stack(test)
    order = np.random.default_rng(0).permutation(len(xtr))  # classes interleaved (validation split takes the end)
    return Split(xtr[order], ytr[order], xte, yte, tuple(notes))
