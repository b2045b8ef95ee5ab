#!/usr/bin/env python3
"""Compares regenerated golden files with the committed ones and prints a verdict per file.

    python3 scripts/golden/compare.py --reference Tests/Golden --new /tmp/golden-new

Needs numpy only (and safetensors for lora-init.safetensors when its bytes differ). Verdicts:
  identical         the same bytes
  equal             the same values; only provenance differs (generated_by, versions)
  within tolerance  some floats differ, all inside the rule below; the largest differences are printed
  DIFFERENT         a value outside its rule, a changed id/token/shape/key, or a missing file
Exit status 0 when no file is DIFFERENT.

The rule: everything is compared exactly (ids, tokens, text, metadata, shapes, integers, booleans)
except the float fields listed in TOLERANCES: |new - committed| <= atol + rtol * |committed| (with
atol scaled by the field's largest committed magnitude where `of_max` is set). These are a tenth of
what the Swift tests allow against the same numbers, so a regenerated golden keeps 90% of each
test's margin. Fields marked "info" are measurements of other implementations (llama.cpp, a float64
rerun): their differences are printed, never failed.
"""
import argparse
import fnmatch
import json
import os
import sys

PROVENANCE_KEYS = {"generated_by", "versions"}

# (file, field pattern, rule). Patterns are paths with list indices dropped: `cases.nll`,
# `grad_l2.*`, `tensors.sum`. The Swift tests' tolerances, for comparison, are in Tests/Golden/README.md.
TOLERANCES = [
    ("smollm2-dequant-stats.json", "tensors.sum", {"rtol": 1e-6, "atol": 1e-6}),
    ("smollm2-dequant-stats.json", "tensors.sumsq", {"rtol": 1e-6}),
    ("forward-cases.json", "cases.nll", {"atol": 1e-4}),
    ("forward-cases.json", "cases.mean_loss", {"atol": 2e-5}),
    ("forward-cases.json", "cases.top5_last", {"atol": 2e-4}),
    ("forward-cases.json", "cases.full_last_logits", {"atol": 2e-4}),
    ("forward-cases.json", "cases.last_logits_stats.*", {"atol": 2e-4}),
    ("forward-cases.json", "cases.attn_layer0_head0", {"atol": 1e-5}),
    ("forward-cases.json", "cases.attn_last_layer_head0.probs", {"atol": 1e-5}),
    ("forward-cases.json", "cases.hidden_l2_last_pos", {"rtol": 1e-5}),
    ("forward-cases.json", "cases.llama_cpp_q4_1.*", {"info": True}),
    ("lora-grad-case.json", "loss", {"atol": 1e-5}),
    ("lora-grad-case.json", "base_model_loss_without_adapters", {"atol": 1e-5}),
    ("lora-grad-case.json", "grad_l2.*", {"rtol": 1e-4}),
    ("lora-grad-case.json", "grad_total_l2", {"rtol": 1e-4}),
    ("lora-grad-case.json", "full_grad.*.values", {"atol": 1e-4, "of_max": True}),
    ("lora-grad-case.json", "adamw.loss_after_steps", {"atol": 1e-4}),
    ("lora-grad-case.json", "meta.float64_check.*", {"info": True}),
]

FILES = ["smollm2-gguf-metadata.json", "smollm2-dequant-stats.json", "tokenizer-cases.jsonl",
         "forward-cases.json", "lora-init.safetensors", "lora-grad-case.json"]


def rule_for(file, family):
    for name, pattern, rule in TOLERANCES:
        if name == file and fnmatch.fnmatchcase(family, pattern):
            return rule, pattern
    return None, None


def information_only(file, family):
    """Whether a section's fields are all measurements that are printed, never checked."""
    rule, _ = rule_for(file, family + ".*")
    return bool(rule and rule.get("info"))


class Report:
    def __init__(self, file):
        self.file = file
        self.failures = []      # messages
        self.provenance = []    # paths whose provenance differs
        self.floats = {}        # pattern -> FloatSummary
        self.scales = {}        # family -> largest committed |value| (for of_max rules)

    def fail(self, path, message):
        self.failures.append(f"{path}: {message}")


class FloatSummary:
    """The largest difference of one tolerance rule's fields, and the largest share of its allowance."""
    def __init__(self, info):
        self.info = info
        self.count = 0
        self.worst_abs, self.worst_abs_at = 0.0, None
        self.worst_rel = 0.0
        self.worst_share, self.worst_share_at = 0.0, None

    def add(self, diff, allowed, committed, path):
        self.count += 1
        if diff > self.worst_abs or self.worst_abs_at is None:
            self.worst_abs, self.worst_abs_at = diff, path
        if committed != 0:
            self.worst_rel = max(self.worst_rel, diff / abs(committed))
        share = diff / allowed if allowed > 0 else (0.0 if diff == 0 else float("inf"))
        if share > self.worst_share or self.worst_share_at is None:
            self.worst_share, self.worst_share_at = share, path

    def line(self, pattern, rule):
        text = (f"{pattern}: {self.count} values, max |diff| {self.worst_abs:.3g} at {self.worst_abs_at}, "
                f"max relative {self.worst_rel:.3g}")
        if self.info:
            return text + " (information, not checked)"
        return text + f"; rule {rule}: at most {100 * self.worst_share:.2g}% of the allowance used"


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def collect_scales(value, family, scales):
    if isinstance(value, dict):
        for k, v in value.items():
            collect_scales(v, f"{family}.{k}" if family else k, scales)
    elif isinstance(value, list):
        for v in value:
            collect_scales(v, family, scales)
    elif is_number(value):
        scales[family] = max(scales.get(family, 0.0), abs(value))


