"""Code processing on the serving path: input checks, comment removal, declaration lists
and tokenisation, shared by the Triton models, training and the client.

It needs only the serving install (numpy, tokenizers): no tree-sitter. The obfuscation
generator that makes disguised training and evaluation copies is a separate package,
:mod:`clonedetect.obfuscation`, which serving never imports.
"""
