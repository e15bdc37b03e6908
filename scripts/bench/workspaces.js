/**
 * The benchmark's generated workspaces, deterministic from their arguments (and a seed), written
 * into a folder the caller made (a temporary one: never committed).
 *   - mixedWorkspace: ~10 files per host (sshd, nginx main + sites, a compose project, iptables).
 *   - composeStacks: N docker-compose stacks (8 port mappings each) spread over hosts of 20 stacks,
 *     each host with a reverse proxy (nginx vhosts on the host, or a Traefik stack), sshd and a
 *     firewall (iptables, nftables or ufw), as a homelab or hosting repository holds them.
 */
'use strict';
const fs = require('fs');
const path = require('path');

/** mulberry32: a small seeded PRNG, so a seed always gives the same workspace. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function writer(dir) {
  const written = [];
  let bytes = 0;
  const put = (rel, text) => {
    const full = path.join(dir, rel);
    fs.mkdirSync(path.dirname(full), { recursive: true });
    fs.writeFileSync(full, text);
    written.push(rel);
    bytes += Buffer.byteLength(text);
  };
  return { put, written, bytes: () => bytes };
}

/** ~10 files per host: sshd, nginx main + sites, compose project, firewall rules. */
function mixedWorkspace(dir, total) {
  const hosts = Math.ceil(total / 10);
  const { put, written } = writer(dir);
  const hostMap = {};
  for (let h = 0; h < hosts && written.length < total; h++) {
    const base = `hosts/h${h}`;
    hostMap[`h${h}`] = [`${base}/**`];
    put(`${base}/etc/ssh/sshd_config`, `Include /etc/ssh/sshd_config.d/*.conf\nPort 22\nPort ${2200 + (h % 50)}\nListenAddress 0.0.0.0\nPermitRootLogin no\n`);
    put(`${base}/etc/ssh/sshd_config.d/10-hardening.conf`, 'PasswordAuthentication no\nX11Forwarding no\n');
    put(`${base}/etc/nginx/nginx.conf`, 'events {}\nhttp {\n  include /etc/nginx/conf.d/*.conf;\n  include /etc/nginx/sites-enabled/*;\n}\n');
    for (let s = 0; s < 3; s++) {
      put(
        `${base}/etc/nginx/sites-enabled/site${s}`,
        `server {\n  listen 80;\n  listen [::]:80;\n  server_name s${s}.h${h}.example;\n  location / { proxy_pass http://127.0.0.1:${8000 + s}; }\n}\nserver {\n  listen 443 ssl;\n  server_name s${s}.h${h}.example;\n}\n`,
      );
    }
    put(`${base}/etc/nginx/conf.d/upstreams.conf`, `upstream app {\n  server 127.0.0.1:8000;\n  server 127.0.0.1:8001 backup;\n}\n`);
    put(`${base}/etc/nginx/conf.d/status.conf`, `server {\n  listen 127.0.0.1:${8080 + (h % 3)};\n  location /status { stub_status; }\n}\n`);
    put(
      `${base}/srv/app/compose.yaml`,
      `services:\n  app:\n    image: app:${h}\n    ports:\n      - "127.0.0.1:8000:8000"\n      - "9${String(h % 1000).padStart(3, '0')}:9000"\n  db:\n    image: postgres:16\n    expose: ["5432"]\n`,
    );
    put(
      `${base}/etc/iptables/rules.v4`,
      `*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -i lo -j ACCEPT\n-A INPUT -p tcp --dport 22 -j ACCEPT\n-A INPUT -p tcp -m multiport --dports 80,443 -j ACCEPT\nCOMMIT\n`,
    );
  }
  fs.writeFileSync(path.join(dir, '.portolan.json'), JSON.stringify({ hosts: hostMap }));
  return { files: written, hosts };
}

const APPS = [
  ['gitea', 'gitea/gitea:1.21', 3000, 'postgres:16', 5432],
  ['nextcloud', 'nextcloud:28-apache', 80, 'mariadb:11', 3306],
  ['grafana', 'grafana/grafana:10.4.2', 3000, 'postgres:16', 5432],
  ['wiki', 'ghcr.io/requarks/wiki:2', 3000, 'postgres:15', 5432],
  ['wordpress', 'wordpress:6-php8.2', 80, 'mysql:8.0', 3306],
  ['outline', 'outlinewiki/outline:0.75', 3000, 'postgres:16', 5432],
  ['mattermost', 'mattermost/mattermost-team-edition:9', 8065, 'postgres:16', 5432],
  ['keycloak', 'quay.io/keycloak/keycloak:24.0', 8080, 'postgres:16', 5432],
  ['sentry', 'getsentry/sentry:24.4.1', 9000, 'postgres:14', 5432],
  ['plausible', 'plausible/analytics:v2.0', 8000, 'postgres:16', 5432],
];
const STACKS_PER_HOST = 20;
/** Host ports per stack: stack i of a host uses 10000 + 10 * i ... 10000 + 10 * i + 7. */
const stackPort = (i, k) => 10000 + 10 * i + k;

