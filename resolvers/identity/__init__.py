"""Identity resolution: which upstream records are the same person.

``normalize`` turns vendor-typed contact data into comparable keys, ``placeholders`` says which
keys must never join anyone, and ``resolve`` clusters records into people under the rules of
DESIGN.md §5 (email strong, phone weak, per-source limits, every merge explained).
"""
