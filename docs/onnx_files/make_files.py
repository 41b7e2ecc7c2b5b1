"""Write the ONNX files that ``docs/onnx-files.rst`` draws (run it again after changing it).

* ``small_resnet.onnx``: ``SmallResNet`` from ``docs/example_models/resnet.py``,
  narrowed to widths 8, 16, 32 so that the file stays small, exported with
  ``torch.onnx.export`` (the TorchScript exporter, which names nodes
  ``/layer1/layer1.0/conv1/Conv``), weights seeded;
* ``keras_cnn.onnx``: a small Keras-style CNN built with ``onnx.helper`` and
  named as the TensorFlow-to-ONNX converters name nodes (``model/conv2d/Conv2D``,
  ``model/dense/MatMul``), with the transposes they add around NHWC layers and a
  symbolic batch dimension; no ``value_info`` (the shapes come from ONNX shape
  inference).

Both are written with deterministic bytes::

    python docs/onnx_files/make_files.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = Path(__file__).resolve().parent


def small_resnet() -> bytes:
    """The TorchScript exporter's file of a narrow SmallResNet (about 44 k parameters)."""
    import io

    import torch

    sys.path.insert(0, str(HERE.parent))
    from example_models.resnet import SmallResNet

    torch.manual_seed(0)
    model = SmallResNet(widths=(8, 16, 32)).eval()
    buffer = io.BytesIO()
    torch.onnx.export(model, (torch.randn(1, 3, 64, 64),), buffer, dynamo=False, opset_version=17,
                      input_names=["image"], output_names=["logits"])
    proto = onnx.load_model_from_string(buffer.getvalue())
    return proto.SerializeToString(deterministic=True)


def keras_cnn() -> bytes:
    """A Keras ``Sequential`` CNN as tf2onnx writes it: NHWC input, ``model/<layer>/<op>`` node names."""
    rng = np.random.RandomState(0)

    def weight(name: str, *shape: int) -> TensorProto:
        return numpy_helper.from_array((rng.standard_normal(shape) * 0.1).astype(np.float32), name)

    inits = [weight("model/conv2d/Conv2D/ReadVariableOp:0", 8, 1, 3, 3),
             weight("model/conv2d/BiasAdd/ReadVariableOp:0", 8),
             weight("model/conv2d_1/Conv2D/ReadVariableOp:0", 16, 8, 3, 3),
             weight("model/conv2d_1/BiasAdd/ReadVariableOp:0", 16),
             numpy_helper.from_array(np.array([-1, 400], dtype=np.int64), "model/flatten/Const:0"),
             weight("model/dense/MatMul/ReadVariableOp:0", 400, 32),
             weight("model/dense/BiasAdd/ReadVariableOp:0", 32),
             weight("model/dense_1/MatMul/ReadVariableOp:0", 32, 10),
             weight("model/dense_1/BiasAdd/ReadVariableOp:0", 10)]
    node = helper.make_node
    nodes = [
        node("Transpose", ["input_1"], ["model/conv2d/Conv2D__6:0"], name="model/conv2d/Conv2D__6", perm=[0, 3, 1, 2]),
        node("Conv", ["model/conv2d/Conv2D__6:0", "model/conv2d/Conv2D/ReadVariableOp:0",
                      "model/conv2d/BiasAdd/ReadVariableOp:0"], ["model/conv2d/BiasAdd:0"],
             name="model/conv2d/Conv2D", kernel_shape=[3, 3], strides=[1, 1], dilations=[1, 1]),
        node("Relu", ["model/conv2d/BiasAdd:0"], ["model/conv2d/Relu:0"], name="model/conv2d/Relu"),
        node("MaxPool", ["model/conv2d/Relu:0"], ["model/max_pooling2d/MaxPool:0"], name="model/max_pooling2d/MaxPool",
             kernel_shape=[2, 2], strides=[2, 2]),
        node("Conv", ["model/max_pooling2d/MaxPool:0", "model/conv2d_1/Conv2D/ReadVariableOp:0",
                      "model/conv2d_1/BiasAdd/ReadVariableOp:0"], ["model/conv2d_1/BiasAdd:0"],
             name="model/conv2d_1/Conv2D", kernel_shape=[3, 3], strides=[1, 1], dilations=[1, 1]),
        node("Relu", ["model/conv2d_1/BiasAdd:0"], ["model/conv2d_1/Relu:0"], name="model/conv2d_1/Relu"),
        node("MaxPool", ["model/conv2d_1/Relu:0"], ["model/max_pooling2d_1/MaxPool:0"],
             name="model/max_pooling2d_1/MaxPool", kernel_shape=[2, 2], strides=[2, 2]),
        node("Transpose", ["model/max_pooling2d_1/MaxPool:0"], ["model/max_pooling2d_1/MaxPool__28:0"],
             name="model/max_pooling2d_1/MaxPool__28", perm=[0, 2, 3, 1]),
        node("Reshape", ["model/max_pooling2d_1/MaxPool__28:0", "model/flatten/Const:0"], ["model/flatten/Reshape:0"],
             name="model/flatten/Reshape"),
        node("MatMul", ["model/flatten/Reshape:0", "model/dense/MatMul/ReadVariableOp:0"], ["model/dense/MatMul:0"],
             name="model/dense/MatMul"),
        node("Add", ["model/dense/MatMul:0", "model/dense/BiasAdd/ReadVariableOp:0"], ["model/dense/BiasAdd:0"],
             name="model/dense/BiasAdd"),
        node("Relu", ["model/dense/BiasAdd:0"], ["model/dense/Relu:0"], name="model/dense/Relu"),
        node("MatMul", ["model/dense/Relu:0", "model/dense_1/MatMul/ReadVariableOp:0"], ["model/dense_1/MatMul:0"],
             name="model/dense_1/MatMul"),
        node("Add", ["model/dense_1/MatMul:0", "model/dense_1/BiasAdd/ReadVariableOp:0"], ["model/dense_1/BiasAdd:0"],
             name="model/dense_1/BiasAdd"),
        node("Softmax", ["model/dense_1/BiasAdd:0"], ["dense_1"], name="model/dense_1/Softmax", axis=-1),
    ]
    graph = helper.make_graph(nodes, "tf2onnx",
                              [helper.make_tensor_value_info("input_1", TensorProto.FLOAT, ["unk__32", 28, 28, 1])],
                              [helper.make_tensor_value_info("dense_1", TensorProto.FLOAT, ["unk__33", 10])], inits)
    model = helper.make_model(graph, producer_name="tf2onnx", producer_version="1.16.1",
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.checker.check_model(model, full_check=True)
    return model.SerializeToString(deterministic=True)


def main() -> None:
    for name, make in (("small_resnet.onnx", small_resnet), ("keras_cnn.onnx", keras_cnn)):
        data = make()
        (HERE / name).write_bytes(data)
        print(f"wrote {name} ({len(data) / 1000:.0f} KB)")


if __name__ == "__main__":
    main()
