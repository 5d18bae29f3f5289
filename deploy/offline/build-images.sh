#!/usr/bin/env bash
# Build every image compose.yaml needs without any image registry: a Debian base from a Debian
# mirror (debootstrap), then Python, PostgreSQL and nginx bases from Debian packages, then the
# service image from the repository's Dockerfile with the local Python base as PYTHON_IMAGE.
#
#   deploy/offline/build-images.sh --mirror http://mirrors.example.gov.cn/debian \
#       [--security-mirror http://mirrors.example.gov.cn/debian-security] \
#       [--ca-bundle /etc/ssl/certs/ca-certificates.crt] \
#       [--pip-index-url https://pypi.example.gov.cn/simple] >> .env
#
# Progress goes to stderr; stdout carries only the compose variables naming the images built
# (STANDARD_LAND_IMAGE, POSTGRES_IMAGE, NGINX_IMAGE, PYTHON_IMAGE), ready to append to .env.
# Needs root (debootstrap), Debian's docker.io (BuildKit built in) and debootstrap.
# Base images that exist already are reused (--rebuild-base to rebuild them); Docker's layer
# cache makes a second run take seconds when nothing changed.
set -euo pipefail

usage() {
  sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2
  cat >&2 <<'EOF'
Options:
  --mirror URL            Debian mirror (required; or DEBIAN_MIRROR)
  --security-mirror URL   Debian security mirror (optional; adds SUITE-security)
  --suite NAME            Debian suite (default bookworm: Python 3.11, PostgreSQL 15)
  --ca-bundle FILE        CA bundle trusted for the mirrors and the package index (PEM)
  --pip-index-url URL     PyPI mirror for the service build (default: pip's own default)
  --pip-trusted-host HOST a plain-http PyPI mirror's host
  --prefix NAME           name prefix of the base images (default standard-land-offline)
  --tag NAME              the service image (default standard-land:local)
  --cache-dir DIR         debootstrap's package cache (default ~/.cache/standard-land-offline)
  --rebuild-base          debootstrap again even if the Debian base image exists
EOF
  exit "${1:-2}"
}

MIRROR="${DEBIAN_MIRROR:-}"
SECURITY_MIRROR="${DEBIAN_SECURITY_MIRROR:-}"
SUITE="bookworm"
CA_BUNDLE=""
PIP_INDEX_URL_ARG=""
PIP_TRUSTED_HOST_ARG=""
PREFIX="standard-land-offline"
TAG="standard-land:local"
CACHE_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/standard-land-offline"
REBUILD_BASE=0

while [ $# -gt 0 ]; do
  case "$1" in
    --mirror) MIRROR="$2"; shift 2 ;;
    --security-mirror) SECURITY_MIRROR="$2"; shift 2 ;;
    --suite) SUITE="$2"; shift 2 ;;
    --ca-bundle) CA_BUNDLE="$2"; shift 2 ;;
    --pip-index-url) PIP_INDEX_URL_ARG="$2"; shift 2 ;;
    --pip-trusted-host) PIP_TRUSTED_HOST_ARG="$2"; shift 2 ;;
    --prefix) PREFIX="$2"; shift 2 ;;
    --tag) TAG="$2"; shift 2 ;;
    --cache-dir) CACHE_DIR="$2"; shift 2 ;;
    --rebuild-base) REBUILD_BASE=1; shift ;;
    -h|--help) usage 0 ;;
    *) echo "build-images.sh: unknown argument: $1" >&2; usage 2 ;;
  esac
done

[ -n "$MIRROR" ] || { echo "build-images.sh: --mirror URL is required (a Debian mirror)" >&2; usage 2; }
if [ -n "$CA_BUNDLE" ] && [ ! -s "$CA_BUNDLE" ]; then
  echo "build-images.sh: --ca-bundle $CA_BUNDLE: no such file (or empty)" >&2; exit 2
fi
[ "$(id -u)" = 0 ] || { echo "build-images.sh: run as root (debootstrap needs it)" >&2; exit 2; }
for tool in debootstrap /usr/bin/docker; do
  command -v "$tool" >/dev/null || { echo "build-images.sh: $tool missing (apt-get install debootstrap docker.io)" >&2; exit 2; }
done

HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
# Debian's client: BuildKit built in, no buildx plugin needed (a newer client on PATH asks for it).
DOCKER=/usr/bin/docker
export DOCKER_BUILDKIT=1

DEBIAN_IMAGE="$PREFIX/debian:$SUITE"
PYTHON_IMAGE="$PREFIX/python:$SUITE"
POSTGRES_IMAGE="$PREFIX/postgres:$SUITE"
NGINX_IMAGE="$PREFIX/nginx:$SUITE"

say() { printf '== %s\n' "$*" >&2; }
elapsed() { printf '   %s: %ss\n' "$1" "$(( SECONDS - $2 ))" >&2; }
T_ALL=$SECONDS

