#!/usr/bin/env python3
"""Writes smollm2-gguf-metadata.json and smollm2-dequant-stats.json from the default model.

    .venv-golden/bin/python scripts/golden/make-gguf-stats.py [--model FILE.gguf] [--out DIR]

(scripts/golden/regenerate makes the venv and runs every generator.) Needs only gguf and numpy.

smollm2-gguf-metadata.json: the header as gguf-py's GGUFReader reads it: every key/value except
the three big tokenizer arrays, which are summarised (count, first 10, last 5, sha256 of the values
each followed by a newline, UTF-8; for integer arrays a histogram and the ids whose value is not 1), and the
tensor table (GGUF-order shape, absolute and relative data offsets).

smollm2-dequant-stats.json: every tensor dequantized to float32 by `gguf.quants.dequantize`, in
file order; sum and sum of squares accumulated in float64 (numpy's pairwise sum), min, max, the
first 16 and last 4 values.
"""
import hashlib
import os

import numpy as np
from gguf import GGUFReader, GGUFValueType, quants

import common

# Arrays longer than this are summarised rather than listed (the tokenizer's tokens, types, merges).
LONGEST_LISTED_ARRAY = 64

NOTES = [
    "shape is in GGUF/ggml order (ne0 first = innermost/contiguous); torch_shape is reversed (rows, cols).",
    "data_offset is the absolute file offset of the tensor data; rel_offset is relative to tensor_data_start (what the GGUF header stores).",
    "llama-arch GGUF convention: attn_q/attn_k rows are permuted by convert_hf_to_gguf for ggml's interleaved (NORM) RoPE; HF LlamaAttention uses rotate_half (NEOX) on the un-permuted weights. transformers' GGUF loader reverses this permutation when dequantizing.",
    "token_embd.weight is Q8_0 and there is no output.weight: the LM head is tied to token_embd.",
    "Big tokenizer arrays are summarised (count, head/tail, sha256 of the values joined with newlines).",
]


def field_value(field):
    """A key's value as JSON: strings decoded, scalars as Python numbers, arrays as lists."""
    value = field.contents()
    if isinstance(value, np.generic):
        value = value.item()
    return value


def array_summary(values, integer):
    # "Joined with newlines" in the committed file means each value followed by "\n".
    joined = "".join(f"{v}\n" for v in values)
    summary = {
        "count": len(values),
        "first_10": values[:10],
        "last_5": values[-5:],
        "sha256_of_newline_joined": hashlib.sha256(joined.encode("utf-8")).hexdigest(),
    }
    if integer:
        histogram = {}
        for v in sorted(set(values)):
            histogram[str(v)] = values.count(v)
        summary["histogram"] = histogram
        summary["non_normal_ids"] = [i for i, v in enumerate(values) if v != 1]
    return summary


