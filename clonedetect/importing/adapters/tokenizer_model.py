"""Triton adapter: CODE (bytes) -> whole windows of input_ids, attention_mask, with an
imported model's tokenizer. Logic in clonedetect.preprocessing."""

import triton_python_backend_utils as pb_utils

from clonedetect import paths
from clonedetect.preprocessing.batching import tokenize_requests
from clonedetect.preprocessing.windowed_tokenization import WindowedTokenizer


class TritonPythonModel:
    def initialize(self, args):
        self.tokenizer = WindowedTokenizer.from_file(paths.version_folder(args) / paths.TOKENIZER_FILE)

    def execute(self, requests):
        codes = [pb_utils.get_input_tensor_by_name(r, "CODE").as_numpy().reshape(-1) for r in requests]
        responses = []
        # Each request is padded to whole windows: its programs' window counts decide the shape.
        for result in tokenize_requests(self.tokenizer, codes, self.tokenizer.window):
            if isinstance(result, Exception):
                error = pb_utils.TritonError(str(result), pb_utils.TritonError.INVALID_ARG)
                responses.append(pb_utils.InferenceResponse(error=error))
                continue
            input_ids, attention_mask = result
            responses.append(
                pb_utils.InferenceResponse(
                    [pb_utils.Tensor("input_ids", input_ids), pb_utils.Tensor("attention_mask", attention_mask)]
                )
            )
        return responses