/** One stack's compose file: 8 mappings in short and long syntax, an .env default, a UDP port, a range. */
function stackCompose(name, app, i, rnd) {
  const [, image, appPort, dbImage, dbPort] = app;
  const long = rnd() < 0.3;
  const metrics = long
    ? `      - target: 9100\n        published: "${stackPort(i, 4)}"\n        host_ip: 127.0.0.1\n        protocol: tcp\n`
    : `      - "127.0.0.1:${stackPort(i, 4)}:9100"\n`;
  return (
    `name: ${name}\n` +
    `services:\n` +
    `  app:\n    image: ${image}\n    restart: unless-stopped\n    env_file: .env\n    depends_on: [db, cache]\n` +
    `    ports:\n      - "127.0.0.1:\${APP_PORT:-${stackPort(i, 0)}}:${appPort}"\n      - "127.0.0.1:${stackPort(i, 1)}:9229"\n` +
    `  db:\n    image: ${dbImage}\n    volumes:\n      - db:/var/lib/data\n    ports:\n      - "127.0.0.1:${stackPort(i, 2)}:${dbPort}"\n` +
    `  cache:\n    image: redis:7-alpine\n    ports:\n      - "127.0.0.1:${stackPort(i, 3)}:6379"\n` +
    `  metrics:\n    image: prom/node-exporter:v1.8.0\n    ports:\n${metrics}` +
    `  worker:\n    image: ${image}\n    command: worker\n    ports:\n      - "127.0.0.1:${stackPort(i, 5)}:8125/udp"\n      - "127.0.0.1:${stackPort(i, 6)}-${stackPort(i, 7)}:7000-7001"\n` +
    `    expose: ["9090"]\n` +
    `volumes:\n  db: {}\n`
  );
}

function stackVhost(name, h, i) {
  return (
    `server {\n  listen 80;\n  listen [::]:80;\n  server_name ${name}.h${h}.example.org;\n  return 301 https://$host$request_uri;\n}\n` +
    `server {\n  listen 443 ssl;\n  listen [::]:443 ssl;\n  http2 on;\n  server_name ${name}.h${h}.example.org;\n` +
    `  ssl_certificate /etc/letsencrypt/live/${name}/fullchain.pem;\n  ssl_certificate_key /etc/letsencrypt/live/${name}/privkey.pem;\n` +
    `  location / {\n    proxy_pass http://127.0.0.1:${stackPort(i, 0)};\n    proxy_set_header Host $host;\n  }\n` +
    `  location /metrics { proxy_pass http://127.0.0.1:${stackPort(i, 4)}; allow 10.0.0.0/8; deny all; }\n}\n`
  );
}

function hostFirewall(put, base, h, ssh) {
  switch (h % 3) {
    case 0:
      put(
        `${base}/etc/iptables/rules.v4`,
        `*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -i lo -j ACCEPT\n-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n` +
          `-A INPUT -p tcp --dport ${ssh} -j ACCEPT\n-A INPUT -p tcp -m multiport --dports 80,443 -j ACCEPT\n-A INPUT -p icmp -j ACCEPT\nCOMMIT\n`,
      );
      break;
    case 1:
      put(
        `${base}/etc/nftables.conf`,
        `#!/usr/sbin/nft -f\nflush ruleset\ntable inet filter {\n  chain input {\n    type filter hook input priority 0; policy drop;\n` +
          `    iif lo accept\n    ct state established,related accept\n    tcp dport { ${ssh}, 80, 443 } accept\n  }\n  chain forward {\n    type filter hook forward priority 0; policy drop;\n  }\n}\n`,
      );
      break;
    default:
      put(`${base}/etc/default/ufw`, 'IPV6=yes\nDEFAULT_INPUT_POLICY="DROP"\nDEFAULT_OUTPUT_POLICY="ACCEPT"\nDEFAULT_FORWARD_POLICY="DROP"\n');
      put(`${base}/etc/ufw/ufw.conf`, 'ENABLED=yes\nLOGLEVEL=low\n');
      put(
        `${base}/etc/ufw/user.rules`,
        `*filter\n:ufw-user-input - [0:0]\n:ufw-user-output - [0:0]\n:ufw-user-forward - [0:0]\n` +
          `### RULES ###\n\n### tuple ### allow tcp ${ssh} 0.0.0.0/0 any 0.0.0.0/0 in\n-A ufw-user-input -p tcp --dport ${ssh} -j ACCEPT\n\n` +
          `### tuple ### allow tcp 80,443 0.0.0.0/0 any 0.0.0.0/0 in\n-A ufw-user-input -p tcp -m multiport --dports 80,443 -j ACCEPT\n\n### END RULES ###\nCOMMIT\n`,
      );
  }
}