def walk(new, old, path, family, report):
    if isinstance(old, dict) and isinstance(new, dict):
        for key in list(old) + [k for k in new if k not in old]:
            sub_path = f"{path}.{key}" if path else key
            sub_family = f"{family}.{key}" if family else key
            if key in PROVENANCE_KEYS:
                if old.get(key) != new.get(key):
                    report.provenance.append(sub_path)
            elif key not in new and information_only(report.file, sub_family):
                report.provenance.append(f"{sub_path} left out (information only)")
            elif key not in new:
                report.fail(sub_path, "missing from the new file")
            elif key not in old:
                report.fail(sub_path, "not in the committed file")
            else:
                walk(new[key], old[key], sub_path, sub_family, report)
        if list(k for k in old if k in new) != list(k for k in new if k in old):
            report.fail(path or "(top)", "keys in a different order")
        return
    if isinstance(old, list) and isinstance(new, list):
        if len(old) != len(new):
            report.fail(path, f"{len(new)} entries, committed {len(old)}")
            return
        for i, (n, o) in enumerate(zip(new, old)):
            walk(n, o, f"{path}[{i}]", family, report)
        return
    rule, pattern = rule_for(report.file, family)
    if rule and isinstance(old, float) and isinstance(new, float):
        diff = abs(new - old)
        atol = rule.get("atol", 0.0) * (report.scales.get(family, 1.0) if rule.get("of_max") else 1.0)
        allowed = atol + rule.get("rtol", 0.0) * abs(old)
        report.floats.setdefault(pattern, FloatSummary(rule.get("info", False))).add(diff, allowed, old, path)
        if not rule.get("info") and diff > allowed:
            report.fail(path, f"{new!r} vs committed {old!r} (|diff| {diff:.3g} over the rule {rule})")
        return
    if type(new) is not type(old) or new != old:
        report.fail(path, f"{json.dumps(new, ensure_ascii=False)[:120]} vs committed {json.dumps(old, ensure_ascii=False)[:120]}")


def compare_json(file, new_text, old_text, report):
    if file.endswith(".jsonl"):
        new = [json.loads(line) for line in new_text.split("\n") if line.strip()]
        old = [json.loads(line) for line in old_text.split("\n") if line.strip()]
        new, old = {"lines": new}, {"lines": old}
    else:
        new, old = json.loads(new_text), json.loads(old_text)
    collect_scales(old, "", report.scales)
    walk(new, old, "", "", report)


def compare_safetensors(new_bytes, old_bytes, report):
    from safetensors.numpy import load
    import numpy as np
    import struct
    header = lambda b: json.loads(b[8:8 + struct.unpack("<Q", b[:8])[0]])
    new_header, old_header = header(new_bytes), header(old_bytes)
    if new_header.get("__metadata__") != old_header.get("__metadata__"):
        report.fail("__metadata__", f"{new_header.get('__metadata__')} vs committed {old_header.get('__metadata__')}")
    new, old = load(new_bytes), load(old_bytes)
    if sorted(new) != sorted(old):
        report.fail("tensors", f"names differ: {sorted(set(new) ^ set(old))[:4]}")
        return
    worst, where, differing = 0.0, None, 0
    for name in old:
        if new[name].shape != old[name].shape or new[name].dtype != old[name].dtype:
            report.fail(name, f"{new[name].dtype}{list(new[name].shape)} vs committed {old[name].dtype}{list(old[name].shape)}")
            continue
        diff = np.abs(new[name].astype(np.float64) - old[name].astype(np.float64))
        differing += int((diff > 0).sum())
        if diff.max() > worst:
            worst, where = float(diff.max()), name
    if differing:
        report.fail(where, f"{differing} values differ (the init must be exact), largest |diff| {worst:.3g}")
    else:
        report.provenance.append("layout (values, names, shapes and metadata equal)")


def compare_file(file, new_dir, old_dir):
    report = Report(file)
    new_path, old_path = os.path.join(new_dir, file), os.path.join(old_dir, file)
    if not os.path.exists(old_path) or not os.path.exists(new_path):
        report.fail(file, "missing " + ("committed file" if not os.path.exists(old_path) else "regenerated file"))
        return report, "DIFFERENT"
    with open(new_path, "rb") as f:
        new_bytes = f.read()
    with open(old_path, "rb") as f:
        old_bytes = f.read()
    if new_bytes == old_bytes:
        return report, "identical"
    if file.endswith(".safetensors"):
        compare_safetensors(new_bytes, old_bytes, report)
    else:
        compare_json(file, new_bytes.decode("utf-8"), old_bytes.decode("utf-8"), report)
    if report.failures:
        return report, "DIFFERENT"
    if any(not f.info and f.worst_abs > 0 for f in report.floats.values()):
        return report, "within tolerance"
    return report, "equal"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", required=True, help="the committed files (e.g. Tests/Golden)")
    parser.add_argument("--new", required=True, help="the regenerated files")
    parser.add_argument("files", nargs="*", default=FILES, help="which files (default: all six)")
    args = parser.parse_args()
    bad = 0
    for file in args.files:
        report, verdict = compare_file(file, args.new, args.reference)
        bad += verdict == "DIFFERENT"
        print(f"{file}: {verdict}")
        if report.provenance:
            print(f"    not compared (provenance, information only): {', '.join(report.provenance)}")
        rules = {pattern: rule for name, pattern, rule in TOLERANCES if name == file}
        for pattern, summary in report.floats.items():
            print("    " + summary.line(pattern, {k: v for k, v in rules[pattern].items() if k != "info"}))
        for message in report.failures[:12]:
            print(f"    ! {message}")
        if len(report.failures) > 12:
            print(f"    ! … and {len(report.failures) - 12} more")
    print("compare: " + ("all files agree" if bad == 0 else f"{bad} file(s) DIFFERENT"))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
