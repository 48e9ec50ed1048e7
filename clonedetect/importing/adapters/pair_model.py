"""Triton adapter for the bundled server: an imported cross-encoder's model.onnx through
onnxruntime in the Python backend. Logic in clonedetect.importing.pair_scoring."""

import json

import triton_python_backend_utils as pb_utils

from clonedetect import paths
from clonedetect.importing.pair_scoring import PairScorer

INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class TritonPythonModel:
    def initialize(self, args):
        parameters = json.loads(args["model_config"]).get("parameters", {})

        def parameter(key, default):
            return int(parameters.get(key, {}).get("string_value", default))

        self.scorer = PairScorer(
            paths.version_folder(args) / paths.ENCODER_FILE,
            intra_op_threads=parameter("intra_op_thread_count", 0),
            inter_op_threads=parameter("inter_op_thread_count", 1),
            allow_spinning=bool(parameter("allow_spinning", 1)),
        )

    def execute(self, requests):
        tensors = [
            tuple(pb_utils.get_input_tensor_by_name(request, name).as_numpy() for name in INPUTS)
            for request in requests
        ]
        responses = []
        for result in self.scorer.score_requests(tensors):
            if isinstance(result, Exception):
                error = pb_utils.TritonError(str(result), pb_utils.TritonError.INVALID_ARG)
                responses.append(pb_utils.InferenceResponse(error=error))
                continue
            # A cross-encoder yields one score: SIMILARITY and PROBABILITY are both that score.
            outputs = [pb_utils.Tensor("similarity", result), pb_utils.Tensor("probability", result.copy())]
            responses.append(pb_utils.InferenceResponse(outputs))
        return responses
