#!/usr/bin/env bash
# Installs what the test levels beyond the unit tests need, on Debian 12, as root:
# the real programs the oracle tests ask (nginx, sshd, iptables, nft, ufw, firewalld, docker-compose, apache2, haproxy, caddy, the docker CLI, kubectl),
# code-server + Chromium for the real-VS-Code suite, Neovim and Emacs + Eglot for the editor-client tests. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "install-test-deps: run as root (apt-get install)" >&2
  exit 1
fi

# Installing nginx/openssh-server must not start them on :80/:22; only our tests start servers, on loopback.
created_policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  created_policy=1
fi
cleanup() { if [ -n "$created_policy" ]; then rm -f /usr/sbin/policy-rc.d; fi; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends \
  nginx libnginx-mod-stream openssh-server openssh-client \
  iptables nftables ufw firewalld docker-compose conntrack \
  iproute2 util-linux procps \
  libkrb5-dev build-essential python3 ripgrep chromium neovim \
  emacs-nox elpa-eglot git unzip \
  apache2 haproxy caddy docker.io systemd
# kubectl (the encoding oracle's Kubernetes case, `kubectl label --local`): Debian's kubernetes-client only where no
# kubectl is installed, as its /usr/bin/kubectl collides with another package's (dpkg refuses to overwrite it).
if ! command -v kubectl >/dev/null 2>&1; then
  apt-get install -y -q --no-install-recommends kubernetes-client
fi

bash scripts/install-code-server.sh
