#!/usr/bin/env python3
"""Writes lora-init.safetensors and lora-grad-case.json: PEFT LoRA on transformers' float32 model
of the default GGUF, from the seed and text in scripts/golden/inputs/lora-case.json.

    .venv-golden/bin/python scripts/golden/make-lora-case.py [--model FILE.gguf] [--out DIR] [--skip-float64-check]

Init (not PEFT's own, so that B is not zero and gradients reach A): g = torch.Generator().manual_seed(seed);
for layers 0..29 and q,k,v,o,gate,up,down in that order, A = randn(r, in, generator=g) / sqrt(in),
then B = randn(out, r, generator=g) * 0.01, both rounded to float16; the file holds exactly the
values used (in float32).

The case: LoraConfig(r=8, lora_alpha=16, lora_dropout=0, bias='none', the seven projections);
loss = transformers' causal-LM loss with labels = input ids (mean over positions 1..n-1); the
L2 norm of every LoRA gradient, their total, the full gradient of layer 0 q_proj's A and B; the
losses after 1, 2, 3 torch AdamW steps (lr 1e-3, betas (0.9, 0.999), eps 1e-8, no weight decay) on
the same text; and a float64 rerun of the model for scale (meta.float64_check, about a minute more:
--skip-float64-check leaves it out).

safetensors' own writer orders the metadata map at random on every run, so this script writes the
file itself (same layout: 8-byte header length, compact JSON header with metadata in a fixed order
and tensors sorted by name, space padding to 8 bytes, little-endian data) and reads it back with
safetensors to check it.
"""
import json
import math
import os
import statistics
import struct

import numpy as np
import torch
from peft import LoraConfig, get_peft_model
from safetensors.numpy import load as load_safetensors

import common

RANK, ALPHA = 8, 16
TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
BLOCK = {"q_proj": "self_attn", "k_proj": "self_attn", "v_proj": "self_attn", "o_proj": "self_attn",
         "gate_proj": "mlp", "up_proj": "mlp", "down_proj": "mlp"}
RECIPE = ("A = randn(r,in)/sqrt(in); B = randn(out,r)*0.01; generator=torch.Generator().manual_seed(seed), "
          "modules in order layer 0..29, q,k,v,o,gate,up,down, A then B; rounded to float16")
KEY_FORMAT = ("peft adapter_model.safetensors names "
              "(base_model.model.model.layers.{i}.{self_attn|mlp}.{proj}.lora_{A|B}.weight)")
FULL_GRAD_NAMES = ["base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight",
                   "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight"]


def adapter_name(layer, proj, which):
    return f"base_model.model.model.layers.{layer}.{BLOCK[proj]}.{proj}.lora_{which}.weight"


def make_init(base_model, seed):
    """{peft name: float16 tensor} in generation order."""
    g = torch.Generator().manual_seed(seed)
    init = {}
    for layer_index, layer in enumerate(base_model.model.layers):
        for proj in TARGETS:
            linear = getattr(getattr(layer, BLOCK[proj]), proj)
            fan_in, fan_out = linear.in_features, linear.out_features
            init[adapter_name(layer_index, proj, "A")] = (torch.randn(RANK, fan_in, generator=g) / math.sqrt(fan_in)).half()
            init[adapter_name(layer_index, proj, "B")] = (torch.randn(fan_out, RANK, generator=g) * 0.01).half()
    return init


