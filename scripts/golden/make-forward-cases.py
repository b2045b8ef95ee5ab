#!/usr/bin/env python3
"""Writes forward-cases.json: transformers' float32 forward pass of the default model over the
texts in scripts/golden/inputs/forward-texts.json.

    .venv-golden/bin/python scripts/golden/make-forward-cases.py [--model FILE.gguf] [--out DIR] [--llama-cpp]

The model is AutoModelForCausalLM.from_pretrained(folder, gguf_file=NAME, dtype=float32,
attn_implementation="eager") on the CPU with 2 torch threads; ids come from the reference SmolLM2
tokenizer (see make-tokenizer-cases.py), no BOS added. Chat cases are rendered with the GGUF's chat
template through transformers' apply_chat_template, add_generation_prompt when the last message is
the user's.

Per case: nll[i] = -log_softmax(logits[i])[ids[i+1]] (float32), mean_loss (their mean, in float64),
top5_last, statistics of the last-position logits (torch: mean, unbiased std, max, min, logsumexp),
and the L2 norm of each hidden state at the last position. A case marked full_detail adds all last
logits and the softmax attention of head 0 in the first and last layers.

`llama_cpp_q4_1` (llama.cpp's quantized-activation kernels, for scale; no test reads it) is
recomputed with llama-cpp-python when --llama-cpp is given, else copied from
inputs/llama-cpp-recorded.json.
"""
import os

import numpy as np
import torch

import common

NLL_POSITIONS = "nll[i] = -log p(ids[i+1] | ids[0..i]) for i = 0..n-2 (predicting positions 1..n-1)"
HIDDEN_NOTE = ("L2 norm at the last position of hidden_states[k]: k=0 embeddings, k=1..n_layers-1 after each "
               "block, k=n_layers after the final RMSNorm (transformers convention)")
ATTENTION_NOTE = ("softmax probabilities [query][key] (causal; row i sums to 1 over keys 0..i). Head 0 uses kv "
                  "head 0 (GQA 9 q heads / 3 kv heads).")
SUGGESTED_TOLERANCES = ("float32 reimplementation: |logit diff| < 1e-3 abs (typ. 1e-4), mean_loss within 1e-4; "
                        "quantized-kernel (llama.cpp-style Q8 activations) implementation: see llama_cpp_q4_1 "
                        "fields for the expected size of deviation")


def token_nll(logits, ids):
    """[T-1] float32: -log softmax(logits[i])[ids[i+1]]."""
    logp = torch.log_softmax(logits[:-1], dim=-1)
    return -logp.gather(1, torch.tensor(ids[1:]).unsqueeze(1)).squeeze(1)


def top5(last_logits):
    values, indices = torch.topk(last_logits, 5)
    return [[int(i), float(v)] for i, v in zip(indices, values)]


def llama_cpp_section(llm, ids, f32_logits, f32_nll):
    """llama.cpp's logits for the same ids, against the float32 ones."""
    llm.reset()
    llm.eval(ids)
    scores = torch.from_numpy(np.array(llm.scores[:len(ids)], dtype=np.float32))
    nll = token_nll(scores, ids)
    last_diff = (scores[-1] - f32_logits[-1]).abs()
    return {
        "mean_loss": sum(float(v) for v in nll) / len(nll),
        "top5_last": top5(scores[-1]),
        "last_logits_max_abs_diff_vs_f32": float(last_diff.max()),
        "last_logits_mean_abs_diff_vs_f32": float(last_diff.mean()),
        "max_abs_nll_diff_vs_f32": float((nll - f32_nll).abs().max()),
    }


def main():
    args = common.arguments(__doc__.splitlines()[0], lambda p: p.add_argument(
        "--llama-cpp", action="store_true", help="recompute the llama_cpp_q4_1 sections with llama-cpp-python"))
    inputs = common.read_input("forward-texts.json")["cases"]
    recorded = common.read_input("llama-cpp-recorded.json")["forward"]
    hf = common.load_transformers_tokenizer(args.model)
    reference = common.reference_tokenizer(hf)
    model = common.load_model(args.model)
    llm = None
    if args.llama_cpp:
        from llama_cpp import Llama
        llm = Llama(model_path=args.model, n_ctx=512, logits_all=True, n_threads=common.TORCH_THREADS,
                    verbose=False)

    cases = []
    for spec in inputs:
        case = {"id": spec["id"], "kind": spec["kind"]}
        if spec["kind"] == "chat":
            messages = spec["messages"]
            case["messages"] = messages
            text = hf.apply_chat_template(messages, tokenize=False,
                                          add_generation_prompt=messages[-1]["role"] == "user")
        else:
            case["text_source"] = spec["text_source"]
            text = spec["text"]
        ids = list(reference.encode(text, add_special_tokens=False).ids)
        with torch.no_grad():
            out = model(torch.tensor([ids]), output_hidden_states=True, output_attentions=spec["full_detail"])
        logits = out.logits[0].float()
        nll = token_nll(logits, ids)
        last = logits[-1]
        case.update({
            "text": text,
            "ids": ids,
            "n_tokens": len(ids),
            "nll": [float(v) for v in nll],
            "nll_positions": NLL_POSITIONS,
            "mean_loss": sum(float(v) for v in nll) / len(nll),
            "top5_last": top5(last),
            "last_logits_stats": {"mean": float(last.mean()), "std": float(last.std()), "max": float(last.max()),
                                  "min": float(last.min()), "logsumexp": float(torch.logsumexp(last, 0))},
            "hidden_l2_last_pos": [float(h[0, -1].norm()) for h in out.hidden_states],
            "hidden_l2_note": HIDDEN_NOTE,
            "llama_cpp_q4_1": llama_cpp_section(llm, ids, logits, nll) if llm else recorded[spec["id"]],
        })
        if spec["full_detail"]:
            last_layer = len(out.attentions) - 1
            case.update({
                "full_last_logits": [float(v) for v in last],
                "attn_layer0_head0": out.attentions[0][0, 0].tolist(),
                "attn_last_layer_head0": {"layer": last_layer, "probs": out.attentions[last_layer][0, 0].tolist()},
                "attn_note": ATTENTION_NOTE,
            })
        cases.append(case)
        common.say(__file__, f"{spec['id']}: {len(ids)} tokens, mean loss {case['mean_loss']:.6f}")

    versions = common.versions()
    document = {
        "meta": {
            "model_file": os.path.basename(args.model),
            "loader": "transformers AutoModelForCausalLM.from_pretrained(dir, gguf_file=..., dtype=float32, "
                      "attn_implementation='eager'), CPU, no BOS added",
            "tokenizer": "reference SmolLM2 tokenizer (see tokenizer-cases.jsonl); identical to llama.cpp's tokenization",
            "chat_template": "tokenizer.chat_template from the GGUF, applied with transformers apply_chat_template; "
                             "add_generation_prompt=True when the last message is from the user",
            "generated_by": common.generated_by(__file__),
            "versions": versions,
            "torch_threads": common.TORCH_THREADS,
            "suggested_tolerances": SUGGESTED_TOLERANCES,
        },
        "cases": cases,
    }
    common.write_json(os.path.join(args.out, "forward-cases.json"), document)
    common.say(__file__, "wrote forward-cases.json; llama_cpp_q4_1 "
                         + ("recomputed" if llm else "copied from inputs/llama-cpp-recorded.json"))


if __name__ == "__main__":
    main()
