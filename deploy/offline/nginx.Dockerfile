# Local nginx image from Debian's package (deploy/offline/build-images.sh), used as the public
# nginx image is in compose.yaml: server blocks in /etc/nginx/conf.d/*.conf, logs on stdout/stderr.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}

RUN apt-get update \
 && apt-get install -y --no-install-recommends nginx \
 && rm -rf /var/lib/apt/lists/* \
 && rm -f /etc/nginx/sites-enabled/default \
 && ln -sf /dev/stdout /var/log/nginx/access.log \
 && ln -sf /dev/stderr /var/log/nginx/error.log

EXPOSE 80
# SIGQUIT: graceful shutdown.
STOPSIGNAL SIGQUIT
CMD ["nginx", "-g", "daemon off;"]
