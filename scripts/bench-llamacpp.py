#!/usr/bin/env python3
"""Peer benchmark for `persona bench decode|prefill`: llama.cpp through llama-cpp-python.

Runs the same GGUF file on the same prompt token ids and prints one JSON object:
{"tokens_per_second": [...], "peak_rss_above_baseline_mb": x, "baseline_rss_mb": y, "version": v}.

Install (builds llama.cpp from source for this CPU):
  python3 -m venv /tmp/llamacpp-venv
  CMAKE_ARGS="-DGGML_NATIVE=ON" /tmp/llamacpp-venv/bin/python -m pip install llama-cpp-python==0.3.36
"""
import argparse
import json
import sys
import time


def status_mb(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--mode", choices=["decode", "prefill"], required=True)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--new-tokens", type=int, default=128)
    p.add_argument("--prompt-ids", required=True, help="comma-separated token ids")
    a = p.parse_args()
    prompt = [int(x) for x in a.prompt_ids.split(",") if x]

    import numpy as np
    import llama_cpp

    baseline = status_mb("VmRSS:")
    llm = llama_cpp.Llama(model_path=a.model, n_threads=a.threads, n_threads_batch=a.threads, n_batch=512,
                          n_ctx=max(512, len(prompt) + a.new_tokens + 8), logits_all=False, verbose=False)

    def prefill():
        llm.reset()
        start = time.perf_counter()
        llm.eval(prompt)
        return time.perf_counter() - start

    def decode():
        llm.reset()
        llm.eval(prompt)
        start = time.perf_counter()
        for _ in range(a.new_tokens):
            logits = llm.scores[llm.n_tokens - 1]
            llm.eval([int(np.argmax(logits))])
        return time.perf_counter() - start

    rates = []
    for run in range(a.runs + 1):  # run 0 warms up and is not counted
        if a.mode == "prefill":
            seconds, count = prefill(), len(prompt)
        else:
            seconds, count = decode(), a.new_tokens
        if run > 0:
            rates.append(count / seconds)
    print(json.dumps({
        "tokens_per_second": rates,
        "peak_rss_above_baseline_mb": status_mb("VmHWM:") - baseline,
        "baseline_rss_mb": baseline,
        "version": getattr(llama_cpp, "__version__", "?"),
    }))


if __name__ == "__main__":
    sys.exit(main())
