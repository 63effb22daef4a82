# One image for both nodes; docker-compose.yml picks the command.
FROM python:3.11-slim
WORKDIR /app
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONUNBUFFERED=1 PRIVSYNTH_MODEL_CACHE=/models
# torch comes first and pinned; on CPU-only hosts pass a CPU wheel index as TORCH_INDEX_URL to avoid CUDA builds.
ARG TORCH_INDEX_URL=""
RUN pip install --no-cache-dir torch==2.13.0 ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"}
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY client_node ./client_node
COPY server_node ./server_node
RUN pip install --no-cache-dir .
