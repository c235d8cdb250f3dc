"""A run's batches: the validation split as Keras makes it, and the tf.data pipeline over images kept as stored."""
from __future__ import annotations

import numpy as np

from cnn.data import to_float_tensor


def split_validation(x: np.ndarray, y: np.ndarray, fraction: float):
    """Hold out the *last* fraction, exactly as Keras' ``validation_split`` does."""
    n_val = int(len(x) * fraction)
    if n_val == 0:
        return (x, y), None
    return (x[:-n_val], y[:-n_val]), (x[-n_val:], y[-n_val:])


def dataset_pipeline(images: np.ndarray, labels: np.ndarray, batch_size: int, seed: int, augmenter=None):
    """Training batches from images kept in memory as they are stored (uint8): the indices are reshuffled
    every epoch, each batch is gathered, scaled by :func:`cnn.data.to_float_tensor` and augmented. On the full
    MNIST this starts in 0.1-0.3 s where Keras' own adapter for float arrays took about 1 s, and at times
    seconds more to let go of its copies after the last batch (bench/README.md)."""
    import tensorflow as tf

    x, y = tf.constant(images), tf.constant(labels)

    @tf.autograph.experimental.do_not_convert  # plain ops: converting its source took 0.2 s on the first run
    def batch(indices):
        a = to_float_tensor(tf.gather(x, indices))
        return (augmenter(a, training=True, indices=indices) if augmenter is not None else a), tf.gather(y, indices)

    ds = tf.data.Dataset.range(len(images)).shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    # Augmented batches one at a time: the random layers draw from one generator, and batches made side by side
    # took its draws in no fixed order, so one seed gave different runs. Still made ahead of training (prefetch);
    # CIFAR small trained 428-455 photos/s this way, 440-444 side by side (bench/README.md).
    ds = ds.batch(batch_size).map(batch, num_parallel_calls=1 if augmenter is not None else tf.data.AUTOTUNE)
    return without_autotune(ds.prefetch(tf.data.AUTOTUNE))


def without_autotune(ds):
    """``ds`` with tf.data's autotuning model switched off. Its background thread often held up letting go
    of a finished epoch's iterator for 1.3-1.6 s: a one-epoch MNIST run took 6.6 s instead of 5.2 s, four epochs
    19-22 s instead of 16 s (bench/README.md). Without it the augmented CIFAR batches still come as fast: two
    epochs of CIFAR small took 76.3 s either way."""
    import tensorflow as tf

    options = tf.data.Options()
    options.autotune.enabled = False
    return ds.with_options(options)
