"""Triton adapter: CODE_A, CODE_B (bytes) -> the same programs as CHECKED_A, CHECKED_B, or the
request's INVALID_ARG error. Logic in clonedetect.preprocessing.validation."""

import triton_python_backend_utils as pb_utils

from clonedetect.preprocessing.validation import CodeInputError, decode_pairs


class TritonPythonModel:
    def execute(self, requests):
        responses = []
        for request in requests:
            code_a = pb_utils.get_input_tensor_by_name(request, "CODE_A").as_numpy()
            code_b = pb_utils.get_input_tensor_by_name(request, "CODE_B").as_numpy()
            try:
                decode_pairs(code_a.reshape(-1), code_b.reshape(-1))
            except CodeInputError as error:
                responses.append(
                    pb_utils.InferenceResponse(error=pb_utils.TritonError(str(error), pb_utils.TritonError.INVALID_ARG))
                )
                continue
            responses.append(
                pb_utils.InferenceResponse([pb_utils.Tensor("CHECKED_A", code_a), pb_utils.Tensor("CHECKED_B", code_b)])
            )
        return responses
