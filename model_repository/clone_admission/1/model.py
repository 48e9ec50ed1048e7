"""Triton adapter: CODE -> the same programs as ADMITTED, or UNAVAILABLE while the server is
over capacity. Logic in clonedetect.admission."""

import triton_python_backend_utils as pb_utils

from clonedetect.admission import Admission


class TritonPythonModel:
    def initialize(self, args):
        self.admission = Admission.for_model(args)

    def execute(self, requests):
        if not self.admission.admit():
            # One TritonError per response: one error object shared by a batch's responses
            # crashed tritonserver 2.51 (SIGSEGV in the Python backend).
            message = self.admission.refusal()
            return [
                pb_utils.InferenceResponse(error=pb_utils.TritonError(message, pb_utils.TritonError.UNAVAILABLE))
                for _ in requests
            ]
        codes = [pb_utils.get_input_tensor_by_name(r, "CODE").as_numpy() for r in requests]
        return [pb_utils.InferenceResponse([pb_utils.Tensor("ADMITTED", code)]) for code in codes]

    def finalize(self):
        self.admission.close()
