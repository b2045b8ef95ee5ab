#!/usr/bin/env python3
"""Run once (2026-12-06) to take the inputs that cannot be derived out of the reference set's files
in Tests/Golden, so that the generators read only the model and scripts/golden/inputs/:

    python3 scripts/golden/extract-inputs.py [--from Tests/Golden]

- inputs/tokenizer-texts.json: each tokenizer case's id, category and text (the ids have gaps: the
  reference set dropped some cases; they are kept as they were so ids stay stable).
- inputs/forward-texts.json: each forward case's id, kind and messages (chat) or text (plain), and
  which case carries the full last-position logits and attention maps.
- inputs/lora-case.json: the LoRA seed and the training text.
- inputs/llama-cpp-recorded.json: what llama.cpp gave in the reference set (tokenizer agreement and
  the forward cases' `llama_cpp_q4_1` sections). No test reads these; the generators copy them unless
  run with --llama-cpp, which recomputes them with llama-cpp-python.

Kept for the record; rerunning it on regenerated files gives the same inputs back.
"""
import argparse
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))


def dump(name, value):
    with open(os.path.join(HERE, "inputs", name), "w", encoding="utf-8", newline="\n") as f:
        f.write(json.dumps(value, ensure_ascii=False, indent=1) + "\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--from", dest="source", default=os.path.join(REPO, "Tests", "Golden"))
    source = parser.parse_args().source
    os.makedirs(os.path.join(HERE, "inputs"), exist_ok=True)

    with open(os.path.join(source, "tokenizer-cases.jsonl"), encoding="utf-8") as f:
        rows = [json.loads(line) for line in f.read().split("\n") if line.strip()]
    cases = [r for r in rows if not r.get("_meta")]
    dump("tokenizer-texts.json", {
        "about": "tokenizer-cases.jsonl inputs: id, category, text (extracted from the reference set)",
        "cases": [{"id": c["id"], "category": c["category"], "text": c["text"]} for c in cases],
    })
    recorded_tokenizer = {}
    for c in cases:
        entry = {"agree_llama_cpp": c["agree_llama_cpp"]}
        if "ids_llama_cpp" in c:
            entry["ids_llama_cpp"] = c["ids_llama_cpp"]
        recorded_tokenizer[c["id"]] = entry

    with open(os.path.join(source, "forward-cases.json"), encoding="utf-8") as f:
        forward = json.load(f)
    forward_inputs = []
    for c in forward["cases"]:
        entry = {"id": c["id"], "kind": c["kind"]}
        if c["kind"] == "chat":
            entry["messages"] = c["messages"]
        else:
            entry["text_source"] = c["text_source"]
            entry["text"] = c["text"]
        entry["full_detail"] = "full_last_logits" in c
        forward_inputs.append(entry)
    dump("forward-texts.json", {
        "about": "forward-cases.json inputs: chat cases are rendered with the GGUF's chat template; "
                 "full_detail adds the full last-position logits and attention maps of head 0",
        "cases": forward_inputs,
    })

    with open(os.path.join(source, "lora-grad-case.json"), encoding="utf-8") as f:
        lora = json.load(f)
    dump("lora-case.json", {
        "about": "lora-init.safetensors and lora-grad-case.json inputs: the init seed and the training text",
        "seed": lora["meta"]["seed"],
        "text": lora["text"],
    })

    dump("llama-cpp-recorded.json", {
        "about": "llama.cpp (llama-cpp-python 0.3.36) results recorded by the reference set; "
                 "no test reads them; generators copy them unless run with --llama-cpp",
        "tokenizer": recorded_tokenizer,
        "forward": {c["id"]: c["llama_cpp_q4_1"] for c in forward["cases"] if "llama_cpp_q4_1" in c},
    })


if __name__ == "__main__":
    main()
