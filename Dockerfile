# The collector's image: `collector` as entrypoint, run as an unprivileged user.
# Build with `make image` (or `docker build .`); the Kubernetes manifests in deploy/ run it.
#
# Two stages: the first builds the wheel and installs it, with the dependencies from the
# hashed lock in requirements/, into a virtualenv that has no pip; the second copies only
# that virtualenv onto a fresh slim Python, so no compiler, build tool or cache ships.
#
# The base image is pinned by digest (the multi-platform index of python:3.11-slim-bookworm,
# Python 3.11.16 on Debian 12, as Docker Hub published it): a tag moves under you, a digest
# does not. The tag is kept for people; the digest decides. To move it to today's image:
#   docker buildx imagetools inspect python:3.11-slim-bookworm   (the "Digest:" line)
#   crane digest python:3.11-slim-bookworm                       (the same, with crane)
# then replace the sha256 below, rebuild, and run the image's tests (docs/deploying.md).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm@sha256:2e32f7d302adc1c37428355c1e646897c0c53f4fd60b6a551245fb90ee129f91

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY requirements/ requirements/
RUN python -m pip install --require-hashes -r requirements/pip.txt \
    && python -m pip install --require-hashes -r requirements/build.txt \
    && python -m venv --without-pip /opt/collector \
    && python -m pip --python /opt/collector/bin/python install --require-hashes \
        -r requirements/runtime.txt
COPY pyproject.toml setup.py README.md ./
COPY collector/ collector/
COPY migrations/ migrations/
RUN python -m pip wheel --no-deps --no-build-isolation --wheel-dir /tmp/dist . \
    && python -m pip --python /opt/collector/bin/python install --no-deps /tmp/dist/*.whl \
    && python -m compileall -q /opt/collector

FROM ${PYTHON_IMAGE}
ARG VERSION=0.1.0
ARG SOURCE=unknown
ARG REVISION=unknown
LABEL org.opencontainers.image.title="appflow-inventory" \
      org.opencontainers.image.description="A SQL inventory of AWS AppFlow connector profiles across an organization" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN groupadd --system --gid 10001 collector \
    && useradd --system --uid 10001 --gid collector --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin collector
COPY --from=build /opt/collector /opt/collector
ENV PATH=/opt/collector/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
# A writable working directory for the SQLite default; PostgreSQL needs none.
WORKDIR /var/lib/appflow-inventory
RUN chown collector:collector /var/lib/appflow-inventory
USER 10001:10001
ENTRYPOINT ["collector"]
CMD ["--help"]
