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

# NVIDIA's entrypoint stays; the chart passes the full tritonserver command line.
CMD ["tritonserver", "--model-repository=/models", "--model-control-mode=explicit", "--load-model=*", "--metrics-config=summary_latencies=true"]