# --------------------------------------------------------------------------- Debian base
if [ "$REBUILD_BASE" = 1 ] || ! $DOCKER image inspect "$DEBIAN_IMAGE" >/dev/null 2>&1; then
  say "Debian base $DEBIAN_IMAGE: debootstrap $SUITE from $MIRROR"
  t=$SECONDS
  mkdir -p "$CACHE_DIR/debs"
  ROOT="$(mktemp -d /tmp/standard-land-rootfs.XXXXXX)"
  trap 'rm -rf "$ROOT"' EXIT
  wgetrc=""
  if [ -n "$CA_BUNDLE" ]; then
    # debootstrap fetches with wget: make it trust the same bundle for an https mirror.
    wgetrc="$(mktemp)"; echo "ca_certificate = $(readlink -f "$CA_BUNDLE")" > "$wgetrc"
  fi
  WGETRC="${wgetrc:-${WGETRC:-/dev/null}}" debootstrap --variant=minbase --cache-dir="$(readlink -f "$CACHE_DIR/debs")" \
      "$SUITE" "$ROOT" "$MIRROR" >&2
  [ -z "$wgetrc" ] || rm -f "$wgetrc"
  {
    echo "deb $MIRROR $SUITE main"
    echo "deb $MIRROR $SUITE-updates main"
    [ -z "$SECURITY_MIRROR" ] || echo "deb $SECURITY_MIRROR $SUITE-security main"
  } > "$ROOT/etc/apt/sources.list"
  if [ -n "$CA_BUNDLE" ]; then
    # apt (and, once ca-certificates is installed, everything else) trusts the bundle:
    # update-ca-certificates appends /usr/local/share/ca-certificates/*.crt to the system bundle.
    mkdir -p "$ROOT/usr/local/share/ca-certificates" "$ROOT/etc/ssl/certs"
    cp "$CA_BUNDLE" "$ROOT/usr/local/share/ca-certificates/standard-land-mirror.crt"
    cp "$CA_BUNDLE" "$ROOT/etc/ssl/certs/ca-certificates.crt"
  fi
  # As the public Debian images: no package cache kept in layers, no recommends pulled in.
  cat > "$ROOT/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  echo 'APT::Install-Recommends "false";' > "$ROOT/etc/apt/apt.conf.d/docker-no-recommends"
  # As the public slim images: no manuals, no translations (copyright files are kept).
  printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' \
      'path-exclude /usr/share/man/*' 'path-exclude /usr/share/info/*' \
      'path-exclude /usr/share/locale/*' 'path-exclude /usr/share/lintian/*' \
      > "$ROOT/etc/dpkg/dpkg.cfg.d/docker-slim"
  find "$ROOT/usr/share/doc" -mindepth 2 ! -name copyright ! -type d -delete 2>/dev/null || true
  rm -rf "$ROOT"/usr/share/man/* "$ROOT"/usr/share/info/* "$ROOT"/usr/share/locale/*
  rm -rf "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/lib/apt/lists/* "$ROOT"/var/log/* "$ROOT"/tmp/*
  : > "$ROOT/etc/machine-id"
  tar --numeric-owner -C "$ROOT" -c . | $DOCKER import \
      -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8' \
      -c 'CMD ["bash"]' - "$DEBIAN_IMAGE" >/dev/null
  rm -rf "$ROOT"; trap - EXIT
  elapsed "debootstrap + import" "$t"
else
  say "Debian base $DEBIAN_IMAGE: exists (--rebuild-base to rebuild)"
fi

# --------------------------------------------------------------------------- Python, PostgreSQL, nginx
build_base() {   # name image dockerfile [build args…]
  local name="$1" image="$2" file="$3"; shift 3
  local t=$SECONDS
  say "$name base $image"
  $DOCKER build --progress=plain -f "$HERE/$file" --build-arg "BASE_IMAGE=$DEBIAN_IMAGE" "$@" \
      -t "$image" "$HERE" >&2
  elapsed "$name base" "$t"
}
build_base Python "$PYTHON_IMAGE" python.Dockerfile \
    --build-arg "PIP_INDEX_URL=$PIP_INDEX_URL_ARG" --build-arg "PIP_TRUSTED_HOST=$PIP_TRUSTED_HOST_ARG"
build_base PostgreSQL "$POSTGRES_IMAGE" postgres.Dockerfile
build_base nginx "$NGINX_IMAGE" nginx.Dockerfile

# --------------------------------------------------------------------------- the service
say "service $TAG from $REPO/Dockerfile (PYTHON_IMAGE=$PYTHON_IMAGE)"
t=$SECONDS
$DOCKER build --progress=plain --build-arg "PYTHON_IMAGE=$PYTHON_IMAGE" -t "$TAG" "$REPO" >&2
elapsed "service image" "$t"
say "size: $($DOCKER image inspect -f '{{.Size}}' "$TAG" | awk '{printf "%.0f MB", $1 / 1e6}') ($TAG)"
elapsed "all images" "$T_ALL"

# For compose.yaml (append to .env):
echo "STANDARD_LAND_IMAGE=$TAG"
echo "POSTGRES_IMAGE=$POSTGRES_IMAGE"
echo "NGINX_IMAGE=$NGINX_IMAGE"
echo "PYTHON_IMAGE=$PYTHON_IMAGE"
