"""Writes pretokenizer-cases.json: how Hugging Face tokenizers' own Split pre-tokenizer cuts texts
with the GPT-2, Llama 3 and Qwen2 patterns (the oracle for PatternSplitter).

Command (tokenizers 0.23.3):  (in Tests/Fixtures/PersonaText) python3 make_pretokenizer_cases.py ../../Golden/tokenizer-cases.jsonl
"""
import json
import sys

from tokenizers import Regex, pre_tokenizers

PATTERNS = {
    "gpt2": r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+",
    "llama3": r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
    "qwen2": r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
}

texts = [
    "Hello world", "I'LL be there, won't you? She'S here", "12345 apples and 7 pears", "  two spaces\n\n  indent\r\n\tTab",
    "(hello) [x] {y}!!\n\nnext", "price: $1,234.56!", "emoji 👍🏽 ok 👨‍👩‍👧", "naïve café Ünïcödé", "a\u00a0b\u3000c\u2028d",
    "x  \n y", "'s 'S 'Re 'vE 'LL 'd 'x", "\n", "...\n\nok", "  \n\n  \t \r\n x", "٣ १२३ Ⅳ ½ ²", "日本語のテキスト", "مرحبا بالعالم",
    "https://example.com/a?b=1&c=2#frag", "it's   done...   ", "tabs\t\t\tand\u000bvt\u000cff", "ſ 'ſ", "end with space ",
]
if len(sys.argv) > 1:
    for line in open(sys.argv[1], encoding="utf-8"):
        case = json.loads(line)
        if "text" in case and "<|" not in case["text"]:
            texts.append(case["text"])

cases = []
for text in texts:
    case = {"text": text}
    for name, pattern in PATTERNS.items():
        splitter = pre_tokenizers.Split(Regex(pattern), behavior="isolated")
        case[name] = [piece for piece, _ in splitter.pre_tokenize_str(text)]
    cases.append(case)
json.dump({"generated_by": "make_pretokenizer_cases.py with tokenizers 0.23.3", "cases": cases},
          open("pretokenizer-cases.json", "w", encoding="utf-8"), ensure_ascii=False, indent=0)
print(len(cases), "cases")
