"""Triton adapter: CODE_A, CODE_B (bytes) -> VERIFICATION, LITERALS, EVIDENCE (JSON).

Logic in clonedetect.verification.
"""

import numpy as np
import triton_python_backend_utils as pb_utils

from clonedetect import paths
from clonedetect.literals import LiteralRarity
from clonedetect.verification import verify_request


class TritonPythonModel:
    def initialize(self, args):
        self.rarity = LiteralRarity.load(paths.version_folder(args) / paths.LITERAL_RARITY_FILE)

    def execute(self, requests):
        responses = []
        for request in requests:
            codes_a = pb_utils.get_input_tensor_by_name(request, "CODE_A").as_numpy().reshape(-1)
            codes_b = pb_utils.get_input_tensor_by_name(request, "CODE_B").as_numpy().reshape(-1)
            result = verify_request(codes_a, codes_b, self.rarity)
            if isinstance(result, Exception):
                error = pb_utils.TritonError(str(result), pb_utils.TritonError.INVALID_ARG)
                responses.append(pb_utils.InferenceResponse(error=error))
                continue
            scores, literal_scores, evidence = result
            responses.append(
                pb_utils.InferenceResponse(
                    [
                        pb_utils.Tensor("VERIFICATION", scores.reshape(-1, 1)),
                        pb_utils.Tensor("LITERALS", literal_scores.reshape(-1, 1)),
                        pb_utils.Tensor("EVIDENCE", np.array(evidence, dtype=np.object_).reshape(-1, 1)),
                    ]
                )
            )
        return responses