/**
 * `stacks` compose stacks over ceil(stacks / 20) hosts. Even hosts proxy with nginx on the host (a
 * vhost per stack), odd hosts with a Traefik stack publishing 80/443. One stack in 200 publishes a
 * port another stack of its host already publishes (a real conflict to find). Returns the files
 * written, the bytes of the compose files and the mappings, and where the edit benchmark types.
 */
function composeStacks(dir, stacks, seed = 1) {
  const rnd = prng(seed);
  const { put, written } = writer(dir);
  const hostMap = {};
  let composeBytes = 0;
  let mappings = 0;
  const hosts = Math.ceil(stacks / STACKS_PER_HOST);
  for (let h = 0; h < hosts; h++) {
    const base = `hosts/h${String(h).padStart(3, '0')}`;
    hostMap[`h${h}`] = [`${base}/**`];
    const ssh = h % 4 === 0 ? 2222 : 22;
    put(`${base}/etc/ssh/sshd_config`, `Include /etc/ssh/sshd_config.d/*.conf\nPort ${ssh}\nPermitRootLogin no\nPasswordAuthentication no\n`);
    put(`${base}/etc/ssh/sshd_config.d/50-cloud-init.conf`, 'PasswordAuthentication no\n');
    hostFirewall(put, base, h, ssh);
    const nginxProxy = h % 2 === 0;
    if (nginxProxy) {
      put(
        `${base}/etc/nginx/nginx.conf`,
        'user www-data;\nworker_processes auto;\nevents { worker_connections 1024; }\nhttp {\n  include /etc/nginx/conf.d/*.conf;\n  include /etc/nginx/sites-enabled/*;\n}\n',
      );
      put(`${base}/etc/nginx/conf.d/status.conf`, 'server {\n  listen 127.0.0.1:8081;\n  location /nginx_status { stub_status; }\n}\n');
    } else {
      const text =
        'services:\n  traefik:\n    image: traefik:v3.0\n    restart: always\n    ports:\n      - "80:80"\n      - "443:443"\n      - "127.0.0.1:8082:8080"\n';
      put(`${base}/stacks/traefik/compose.yaml`, text);
      composeBytes += text.length;
      mappings += 3;
    }
    for (let i = 0; i < STACKS_PER_HOST && h * STACKS_PER_HOST + i < stacks; i++) {
      const app = APPS[Math.floor(rnd() * APPS.length)];
      const name = `${app[0]}${h * STACKS_PER_HOST + i}`;
      let text = stackCompose(name, app, i, rnd);
      // A stack that copied its neighbour's cache port: the conflict a reviewer would want to see.
      if (i > 0 && rnd() < 0.005) text = text.replace(`127.0.0.1:${stackPort(i, 3)}:6379`, `127.0.0.1:${stackPort(i - 1, 3)}:6379`);
      const file = `${base}/stacks/${name}/${rnd() < 0.5 ? 'compose.yaml' : 'docker-compose.yml'}`;
      put(file, text);
      put(`${base}/stacks/${name}/.env`, `APP_PORT=${stackPort(i, 0)}\nTZ=Europe/Berlin\n`);
      composeBytes += text.length;
      mappings += 8;
      if (nginxProxy) put(`${base}/etc/nginx/sites-enabled/${name}.conf`, stackVhost(name, h, i));
    }
  }
  fs.writeFileSync(path.join(dir, '.portolan.json'), JSON.stringify({ hosts: hostMap }));
  const composeFiles = written.filter((f) => /compose\.ya?ml$/.test(f) && !f.includes('/traefik/'));
  return { files: written, hosts, composeBytes, mappings, composeFiles };
}

module.exports = { prng, mixedWorkspace, composeStacks, stackPort };
