#!/bin/sh
# Runs as `unshare -n -m sh namespace.sh HOSTS BATCH.json`: a fresh network namespace holding only
# `lo` (brought up here; the wildcard address is safe, nothing reaches the host's network) and a
# private mount namespace, where /run (sshd's privilege separation directory /run/sshd), nginx's
# /var/lib/nginx temp and /var/log/nginx directories get empty tmpfs mounts and /etc/hosts the given
# file, so nothing on the host is written and `localhost` means the same everywhere.
set -e
ip link set lo up
mount -t tmpfs tmpfs /run
mkdir -m 755 /run/sshd
for d in /var/lib/nginx /var/log/nginx; do
  if [ -d "$d" ]; then mount -t tmpfs tmpfs "$d"; fi
done
mount --bind "$1" /etc/hosts
exec node "$(dirname "$0")/runner.js" "$2"
