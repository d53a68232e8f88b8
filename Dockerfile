# Image for the ingest worker and the query API (docker-compose.yml runs both).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY order_domain ./order_domain
COPY adapters ./adapters
COPY ingest ./ingest
COPY query_api ./query_api
COPY index_templates ./index_templates
COPY retention ./retention
COPY local_stack ./local_stack
COPY orderrepo ./orderrepo
COPY bench ./bench
RUN pip install --no-cache-dir .
USER nobody
ENTRYPOINT ["orderrepo"]