def safetensors_bytes(tensors, metadata):
    header = {"__metadata__": metadata}
    offset, blobs = 0, []
    for name in sorted(tensors):
        data = tensors[name].numpy().astype("<f2").tobytes()
        header[name] = {"dtype": "F16", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def lora_parameters(peft_model):
    """{peft name: parameter} for every LoRA matrix."""
    found = {}
    for name, parameter in peft_model.named_parameters():
        if ".lora_A.default." in name or ".lora_B.default." in name:
            found[name.replace(".default.", ".")] = parameter
    return found


def set_lora(peft_model, init):
    parameters = lora_parameters(peft_model)
    assert set(parameters) == set(init), "PEFT's LoRA names differ from the init file's"
    with torch.no_grad():
        for name, value in init.items():
            parameters[name].copy_(value.to(parameters[name].dtype))


def loss_and_gradients(peft_model, ids):
    peft_model.zero_grad(set_to_none=True)
    loss = peft_model(input_ids=ids, labels=ids).loss
    loss.backward()
    return loss.detach()


def main():
    args = common.arguments(__doc__.splitlines()[0], lambda p: p.add_argument(
        "--skip-float64-check", action="store_true", help="leave out meta.float64_check"))
    case = common.read_input("lora-case.json")
    seed, text = case["seed"], case["text"]
    reference = common.reference_tokenizer(common.load_transformers_tokenizer(args.model))
    ids_list = list(reference.encode(text, add_special_tokens=False).ids)
    ids = torch.tensor([ids_list])

    model = common.load_model(args.model)
    init = make_init(model, seed)
    metadata = {"r": str(RANK), "lora_alpha": str(ALPHA), "recipe": RECIPE, "scaling": str(ALPHA / RANK),
                "model_file": os.path.basename(args.model), "key_format": KEY_FORMAT, "seed": str(seed)}
    blob = safetensors_bytes(init, metadata)
    read_back = load_safetensors(blob)
    assert all(np.array_equal(read_back[k], init[k].numpy()) for k in init), "safetensors read-back differs"
    common.write_bytes(os.path.join(args.out, "lora-init.safetensors"), blob)
    common.say(__file__, f"wrote lora-init.safetensors: {len(init)} tensors, seed {seed}")

    with torch.no_grad():
        base_loss = float(model(input_ids=ids, labels=ids).loss)
    config = LoraConfig(r=RANK, lora_alpha=ALPHA, lora_dropout=0.0, bias="none", target_modules=TARGETS)
    peft_model = get_peft_model(model, config)
    set_lora(peft_model, init)
    parameters = lora_parameters(peft_model)
    names = list(init)  # generation order: layer, projection, A then B

    loss = float(loss_and_gradients(peft_model, ids))
    grad_l2 = {name: float(parameters[name].grad.norm()) for name in names}
    full_grad = {name: {"shape": list(parameters[name].shape), "values": parameters[name].grad.tolist()}
                 for name in FULL_GRAD_NAMES}
    grads32 = {name: parameters[name].grad.detach().clone() for name in names}
    # Over every gradient element in float64 (not from the float32 per-tensor norms).
    grad_total = float(torch.cat([grads32[n].double().reshape(-1) for n in names]).norm())
    common.say(__file__, f"loss {loss:.7f} (base {base_loss:.7f})")

    optimizer = torch.optim.AdamW([parameters[n] for n in names], lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                                  weight_decay=0.0)
    after_steps = []
    for _ in range(3):
        optimizer.step()
        after_steps.append(float(loss_and_gradients(peft_model, ids)))
    common.say(__file__, f"losses after 1, 2, 3 AdamW steps: {after_steps}")

    meta = {
        "model_file": os.path.basename(args.model),
        "loader": "transformers from GGUF, float32, attn_implementation='eager'; peft get_peft_model",
        "lora_config": {"r": RANK, "lora_alpha": ALPHA, "lora_dropout": 0.0, "target_modules": TARGETS,
                        "bias": "none", "scaling": ALPHA / RANK,
                        "forward": "y = W x + scaling * B (A x); A: [r, in], B: [out, r]"},
        "init_file": "lora-init.safetensors (F16 storage, exact; keys in peft adapter format)",
        "init_recipe": RECIPE,
        "seed": seed,
        "n_lora_tensors": len(names),
        "n_lora_params": sum(init[n].numel() for n in names),
        "loss_definition": "mean over positions 1..n-1 of -log softmax(logits[i-1])[ids[i]] (transformers labels=input_ids)",
        "generated_by": common.generated_by(__file__),
        "versions": common.versions(),
        "torch_threads": common.TORCH_THREADS,
    }
    if not args.skip_float64_check:
        # The same adapter from its init on a float64 copy of the model: how far float32 rounding goes.
        peft_model.double()
        set_lora(peft_model, init)
        loss64 = loss_and_gradients(peft_model, ids)
        relative = [abs(grad_l2[n] - float(parameters[n].grad.norm())) / float(parameters[n].grad.norm()) for n in names]
        g64 = parameters[FULL_GRAD_NAMES[0]].grad
        meta["float64_check"] = {
            "loss_f64": float(loss64),
            "abs_loss_diff_f32_vs_f64": abs(loss - float(loss64)),
            "max_rel_diff_grad_norms_f32_vs_f64": max(relative),
            "median_rel_diff_grad_norms": statistics.median(relative),
            "layer0_q_lora_A_grad_max_abs_diff_over_max_abs":
                float((grads32[FULL_GRAD_NAMES[0]].double() - g64).abs().max() / g64.abs().max()),
            "note": "model weights/activations in float64; transformers' causal-LM loss upcasts logits with "
                    ".float(), so the cross-entropy itself runs in float32 on both paths",
        }
    meta["suggested_tolerances"] = "loss: 1e-4 abs; grad norms: 1e-3 relative; full gradient: 1e-3 of max |g|"

    document = {
        "meta": meta,
        "text": text,
        "ids": ids_list,
        "n_tokens": len(ids_list),
        "base_model_loss_without_adapters": base_loss,
        "loss": loss,
        "grad_total_l2": grad_total,
        "grad_l2": grad_l2,
        "full_grad": full_grad,
        "adamw": {"lr": 0.001, "betas": [0.9, 0.999], "eps": 1e-08, "weight_decay": 0.0,
                  "loss_after_steps": after_steps,
                  "note": "torch.optim.AdamW over all LoRA params, same text each step, starting from the "
                          "init above; loss measured after each step"},
    }
    common.write_json(os.path.join(args.out, "lora-grad-case.json"), document)
    common.say(__file__, "wrote lora-grad-case.json")


if __name__ == "__main__":
    main()
