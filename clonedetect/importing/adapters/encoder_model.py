"""Triton adapter for the bundled server: model.onnx through onnxruntime in the
Python backend. Logic in clonedetect.onnx_encoder."""

import json

import triton_python_backend_utils as pb_utils

from clonedetect import paths
from clonedetect.onnx_encoder import EncoderInputError, OnnxEncoder, unpad


class TritonPythonModel:
    def initialize(self, args):
        parameters = json.loads(args["model_config"]).get("parameters", {})

        def parameter(key, default):
            return int(parameters.get(key, {}).get("string_value", default))

        self.encoder = OnnxEncoder(
            paths.version_folder(args) / paths.ENCODER_FILE,
            intra_op_threads=parameter("intra_op_thread_count", 0),
            inter_op_threads=parameter("inter_op_thread_count", 1),
            allow_spinning=bool(parameter("allow_spinning", 1)),
        )

    def execute(self, requests):
        sequences, counts = [], []
        for request in requests:
            ids = pb_utils.get_input_tensor_by_name(request, "input_ids").as_numpy()
            mask = pb_utils.get_input_tensor_by_name(request, "attention_mask").as_numpy()
            try:
                rows = unpad(ids, mask)
            except EncoderInputError as error:
                counts.append(error)
                continue
            sequences.extend(rows)
            counts.append(len(rows))
        embeddings = self.encoder.embed_sequences(sequences) if sequences else None
        responses, start = [], 0
        for count in counts:
            if isinstance(count, EncoderInputError):
                error = pb_utils.TritonError(str(count), pb_utils.TritonError.INVALID_ARG)
                responses.append(pb_utils.InferenceResponse(error=error))
                continue
            batch = embeddings[start : start + count]
            start += count
            responses.append(pb_utils.InferenceResponse([pb_utils.Tensor("embedding", batch)]))
        return responses
