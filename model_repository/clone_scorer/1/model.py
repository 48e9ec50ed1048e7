"""Triton adapter: EMBEDDING_A, EMBEDDING_B, VERIFICATION, LITERALS -> SIMILARITY, PROBABILITY.

Logic in clonedetect.scoring.
"""

import triton_python_backend_utils as pb_utils

from clonedetect import paths
from clonedetect.scoring import Calibration, score


class TritonPythonModel:
    def initialize(self, args):
        self.calibration = Calibration.load(paths.version_folder(args) / paths.CALIBRATION_FILE)

    def execute(self, requests):
        responses = []
        for request in requests:
            a = pb_utils.get_input_tensor_by_name(request, "EMBEDDING_A").as_numpy()
            b = pb_utils.get_input_tensor_by_name(request, "EMBEDDING_B").as_numpy()
            verification = pb_utils.get_input_tensor_by_name(request, "VERIFICATION").as_numpy()
            literals = pb_utils.get_input_tensor_by_name(request, "LITERALS").as_numpy()
            similarity, probability = score(a, b, verification, literals, self.calibration)
            responses.append(
                pb_utils.InferenceResponse(
                    [
                        pb_utils.Tensor("SIMILARITY", similarity.reshape(-1, 1)),
                        pb_utils.Tensor("PROBABILITY", probability.reshape(-1, 1)),
                    ]
                )
            )
        return responses
