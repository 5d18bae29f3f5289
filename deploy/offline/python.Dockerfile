# Local Python base for the service image (deploy/offline/build-images.sh): Debian's python3
# in a venv at /opt/python, first on PATH, as `python` and `pip` are in the public python
# images.  Debian's own pip refuses to install into the system (PEP 668); a venv is the way.
# python3-dev: the service Dockerfile's builder stage compiles durable-rules (C sources).
# pip is upgraded from the index as in the public images: Debian's venv pip (23.0) cannot build
# an sdist without pyproject.toml (durable-rules) unless `wheel` is installed; newer pip builds
# it in an isolated environment.  The static libpython (25 MB) is never linked by an extension.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}

# The package index pip uses during the service build (a PyPI mirror on a closed network);
# empty: pip's default.  Written to /etc/pip.conf, which pip reads inside the venv too.
ARG PIP_INDEX_URL=
ARG PIP_TRUSTED_HOST=

RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv python3-dev ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && rm -f /usr/lib/python3*/config-*/libpython3*.a \
 && python3 -m venv /opt/python \
 && { echo '[global]'; \
      echo 'cert = /etc/ssl/certs/ca-certificates.crt'; \
      if [ -n "$PIP_INDEX_URL" ]; then echo "index-url = $PIP_INDEX_URL"; fi; \
      if [ -n "$PIP_TRUSTED_HOST" ]; then echo "trusted-host = $PIP_TRUSTED_HOST"; fi; \
    } > /etc/pip.conf \
 && /opt/python/bin/pip install --no-cache-dir --disable-pip-version-check --upgrade pip \
 && /opt/python/bin/pip --version

ENV PATH=/opt/python/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8

CMD ["python3"]
