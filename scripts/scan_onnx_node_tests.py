#!/usr/bin/python3
"""Lists ONNX's backend node tests (Debian's libonnx-testdata) that tests/test_onnx_peer.cpp must cover: every
test whose first graph input has rank 3 and whose operators are all in the ONNX mapping's list (docs/onnx.md).
Run with /usr/bin/python3 (Debian's python3-onnx). Prints one test name per line; the test file sorts them into
passing (kPass) and refused with a reason (kRefused)."""
import os
import sys

import onnx

NODE_DIR = "/usr/share/libonnx-testdata/data/node/"
MAPPED = set("""Conv ConvTranspose MaxPool AveragePool GlobalAveragePool GlobalMaxPool ReduceMean ReduceMax Resize
Upsample Pad BatchNormalization LayerNormalization Gemm MatMul Concat Slice Gather Add Sub Mul Div Relu LeakyRelu Elu
Selu Sigmoid Tanh Softplus Softsign Exp HardSwish HardSigmoid Clip Softmax LogSoftmax Erf Gelu LSTM GRU Constant
ConstantOfShape Shape Unsqueeze Squeeze Cast Reshape Expand Transpose Identity Dropout Flatten""".split())


def main():
    names = []
    for test in sorted(os.listdir(NODE_DIR)):
        try:
            graph = onnx.load(os.path.join(NODE_DIR, test, "model.onnx")).graph
        except Exception:  # a few tests hold models this onnx cannot read
            continue
        if not graph.input or len(graph.input[0].type.tensor_type.shape.dim) != 3:
            continue
        if {n.op_type for n in graph.node} <= MAPPED:
            names.append(test)
    print("\n".join(names))
    print(f"{len(names)} tests", file=sys.stderr)


if __name__ == "__main__":
    main()
