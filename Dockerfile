# Catalog Gateway. MongoDB is external here (MONGODB_URI), so the embedded-mongod extra is
# not installed. The emulator extra is: docker-compose.yml sets no CLOUDINARY_URL, so the
# gateway starts the Cloudinary emulator (cloudinary_emulator/) to serve the demo catalog's
# media; with CLOUDINARY_URL set the gateway never imports it.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY pyproject.toml README.md ./
COPY gateway/ gateway/
COPY schema/ schema/
COPY resolvers/ resolvers/
COPY demo/ demo/
COPY cloudinary_emulator/ cloudinary_emulator/
RUN pip install --no-cache-dir ".[emulator]" \
    && rm -rf /src/build /src/*.egg-info

RUN useradd --system --uid 10001 --user-group --home-dir /app --create-home catalog
USER catalog
WORKDIR /app

# Listen on all interfaces inside the container (the default, 127.0.0.1, is unreachable).
ENV CATALOG_HOST=0.0.0.0 \
    CATALOG_PORT=8000
EXPOSE 8000

CMD ["catalog-gateway", "serve"]
