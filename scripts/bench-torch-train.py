#!/usr/bin/env python3
"""PyTorch + peft peer of `persona bench train`.

Loads the same GGUF with transformers (every tensor dequantized to float32, as the gguf
package does), wraps it with peft LoRA (r=8, alpha=16, dropout 0, q,k,v,o,gate,up,down),
and times full steps (forward, backward, clip to 1.0, AdamW over the LoRA parameters) on a
seeded batch of random tokens, 4 x 200 by default. Prints one JSON line:
{"step_seconds": [...], "tokens_per_step": N, "peak_rss_mb": M, "versions": "..."}

Needs: pip install torch peft transformers gguf   (the CPU wheel of torch is enough)
Run:   python3 scripts/bench-torch-train.py --model models/SmolLM2-135M-Instruct.Q4_1.gguf --threads 2
"""
import argparse
import json
import os
import resource
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--length", type=int, default=200)
    parser.add_argument("--rank", type=int, default=8)
    args = parser.parse_args()

    import torch
    torch.set_num_threads(args.threads)
    import peft
    import transformers
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    path = os.path.abspath(args.model)
    model = AutoModelForCausalLM.from_pretrained(os.path.dirname(path), gguf_file=os.path.basename(path),
                                                 torch_dtype=torch.float32)
    config = LoraConfig(r=args.rank, lora_alpha=2 * args.rank, lora_dropout=0.0, bias="none", task_type="CAUSAL_LM",
                        target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
    model = get_peft_model(model, config)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.0)
    generator = torch.Generator().manual_seed(1234)
    ids = torch.randint(0, model.config.vocab_size, (args.batch, args.length), generator=generator)

    def step():
        optimizer.zero_grad(set_to_none=True)
        out = model(input_ids=ids, labels=ids)
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()

    for _ in range(args.warmup):
        step()
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    versions = f"torch {torch.__version__}, peft {peft.__version__}, transformers {transformers.__version__}, {args.threads} threads"
    print(json.dumps({"step_seconds": times, "tokens_per_step": args.batch * args.length, "peak_rss_mb": peak,
                      "versions": versions}))


if __name__ == "__main__":
    main()
