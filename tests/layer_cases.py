"""Each registered kind of layer in a small valid model around it (tests of cnn.layers and of saved models)."""

CONV = {"type": "conv2d", "filters": 8, "kernel": 3, "stride": 1, "padding": "same", "activation": "relu"}
# Each kind in a small valid model around it.
CONTEXT = {
    "conv2d": [{**CONV, "stride": 2, "padding": "valid", "activation": "tanh"}, {"type": "flatten"}],
    "whitenconv": [{"type": "whitenconv", "filters": 8}, {"type": "gap"}],
    "sepconv2d": [CONV, {"type": "sepconv2d", "filters": 12, "kernel": 5, "stride": 1, "padding": "same",
                         "activation": "relu"}, {"type": "gap"}],
    "maxpool": [CONV, {"type": "maxpool", "size": 2}, {"type": "flatten"}],
    "avgpool": [CONV, {"type": "avgpool", "size": 3}, {"type": "flatten"}],
    "batchnorm": [{**CONV, "activation": "linear"}, {"type": "batchnorm"}, {"type": "activation",
                                                                            "activation": "relu"}, {"type": "gap"}],
    "activation": [CONV, {"type": "activation", "activation": "gelu"}, {"type": "flatten"}],
    "dropout": [{"type": "flatten"}, {"type": "dense", "units": 16, "activation": "relu"},
                {"type": "dropout", "rate": 0.3}],
    "flatten": [{"type": "flatten"}],
    "gap": [CONV, {"type": "gap"}],
    "gmp": [CONV, {"type": "gmp"}],
    "dense": [{"type": "flatten"}, {"type": "dense", "units": 20, "activation": "sigmoid"}],
    "residual": [CONV, {"type": "residual", "filters": 8, "kernel": 3}, {"type": "residual", "filters": 16,
                                                                         "kernel": 3}, {"type": "gap"}],
}
