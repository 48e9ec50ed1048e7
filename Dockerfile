# Serving image: NVIDIA Triton Inference Server with this project's model repository.
#
#   docker build -t REGISTRY/clonedetect-triton:2.51.0 .
#
# The base is the official Triton container; 24.10 ships Triton 2.51.0, the version
# of the bundled local server and the Helm chart's appVersion. It has the ONNX
# Runtime backend (code_clone_detector) and the Python backend (code_tokenizer,
# clone_scorer), whose stub runs the image's python3.
FROM nvcr.io/nvidia/tritonserver:24.10-py3

# The Python-backend models import the `clonedetect` package: install it with its
# serving dependencies only (numpy<2, tokenizers, onnxruntime, tritonclient; no torch,
# no extras) into the interpreter the stub uses.
WORKDIR /opt/clonedetect/src
COPY pyproject.toml README.md LICENSE ./
COPY clonedetect/ clonedetect/
COPY client/ client/
COPY preprocessing/ preprocessing/
COPY obfuscation/ obfuscation/
COPY training/ training/
COPY evaluation/ evaluation/
COPY load_tests/ load_tests/
RUN python3 -m pip install --no-cache-dir . \
    && rm -rf /opt/clonedetect/src

# The models, at the path the chart passes to --model-repository.
COPY model_repository/ /models/

# Unprivileged runtime user (numeric, so runAsNonRoot can verify it).
RUN groupadd --gid 10001 clonedetect \
    && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /tmp --shell /usr/sbin/nologin clonedetect

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    OMP_NUM_THREADS=1 \
    CLONEDETECT_CACHE_DIR=/tmp/clonedetect

WORKDIR /tmp
USER 10001:10001
EXPOSE 8000 8001 8002

# NVIDIA's entrypoint stays; the chart passes its own tritonserver command line. This
# default (for `docker run`) is clonedetect.server.server_arguments("/models",
# host="0.0.0.0", model_config_name=None): a test fails if the two differ. Model control
# is open here: pass the --http-restricted-api / --grpc-restricted-protocol flags of
# `clonedetect serve --admin-key` (or use the chart) before exposing the ports.
CMD ["tritonserver", \
     "--model-repository=/models", \
     "--model-control-mode=explicit", \
     "--load-model=*", \
     "--strict-readiness=true", \
     "--http-address=0.0.0.0", \
     "--http-port=8000", \
     "--grpc-address=0.0.0.0", \
     "--grpc-port=8001", \
     "--allow-metrics=true", \
     "--metrics-address=0.0.0.0", \
     "--metrics-port=8002", \
     "--metrics-config=summary_latencies=true", \
     "--cache-config=local,size=268435456", \
     "--exit-timeout-secs=10"]
