#!/usr/bin/env python3
"""Writes a float copy of a GGUF model (every tensor dequantized to F16, or F32 with --f32), metadata
kept: a float base to try `model NAME PATH quantize=nf4|nf4-dq|q8_0` on when only a quantized file
is at hand (the default model is Q4_1, so its float copy holds Q4_1's values exactly in F32 and
rounded to half precision in F16).

    python3 -m venv /tmp/ggufvenv && /tmp/ggufvenv/bin/pip install gguf==0.19.0 numpy
    /tmp/ggufvenv/bin/python scripts/dequantize-gguf.py models/SmolLM2-135M-Instruct.Q4_1.gguf /tmp/smollm2-f16.gguf
"""
import sys

import numpy as np
from gguf import GGUFReader, GGUFWriter, GGUFValueType, quants
from gguf.constants import GGMLQuantizationType as T


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 2:
        sys.exit(__doc__)
    source, target = args
    as_f32 = "--f32" in sys.argv
    reader = GGUFReader(source)
    arch = reader.fields["general.architecture"].contents()
    writer = GGUFWriter(target, arch)
    for name, field in reader.fields.items():
        if name.startswith("GGUF.") or name in ("general.architecture", "general.file_type", "general.quantization_version"):
            continue
        value_type = field.types[0]
        if value_type == GGUFValueType.ARRAY:
            writer.add_key_value(name, field.contents(), value_type, sub_type=field.types[-1])
        else:
            writer.add_key_value(name, field.contents(), value_type)
    writer.add_file_type(0 if as_f32 else 1)
    for tensor in reader.tensors:
        values = quants.dequantize(tensor.data, tensor.tensor_type).astype(np.float32)
        # 1-D tensors (norms) stay F32, as llama.cpp's converters keep them.
        out_type = T.F32 if as_f32 or values.ndim == 1 else T.F16
        data = values.astype(np.float16) if out_type == T.F16 else values
        writer.add_tensor(tensor.name, data, raw_dtype=out_type)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


if __name__ == "__main__":
    main()
