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

``--cross-encoder`` (a sequence-classification model scoring a pair, served as
``NAME_compare`` with clone_compare's interface) has its own layers beside those:
:mod:`.cross_encoder_source` (load, check the head), :mod:`.pair_windows` (the pair layout
and the long-input rule), :mod:`.pair_export` (ONNX with the window-pair maximum in the
graph), :mod:`.pair_parity`, :mod:`.pair_scoring` (the bundled server's runner),
:mod:`.pair_model_configs` and :mod:`.pair_pipeline` (:func:`import_cross_encoder`).

Only the tokenizer steps and the model adapters run in Triton; they import
:mod:`clonedetect.preprocessing`, :mod:`clonedetect.onnx_encoder`, :mod:`.pair_windows` and
:mod:`.pair_scoring`, never torch.
"""
