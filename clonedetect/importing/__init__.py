"""``clonedetect import-model``: serve a fine-tuned transformer of one's own.

Layers, each a module with one job: :mod:`.tokenizer_source` (load the HuggingFace
tokenizer, check it fits the model), :mod:`.huggingface_source` and :mod:`.torch_export`
(a HuggingFace directory -> ONNX with windowing, pooling and normalisation in the graph),
:mod:`.onnx_source` and :mod:`.onnx_wrapping` (an existing ONNX encoder, checked and
wrapped to the same interface), :mod:`.parity` (agreement with the source model),
:mod:`.optimisation` (onnxruntime fusions, serving metadata, INT8), :mod:`.model_configs`
and :mod:`.model_card` (what is written), :mod:`.staging` and :mod:`.repository` (build
aside, then move in), :mod:`.pipeline` (the one call, :func:`import_model`) and
:mod:`.command` (the CLI). ``adapters/`` holds the Triton ``model.py`` files it installs.

Only the tokenizer step and the encoder adapter run in Triton; they import
:mod:`clonedetect.preprocessing` and :mod:`clonedetect.onnx_encoder`, never torch.
"""
