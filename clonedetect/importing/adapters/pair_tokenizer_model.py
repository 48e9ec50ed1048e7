"""Triton adapter: CODE_A, CODE_B (bytes) -> window pairs (input_ids, attention_mask,
token_type_ids) with an imported cross-encoder's tokenizer. Logic in
clonedetect.importing.pair_windows."""

import triton_python_backend_utils as pb_utils

from clonedetect import paths
from clonedetect.importing.pair_windows import PairWindowTokenizer, tokenize_pair_request

OUTPUTS = ("input_ids", "attention_mask", "token_type_ids")


class TritonPythonModel:
    def initialize(self, args):
        self.tokenizer = PairWindowTokenizer.from_file(paths.version_folder(args) / paths.TOKENIZER_FILE)

    def execute(self, requests):
        responses = []
        for request in requests:
            codes_a = pb_utils.get_input_tensor_by_name(request, "CODE_A").as_numpy().reshape(-1)
            codes_b = pb_utils.get_input_tensor_by_name(request, "CODE_B").as_numpy().reshape(-1)
            result = tokenize_pair_request(self.tokenizer, codes_a, codes_b)
            if isinstance(result, Exception):
                error = pb_utils.TritonError(str(result), pb_utils.TritonError.INVALID_ARG)
                responses.append(pb_utils.InferenceResponse(error=error))
                continue
            tensors = [pb_utils.Tensor(name, array) for name, array in zip(OUTPUTS, result, strict=True)]
            responses.append(pb_utils.InferenceResponse(tensors))
        return responses
