"""cnn.run_config: the settings a student may change are declared once, on TrainConfig's own fields."""
import dataclasses

from cnn import run_config


def test_the_schema_is_read_from_trainconfigs_own_declaration():
    declared = [f.name for f in dataclasses.fields(run_config.TrainConfig) if "setting" in f.metadata]
    assert [p.name for p in run_config.SCHEMA] == declared
    assert {"epochs", "batch_size", "learning_rate", "optimizer", "seed", "crop_share"} <= set(declared)
    assert "dataset" not in declared and "spec" not in declared  # chosen elsewhere on the page
    defaults = run_config.TrainConfig()
    for p in run_config.SCHEMA:  # every default is inside its own bounds
        value = run_config.config_values(defaults)[p.name]
        assert p.check(value) == value, p.name