def metadata(reader, path):
    fields = {name: f for name, f in reader.fields.items() if not name.startswith("GGUF.")}
    kv, arrays = {}, {}
    for name, f in fields.items():
        value = field_value(f)
        if f.types and f.types[0] == GGUFValueType.ARRAY and len(value) > LONGEST_LISTED_ARRAY:
            integer = f.types[-1] not in (GGUFValueType.STRING, GGUFValueType.FLOAT32, GGUFValueType.FLOAT64)
            arrays[name] = array_summary(list(value), integer)
        else:
            kv[name] = value

    arch = kv["general.architecture"]
    tokens = fields["tokenizer.ggml.tokens"].contents()
    tensor_names = {t.name for t in reader.tensors}

    def special(role):
        token_id = kv.get(f"tokenizer.ggml.{role}_token_id")
        return None if token_id is None else {"id": token_id, "text": tokens[token_id]}

    summary = {
        "architecture": arch,
        "n_layers": kv[f"{arch}.block_count"],
        "d_model": kv[f"{arch}.embedding_length"],
        "d_ff": kv[f"{arch}.feed_forward_length"],
        "n_heads": kv[f"{arch}.attention.head_count"],
        "n_kv_heads": kv[f"{arch}.attention.head_count_kv"],
        "head_dim": kv[f"{arch}.embedding_length"] // kv[f"{arch}.attention.head_count"],
        "rope_theta": kv[f"{arch}.rope.freq_base"],
        "rope_dimension_count": kv[f"{arch}.rope.dimension_count"],
        "rms_norm_eps": kv[f"{arch}.attention.layer_norm_rms_epsilon"],
        "context_length": kv[f"{arch}.context_length"],
        "vocab_size": kv[f"{arch}.vocab_size"],
        "n_tokens_in_tokenizer": len(tokens),
        "tokenizer_model": kv["tokenizer.ggml.model"],
        "tokenizer_pre": kv["tokenizer.ggml.pre"],
        "bos": special("bos"),
        "eos": special("eos"),
        "unk": special("unknown"),
        "pad": special("padding"),
        "add_bos_token": kv.get("tokenizer.ggml.add_bos_token"),
        "add_eos_token": kv.get("tokenizer.ggml.add_eos_token"),
        "chat_template": kv.get("tokenizer.chat_template"),
        "file_type": kv.get("general.file_type"),
        "tie_word_embeddings_inferred": "output.weight" not in tensor_names,
    }

    type_counts, table = {}, []
    for t in reader.tensors:
        type_counts[t.tensor_type.name] = type_counts.get(t.tensor_type.name, 0) + 1
        shape = [int(n) for n in t.shape]
        table.append({
            "name": t.name,
            "type": t.tensor_type.name,
            "type_id": int(t.tensor_type),
            "shape": shape,
            "torch_shape": shape[::-1],
            "n_elements": int(t.n_elements),
            "n_bytes": int(t.n_bytes),
            "data_offset": int(t.data_offset),
            "rel_offset": int(t.data_offset) - int(reader.data_offset),
        })

    return {
        "source": {
            "file": os.path.basename(path),
            "from": common.MODEL_SOURCE,
            "sha256": common.file_sha256(path),
            "size_bytes": os.path.getsize(path),
            "gguf_version": field_value(reader.fields["GGUF.version"]),
            "tensor_count": len(reader.tensors),
            "alignment": reader.alignment,
            "tensor_data_start": int(reader.data_offset),
        },
        "generated_by": {"script": common.generated_by(__file__), "versions": common.versions()},
        "summary": summary,
        "kv": kv,
        "array_summaries": arrays,
        "tensor_type_counts": type_counts,
        "tensors": table,
        "tensor_bytes_total": sum(row["n_bytes"] for row in table),
        "notes": NOTES,
    }


def dequant_stats(reader, path):
    rows = []
    for t in reader.tensors:
        values = quants.dequantize(t.data, t.tensor_type).astype(np.float32, copy=False).reshape(-1)
        wide = values.astype(np.float64)
        rows.append({
            "name": t.name,
            "type": t.tensor_type.name,
            "shape": [int(n) for n in t.shape],
            "n": int(values.size),
            "sum": float(np.sum(wide)),
            "sumsq": float(np.sum(wide * wide)),
            "min": float(values.min()),
            "max": float(values.max()),
            "first16": [float(v) for v in values[:16]],
            "last4": [float(v) for v in values[-4:]],
        })
    return {
        "meta": {
            "model_file": os.path.basename(path),
            "generated_by": common.generated_by(__file__),
            "dequantizer": "gguf.quants.dequantize (gguf-py), float32 result",
            "order": "values in file order: the innermost GGUF dimension (shape[0]) varies fastest",
            "versions": common.versions(),
        },
        "tensors": rows,
    }


def main():
    args = common.arguments(__doc__.splitlines()[0])
    reader = GGUFReader(args.model)
    common.write_json(os.path.join(args.out, "smollm2-gguf-metadata.json"), metadata(reader, args.model), indent=1)
    common.say(__file__, "wrote smollm2-gguf-metadata.json")
    common.write_json(os.path.join(args.out, "smollm2-dequant-stats.json"), dequant_stats(reader, args.model),
                      indent=1, final_newline=False)
    common.say(__file__, "wrote smollm2-dequant-stats.json")


if __name__ == "__main__":
    main()
