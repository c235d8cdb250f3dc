"""The optimizer a run's config names, with its learning-rate schedule, and a model compiled with it."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from cnn.hyperparams import OPTIMIZERS, SCHEDULES
from cnn.i18n import _
from cnn.run_config import TrainConfig, TrainingError


def make_optimizer(name: str, learning_rate: float, schedule: str = "constant", total_steps: int = 0,
                   fresh: bool = True):
    """Keras optimizer from :data:`cnn.hyperparams.OPTIMIZERS`, with an optional schedule (warm-up + cosine, or
    airbench's triangle). ``fresh``: the model was started by this optimizer's recipe (airbench's layer rates)."""
    import keras

    if not (isinstance(learning_rate, (int, float)) and learning_rate > 0 and math.isfinite(learning_rate)):
        raise TrainingError(_("The learning rate must be a positive number, got {learning_rate}.",
                              learning_rate=learning_rate))
    if name not in OPTIMIZERS:
        raise TrainingError(_("Unknown optimizer '{name}'; use one of {join}.", name=name, join=', '.join(OPTIMIZERS)))
    if schedule not in SCHEDULES:
        raise TrainingError(_("Unknown learning-rate schedule '{schedule}'; use one of {join}.",
                              schedule=schedule, join=', '.join(SCHEDULES)))
    lr: Any = float(learning_rate)
    if schedule == "triangle" and total_steps > 1:
        from cnn.airbench import Triangle

        lr = Triangle(lr, total_steps)
    elif schedule == "cosine" and total_steps > 1:
        warmup = max(1, min(total_steps // 10, 200))
        lr = keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=lr / 10, decay_steps=max(1, total_steps - warmup), alpha=0.0,
            warmup_target=lr, warmup_steps=warmup)
    if name == "airbench":
        from cnn.airbench import AirbenchSGD

        return AirbenchSGD(learning_rate=lr, layer_rates=fresh)  # a transferred model keeps plain rates
    cls, kwargs = OPTIMIZERS[name]
    return getattr(keras.optimizers, cls)(learning_rate=lr, **kwargs)


def steps_per_execution(steps_per_epoch: int) -> int:
    """How many training steps run per call from Python: up to 8 (about 4 ms saved per step, 15% of a
    one-epoch MNIST run), while keeping at least 25 progress reports and chances to stop per epoch."""
    return max(1, min(8, steps_per_epoch // 25))


def compile_model(model, config: TrainConfig, total_steps: int = 0, steps_per_execution: int = 1) -> None:
    """Compile with keywords (positional metrics would be taken as loss_weights)."""
    import keras

    model.compile(optimizer=make_optimizer(config.optimizer, config.learning_rate, config.schedule, total_steps,
                                           fresh=not config.start_from),
                  loss=keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing),
                  metrics=["accuracy"], steps_per_execution=steps_per_execution)
    build_training_state(model)


def build_training_state(model) -> None:
    """Create the optimizer's moments and the metrics' totals now, on one blank image. Left to ``fit``, Keras
    creates them while tracing the first training step, and TensorFlow, seeing new variables, then traces the
    whole step a second time: 0.3-0.5 s of a 4.5 s one-epoch MNIST run (bench/README.md)."""
    x = np.zeros((1, *model.input_shape[1:]), np.float32)
    y_pred = model(x, training=False)
    model.optimizer.build(model.trainable_variables)
    model.compute_metrics(x, np.zeros(y_pred.shape, np.float32), y_pred)
    model.reset_metrics()
