#!/usr/bin/env python3
"""Writes tokenizer-cases.jsonl: the reference SmolLM2 tokenization of every text in
scripts/golden/inputs/tokenizer-texts.json.

    .venv-golden/bin/python scripts/golden/make-tokenizer-cases.py [--model FILE.gguf] [--out DIR] [--llama-cpp]

The reference is Hugging Face `tokenizers` with the vocabulary and merges transformers takes from the
GGUF, its pipeline replaced by SmolLM2's real one: no normalizer; pre-tokenizer
Sequence[Digits(individual_digits=True), ByteLevel(add_prefix_space=False, use_regex=True)]; no
post-processor; ByteLevel decoder. transformers' own GGUF conversion is not the reference (it splits
some digit/whitespace runs differently); where it differs, its ids are recorded as
`ids_transformers_gguf`.

`agree_llama_cpp` (and `ids_llama_cpp` where different) comes from llama-cpp-python with --llama-cpp;
without it, the values recorded by the reference set (inputs/llama-cpp-recorded.json) are copied.
No test reads them.
"""
import os

import common

REFERENCE = ("ids = tokenizers BPE with vocab/merges from the GGUF and SmolLM2's pre-tokenizer "
             "Sequence[Digits(individual_digits=True), ByteLevel(add_prefix_space=False)]; no BOS/EOS added; "
             "special tokens in the text are matched as added tokens.")
FIELDS = ("text, ids, tokens (byte-level BPE strings, GPT-2 byte-to-unicode alphabet), decoded (decode(ids) "
          "with specials kept), roundtrip, agree_transformers_gguf (+ ids_transformers_gguf when different), "
          "agree_llama_cpp (+ ids_llama_cpp when different)")


def llama_cpp_tokenize(model_path):
    from llama_cpp import Llama
    llm = Llama(model_path=model_path, vocab_only=True, verbose=False)
    return lambda text: llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)


def main():
    args = common.arguments(__doc__.splitlines()[0], lambda p: p.add_argument(
        "--llama-cpp", action="store_true", help="recompute the llama.cpp agreement with llama-cpp-python"))
    texts = common.read_input("tokenizer-texts.json")["cases"]
    recorded = common.read_input("llama-cpp-recorded.json")["tokenizer"]
    hf = common.load_transformers_tokenizer(args.model)
    reference = common.reference_tokenizer(hf)
    llama_tokenize = llama_cpp_tokenize(args.model) if args.llama_cpp else None

    rows = [{
        "_meta": True,
        "model_file": os.path.basename(args.model),
        "generated_by": common.generated_by(__file__),
        "versions": common.versions(),
        "reference": REFERENCE,
        "fields": FIELDS,
        "count": len(texts),
    }]
    for case in texts:
        text = case["text"]
        encoding = reference.encode(text, add_special_tokens=False)
        ids = list(encoding.ids)
        decoded = reference.decode(ids, skip_special_tokens=False)
        row = {"id": case["id"], "category": case["category"], "text": text, "ids": ids,
               "tokens": list(encoding.tokens), "decoded": decoded, "roundtrip": decoded == text}
        hf_ids = list(hf.encode(text, add_special_tokens=False))
        row["agree_transformers_gguf"] = hf_ids == ids
        if hf_ids != ids:
            row["ids_transformers_gguf"] = hf_ids
        if llama_tokenize:
            llama_ids = list(llama_tokenize(text))
            row["agree_llama_cpp"] = llama_ids == ids
            if llama_ids != ids:
                row["ids_llama_cpp"] = llama_ids
        else:
            row.update(recorded[case["id"]])
        rows.append(row)

    common.write_jsonl(os.path.join(args.out, "tokenizer-cases.jsonl"), rows)
    differing = sum(1 for r in rows[1:] if not r["agree_transformers_gguf"])
    common.say(__file__, f"wrote tokenizer-cases.jsonl: {len(texts)} cases; transformers' GGUF tokenizer "
                         f"differs on {differing}; llama.cpp agreement "
                         + ("recomputed" if llama_tokenize else "copied from inputs/llama-cpp-recorded.json"))


if __name__ == "__main__":
    main()
