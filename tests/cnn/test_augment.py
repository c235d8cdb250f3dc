"""cnn.augment: the training augmentation, also what the Data page previews."""
import numpy as np

from cnn import augment
from cnn.augment import AugmentParams, augment_images, default_params


def test_augmentation_changes_images_but_not_their_shape_or_range(tiny):
    x = tiny.x_train[:8]
    out = augment_images(x, AugmentParams(20, 0.2, 0.2, False), seed=1)
    assert out.shape == x.shape and out.min() >= 0 and out.max() <= 1 and not np.allclose(out, x)
    np.testing.assert_allclose(augment_images(x, AugmentParams(0, 0, 0, False)), x)
    assert not default_params("mnist").flip and default_params("cifar10").flip


def test_shifts_move_whole_pixels_so_training_images_stay_sharp():
    """A bilinear move by a fraction of a pixel blurs; test images are never blurred that way."""
    x = np.random.default_rng(0).integers(0, 2, (16, 32, 32, 3)).astype(np.float32)
    out = augment_images(x, AugmentParams(0, 0.1, 0, True), seed=3)
    assert set(np.unique(out)) <= {0.0, 1.0} and not np.allclose(out, x)


def _reflect_moved(image, dy, dx):
    """``image`` moved by (dy, dx) whole pixels with its border reflected, as numpy pads: the reference."""
    h, w = image.shape[:2]
    padded = np.pad(image, ((h, h), (w, w), (0, 0)), mode="reflect")
    return padded[h + dy:2 * h + dy, w + dx:2 * w + dx]


def test_each_image_moves_its_own_way_by_up_to_the_shift_with_reflected_borders_and_mirrors_at_random():
    x = np.random.default_rng(0).random((64, 32, 32, 3)).astype(np.float32)
    out = augment.random_shifts(0.0625, flip=True, seed=5)(x).numpy()
    moves, mirrored = set(), 0
    for src, moved in zip(x, out, strict=True):
        found = [(dy, dx, m) for dy in range(-2, 3) for dx in range(-2, 3) for m in (False, True)
                 if np.array_equal(_reflect_moved(src[:, ::-1] if m else src, dy, -dx if m else dx), moved)]
        assert len(found) == 1  # exactly one move of at most 2 pixels (of 32) each way, as it is or mirrored
        moves.add(found[0][:2])
        mirrored += found[0][2]
    assert len(moves) >= 15 and 16 <= mirrored <= 48  # of 25 moves (the farthest least often); about half mirrored
    np.testing.assert_array_equal(out, augment.random_shifts(0.0625, True, seed=5)(x).numpy())  # same seed
    assert not np.array_equal(out, augment.random_shifts(0.0625, True, seed=6)(x).numpy())
    np.testing.assert_array_equal(augment.random_shifts(0.0625, True, seed=5)(x, training=False), x)


def test_reflection_folds_any_index_into_the_image_as_numpy_pads():
    index = np.arange(-40, 45)
    for size in (1, 2, 5, 28):
        expected = np.pad(np.arange(size), 45, mode="reflect")[index + 45] if size > 1 else np.zeros_like(index)
        np.testing.assert_array_equal(augment.reflected(index, size).numpy(), expected)


def test_digits_are_moved_without_being_mirrored():
    x = np.zeros((200, 28, 28, 1), np.float32)
    x[:, 10:18, 12:14] = 1.0  # a bar left of the centre
    out = augment_images(x, AugmentParams(0, 0.1, 0, False), seed=2)
    cols = out[..., 0].sum(axis=1).argmax(axis=1)
    assert set(cols) <= set(range(12 - 3, 12 + 4)) and len(set(cols)) == 7  # up to 3 of 28 pixels each way


def test_alternating_flips_mirror_a_random_half_first_then_each_image_every_other_epoch():
    n, batch = 1000, 250  # 4 batches per epoch
    flips = augment.AlternatingFlips(n, 4, seed=7)
    order = np.random.default_rng(0).permutation(n)  # each epoch's batches in any order of the images
    epochs = []
    for _ in range(3):
        mask = np.zeros(n, bool)
        for b in range(4):
            idx = order[b * batch:(b + 1) * batch]
            mask[idx] = flips(idx).numpy()
        epochs.append(mask)
    assert 450 <= epochs[0].sum() <= 550  # a random half
    np.testing.assert_array_equal(epochs[1], ~epochs[0])  # then every image the other way
    np.testing.assert_array_equal(epochs[2], epochs[0])
    later = augment.AlternatingFlips(n, 4, seed=7, first_epoch=1)  # a pipeline that starts at the second epoch
    np.testing.assert_array_equal(later(np.arange(n)).numpy(), ~epochs[0])


def test_shifts_mirror_the_images_alternating_flips_name_given_their_indices():
    x = np.random.default_rng(0).random((8, 32, 32, 3)).astype(np.float32)
    indices = np.arange(8)
    flips = augment.AlternatingFlips(8, 1, seed=3)
    expected = [flips.first.numpy(), ~flips.first.numpy()]
    move = augment.random_shifts(0.0, True, seed=1, flips=flips)
    for epoch in range(2):
        out = move(x, indices=indices).numpy()
        np.testing.assert_array_equal(out, np.where(expected[epoch][:, None, None, None], x[:, :, ::-1], x))
