"""CNN Lab's library: data, networks, training, storage, inspection and preprocessing (never Streamlit)."""
import os as _os

# TensorFlow turns on its oneDNN kernels by itself only on CPUs with AVX-512 VNNI/BF16 or AMX. On a CPU with
# AVX2 only (an AMD EPYC of this project's) they train every preset 1.2-2.3x faster and read as well
# (bench/README.md), so each process that imports this library before TensorFlow has them, unless
# TF_ENABLE_ONEDNN_OPTS=0 is set.
_os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
