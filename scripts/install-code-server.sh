#!/usr/bin/env bash
# Installs code-server (a real VS Code workbench served over HTTP) for the offline
# real-VS-Code test level: test/vscode/run-code-server.js looks for it here.
#
#   Location: ${PORTOLAN_CODE_SERVER_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/portolan/code-server-4.100.3}
#   (outside the extension's node_modules: it is ~300 MB and not a dependency of the extension).
#
# Idempotent: does nothing when that version is already installed there.
# Needs (Debian 12): node 20, npm, and the packages libkrb5-dev (headers for a native module),
# build-essential and python3 (node-gyp builds node-pty and argon2), ripgrep, and chromium (the
# browser the test driver uses), e.g.
#   apt-get install -y libkrb5-dev build-essential python3 ripgrep chromium
# Reaches only the npm registry: the ripgrep binary that @vscode/ripgrep would download from GitHub
# is served from a local cache built from Debian's /usr/bin/rg (see docs: real-vscode-offline.md).
set -euo pipefail

CODE_SERVER_VERSION=4.100.3
# code-server 4.100.3 depends on @vscode/ripgrep 1.15.11, which fetches ripgrep v13.0.0-10.
RIPGREP_PACKAGE_VERSION=1.15.11
RIPGREP_RELEASE=v13.0.0-10

INSTALL_DIR="${PORTOLAN_CODE_SERVER_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/portolan/code-server-$CODE_SERVER_VERSION}"
MARKER="$INSTALL_DIR/.portolan-installed-$CODE_SERVER_VERSION"
ENTRY="$INSTALL_DIR/node_modules/code-server/out/node/entry.js"

if [[ -f "$MARKER" && -f "$ENTRY" ]]; then
  echo "code-server $CODE_SERVER_VERSION already installed in $INSTALL_DIR"
  exit 0
fi

# node-pty and argon2 are native modules built from source here (their prebuilt binaries come from GitHub).
for program in node npm tar rg make g++ python3; do
  command -v "$program" >/dev/null || { echo "install-code-server: '$program' is missing (apt-get install -y ripgrep build-essential python3 libkrb5-dev)" >&2; exit 1; }
done
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [[ "$node_major" != 20 && "$node_major" != 22 ]]; then
  echo "install-code-server: code-server $CODE_SERVER_VERSION needs Node 20 or 22 (found $(node -v))" >&2
  exit 1
fi

# @vscode/ripgrep's post-install looks for this archive in os.tmpdir() before downloading from GitHub.
case "$(uname -m)" in
  x86_64) rg_target=x86_64-unknown-linux-musl ;;
  aarch64) rg_target=aarch64-unknown-linux-musl ;;
  *) echo "install-code-server: unsupported machine $(uname -m)" >&2; exit 1 ;;
esac
tmp_root="$(node -p 'require("os").tmpdir()')"
rg_cache_dir="$tmp_root/vscode-ripgrep-cache-$RIPGREP_PACKAGE_VERSION"
rg_archive="$rg_cache_dir/ripgrep-$RIPGREP_RELEASE-$rg_target.tar.gz"
if [[ ! -s "$rg_archive" ]]; then
  mkdir -p "$rg_cache_dir"
  tar -czf "$rg_archive.partial" -C "$(dirname "$(command -v rg)")" rg
  mv "$rg_archive.partial" "$rg_archive"
fi

echo "Installing code-server $CODE_SERVER_VERSION into $INSTALL_DIR (a few minutes on a new machine)..."
mkdir -p "$INSTALL_DIR"
cd "$INSTALL_DIR"
[[ -f package.json ]] || echo '{ "name": "portolan-code-server", "private": true }' > package.json
# --unsafe-perm: the install scripts must run as root too; npm_config_yes: node-pty's
# post-install runs `npx node-gyp`, which would otherwise wait for a confirmation.
npm_config_yes=true npm install --unsafe-perm --no-audit --no-fund "code-server@$CODE_SERVER_VERSION"

# npm 11 may warn that install scripts are "not yet covered by allowScripts"; check they really ran.
if [[ ! -f "$ENTRY" || ! -d "$INSTALL_DIR/node_modules/code-server/lib/vscode/node_modules" ]]; then
  echo "install-code-server: the install did not complete (missing $ENTRY or lib/vscode/node_modules)" >&2
  exit 1
fi
touch "$MARKER"
echo "code-server $CODE_SERVER_VERSION installed: $INSTALL_DIR/node_modules/.bin/code-server"
