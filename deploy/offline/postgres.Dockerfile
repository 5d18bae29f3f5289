# Local PostgreSQL image from Debian's packages (deploy/offline/build-images.sh), with the
# interface compose.yaml uses of the public postgres image: POSTGRES_USER / POSTGRES_PASSWORD /
# POSTGRES_DB on first start, data in /var/lib/postgresql/data, `postgres -c …` as command,
# pg_isready on PATH.  The suite's PostgreSQL version (bookworm: 15).
ARG BASE_IMAGE
FROM ${BASE_IMAGE}

# No cluster at package install: the entrypoint creates one in the volume on first start.
RUN mkdir -p /etc/postgresql-common \
 && echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.conf \
 && apt-get update \
 && apt-get install -y --no-install-recommends postgresql \
 && rm -rf /var/lib/apt/lists/* \
 && ln -s "/usr/lib/postgresql/$(ls /usr/lib/postgresql | sort -n | tail -n1)/bin" /usr/lib/postgresql/bin \
 && mkdir -p /var/lib/postgresql/data /var/run/postgresql \
 && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql \
 && chmod 700 /var/lib/postgresql/data

ENV PATH=/usr/lib/postgresql/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PGDATA=/var/lib/postgresql/data \
    LANG=C.UTF-8

COPY postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
USER postgres
VOLUME /var/lib/postgresql/data
EXPOSE 5432
# SIGINT: PostgreSQL's fast shutdown.
STOPSIGNAL SIGINT
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres"]
