"""Triton adapter: CODE (bytes) -> input_ids, attention_mask. Logic in clonedetect.preprocessing."""

import json

import triton_python_backend_utils as pb_utils

from clonedetect import paths
from clonedetect.preprocessing.batching import tokenize_requests
from clonedetect.preprocessing.tokenization import CodeTokenizer


class TritonPythonModel:
    def initialize(self, args):
        config = json.loads(args["model_config"])
        self.tokenizer = CodeTokenizer.from_file(paths.version_folder(args) / paths.TOKENIZER_FILE)
        self.multiple = int(config["parameters"]["pad_to_multiple_of"]["string_value"])

    def execute(self, requests):
        codes = [pb_utils.get_input_tensor_by_name(r, "CODE").as_numpy().reshape(-1) for r in requests]
        responses = []
        for result in tokenize_requests(self.tokenizer, codes, self.multiple):
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
