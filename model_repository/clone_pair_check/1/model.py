"""Triton adapter: CODE_A, CODE_B (bytes) -> the same programs as CHECKED_A, CHECKED_B, or the
request's INVALID_ARG error, or UNAVAILABLE while the server is over capacity. Logic in
clonedetect.preprocessing.validation and clonedetect.admission."""

import triton_python_backend_utils as pb_utils

from clonedetect.admission import Admission
from clonedetect.preprocessing.validation import CodeInputError, decode_pairs


def _error(message, code):
    return pb_utils.InferenceResponse(error=pb_utils.TritonError(message, code))


class TritonPythonModel:
    def initialize(self, args):
        self.admission = Admission.for_model(args)

    def execute(self, requests):
        if not self.admission.admit():
            return [_error(self.admission.refusal(), pb_utils.TritonError.UNAVAILABLE) for _ in requests]
        responses = []
        for request in requests:
            code_a = pb_utils.get_input_tensor_by_name(request, "CODE_A").as_numpy()
            code_b = pb_utils.get_input_tensor_by_name(request, "CODE_B").as_numpy()
            try:
                decode_pairs(code_a.reshape(-1), code_b.reshape(-1))
            except CodeInputError as error:
                responses.append(_error(str(error), pb_utils.TritonError.INVALID_ARG))
                continue
            responses.append(
                pb_utils.InferenceResponse([pb_utils.Tensor("CHECKED_A", code_a), pb_utils.Tensor("CHECKED_B", code_b)])
            )
        return responses

    def finalize(self):
        self.admission.close()
