#!/usr/bin/env bash
# The application bundle Packer copies into the image, as one tar:
#   /opt/vcn/app    TypeScript compiled to JavaScript by tsc (no tsx/esbuild on the
#                   appliance: faster start, no transform cache, nothing but node),
#                   the non-TypeScript files it reads (YANG module, MIB, scripts),
#                   and production node_modules installed by `npm ci --omit=dev`
#                   with this machine's Node, so better-sqlite3 and node-pty are
#                   built for the same Node ABI the image runs
#   /opt/vcn/node   this machine's node binary (same major, 20), copied in
#   image/files     systemd units and the console/daemon wrappers
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=$(realpath -m "${VCN_IMAGE_WORK:-.image}")
B="$WORK/bundle"
NODE_BIN=$(readlink -f "$(command -v node)")
major=$("$NODE_BIN" -p 'process.versions.node.split(".")[0]')
[ "$major" = 20 ] || { echo "bundle: node $major found, the appliance runs Node 20" >&2; exit 1; }

rm -rf "$B"
mkdir -p "$B/opt/vcn/app" "$B/opt/vcn/node/bin" "$B/etc/vcn"
echo "bundle: tsc → $B/opt/vcn/app"
npx tsc -p image/tsconfig.json
find appliance mgmt cli -type f ! -name '*.ts' -print0 | xargs -0 -r cp --parents -t "$B/opt/vcn/app"
cp package.json package-lock.json README.md "$B/opt/vcn/app/"
echo "bundle: npm ci --omit=dev (native modules for node $("$NODE_BIN" -v))"
(cd "$B/opt/vcn/app" && npm ci --omit=dev --no-audit --no-fund --loglevel=error)
# Build leftovers and other platforms' binaries the appliance never loads.
nm="$B/opt/vcn/app/node_modules"
rm -rf "$nm"/better-sqlite3/{deps,src} "$nm"/better-sqlite3/build/Release/{obj,obj.target,.deps,test_extension.node} \
  "$nm"/node-pty/{prebuilds,third_party,deps,src,scripts} "$nm"/node-pty/build/Release/{obj.target,.deps}
(cd "$B/opt/vcn/app" && node -e "require('better-sqlite3')(':memory:').prepare('select 1').get()") \
  || { echo "bundle: better-sqlite3 does not load" >&2; exit 1; }
cp "$NODE_BIN" "$B/opt/vcn/node/bin/node"
cp -a image/files/. "$B/"
rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git status --porcelain 2>/dev/null | grep -q . && echo "+changes" || true)
echo "VCN appliance $(node -p "require('./package.json').version") ($rev$dirty, node $("$NODE_BIN" -v))" > "$B/etc/vcn/release"
epoch=$(git log -1 --format=%ct 2>/dev/null || echo 0)
tar --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner -C "$B" -cf "$WORK/bundle.tar" .
echo "bundle: $WORK/bundle.tar ($(du -h "$WORK/bundle.tar" | cut -f1))"
