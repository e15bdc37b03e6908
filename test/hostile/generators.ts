/**
 * Small generators of hostile configuration: each returns a few hundred bytes (or, with big
 * arguments, megabytes) that once hung, exhausted memory or crashed the analysis (issue 17).
 * Nothing big is committed: the tests, `npm run test:hostile` and the fuzz campaign build the inputs here.
 */

/** A YAML merge-key chain: every anchor merges the previous one `fanout` times (9^9 expansions unmemoised). */
export function yamlMergeChain(levels = 9, fanout = 9): string {
  const lines = ['x-a0: &a0', '  k0: 1'];
  for (let i = 1; i <= levels; i++) {
    lines.push(
      `x-a${i}: &a${i}`,
      `  <<: [${Array(fanout)
        .fill(`*a${i - 1}`)
        .join(', ')}]`,
      `  k${i}: 1`,
    );
  }
  lines.push('services:', '  web:', `    <<: *a${levels}`, '    image: nginx', '    ports:', '      - "8080:80"', '');
  return lines.join('\n');
}

/** YAML whose merged maps are wide: `width` keys per anchor, `levels` anchors each merging all before it. */
export function yamlWideMerge(levels = 50, width = 100): string {
  const lines: string[] = [];
  for (let i = 0; i < levels; i++) {
    lines.push(`x-a${i}: &a${i}`);
    if (i > 0) lines.push(`  <<: [${Array.from({ length: i }, (_, j) => `*a${j}`).join(', ')}]`);
    for (let k = 0; k < width; k++) lines.push(`  k${i}_${k}: 1`);
  }
  lines.push('services:', '  web:', `    <<: *a${levels - 1}`, '    image: nginx', '    ports:', '      - "8080:80"', '');
  return lines.join('\n');
}

/** nftables chains c0..c(n-1), each jumping `fanout` times to the next (fanout^n paths through the last). */
export function nftDiamond(n = 16, fanout = 4): string {
  const out = ['table inet f {', '  chain input {', '    type filter hook input priority 0; policy drop;', '    jump c0', '  }'];
  for (let i = 0; i < n; i++) {
    out.push(`  chain c${i} {`);
    if (i === n - 1) out.push('    tcp dport 22 accept');
    else for (let j = 0; j < fanout; j++) out.push(`    ip saddr 10.0.${i}.${j} jump c${i + 1}`);
    out.push('  }');
  }
  out.push('}', '');
  return out.join('\n');
}

/** iptables-restore user chains C0..C(n-1), each jumping `fanout` times to the next. */
export function iptablesDiamond(n = 30, fanout = 2): string {
  const out = ['*filter', ':INPUT DROP [0:0]', ':FORWARD DROP [0:0]', ':OUTPUT ACCEPT [0:0]'];
  for (let i = 0; i < n; i++) out.push(`:C${i} - [0:0]`);
  out.push('-A INPUT -j C0');
  for (let i = 0; i < n; i++) {
    if (i === n - 1) out.push(`-A C${i} -p tcp --dport 22 -j ACCEPT`);
    else for (let j = 0; j < fanout; j++) out.push(`-A C${i} -s 10.0.${i}.${j} -j C${i + 1}`);
  }
  out.push('COMMIT', '');
  return out.join('\n');
}

/** A jump loop reachable from the input hook: input -> a -> b -> a. */
export function nftJumpLoop(): string {
  return [
    'table inet f {',
    '  chain input {',
    '    type filter hook input priority 0; policy drop;',
    '    jump a',
    '  }',
    '  chain a {',
    '    tcp dport 22 accept',
    '    jump b',
    '  }',
    '  chain b {',
    '    jump a',
    '  }',
    '}',
    '',
  ].join('\n');
}

export function iptablesJumpLoop(): string {
  return [
    '*filter',
    ':INPUT DROP [0:0]',
    ':A - [0:0]',
    ':B - [0:0]',
    '-A INPUT -j A',
    '-A A -p tcp --dport 22 -j ACCEPT',
    '-A A -j B',
    '-A B -j A',
    'COMMIT',
    '',
  ].join('\n');
}

/** An iptables-save file of `rules` multiport rules, 15 ports each (about 100 bytes and 15 facts a rule). */
export function bigRulesV4(rules: number): string {
  const out = ['*filter', ':INPUT DROP [0:0]', ':FORWARD DROP [0:0]', ':OUTPUT ACCEPT [0:0]'];
  for (let i = 0; i < rules; i++) {
    const base = 1000 + ((i * 15) % 60000);
    const ports = Array.from({ length: 15 }, (_, k) => base + k).join(',');
    out.push(`-A INPUT -s 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255} -p tcp -m multiport --dports ${ports} -j ACCEPT`);
  }
  out.push('COMMIT', '');
  return out.join('\n');
}

/** An nftables set of `elements` ports, used by one rule. */
export function bigNftSet(elements: number): string {
  const ports: string[] = [];
  for (let i = 0; i < elements; i++) ports.push(String(1 + (i % 65535)));
  return [
    'table inet f {',
    '  set big {',
    '    type inet_service; flags interval;',
    `    elements = { ${ports.join(', ')} }`,
    '  }',
    '  chain input {',
    '    type filter hook input priority 0; policy drop;',
    '    tcp dport @big accept',
    '  }',
    '}',
    '',
  ].join('\n');
}

/** `count` sshd_config.d files that each include the whole directory (every file a root pulling in all others). */
export function sshdIncludeStorm(count: number, dir = '/ws/etc/ssh/sshd_config.d'): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < count; i++) files[`${dir}/f${i}.conf`] = `Include ${dir}/*.conf\nPort ${1024 + (i % 60000)}\n`;
  return files;
}

/** A plain-text file of blank lines (quadratic for `/^\s*(...)/m` content detection). */
export function blankLines(bytes: number): string {
  return '\n'.repeat(bytes);
}

/** A big nginx file: `servers` server blocks with a listen each. */
export function bigNginx(servers: number): string {
  const out = ['events {}', 'http {'];
  for (let i = 0; i < servers; i++) out.push(`  server { listen ${1024 + (i % 60000)}; server_name s${i}.example.com; location / { return 200; } }`);
  out.push('}', '');
  return out.join('\n');
}

/** A big compose file: `services` services with one port each. */
export function bigCompose(services: number): string {
  const out = ['services:'];
  for (let i = 0; i < services; i++) out.push(`  s${i}:`, '    image: nginx', '    ports:', `      - "${1024 + (i % 60000)}:80"`);
  out.push('');
  return out.join('\n');
}

/** `.portolan.json` with `count` hosts, each owning one folder. */
export function manyHosts(count: number): string {
  const hosts: Record<string, string[]> = {};
  for (let i = 0; i < count; i++) hosts[`h${i}`] = [`hosts/h${i}/**`];
  return JSON.stringify({ hosts });
}

/** nginx blocks nested `depth` deep, with a bad port before the nesting starts. */
export function deepNginx(depth: number): string {
  return `events {}\nhttp { server { listen 99999; } }\n${'location / {'.repeat(depth)}${'}'.repeat(depth)}\n`;
}

/** YAML nested `depth` deep (flow sequences), with a bad port before it. */
export function deepYaml(depth: number): string {
  return `services:\n  web:\n    image: nginx\n    ports:\n      - "99999:80"\nx-deep: ${'['.repeat(depth)}${']'.repeat(depth)}\n`;
}

/** The same text as UTF-16LE with its byte-order mark, read as latin1 would show it. */
export function utf16le(text: string): Buffer {
  return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
}

export function withUtf8Bom(text: string): Buffer {
  return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')]);
}

/** ufw's user.rules whose input chain enters user chains C0..C(n-1), each jumping `fanout` times to the next (-A lines no tuple describes). */
export function ufwDiamond(n = 30, fanout = 2): string {
  const out = ['*filter', ':ufw-user-input - [0:0]', ':ufw-user-output - [0:0]', ':ufw-user-forward - [0:0]'];
  for (let i = 0; i < n; i++) out.push(`:C${i} - [0:0]`);
  out.push('### RULES ###', '-A ufw-user-input -j C0');
  for (let i = 0; i < n; i++) {
    if (i === n - 1) out.push(`-A C${i} -p tcp --dport 22 -j ACCEPT`);
    else for (let j = 0; j < fanout; j++) out.push(`-A C${i} -s 10.0.${i}.${j} -j C${i + 1}`);
  }
  out.push('### END RULES ###', 'COMMIT', '');
  return out.join('\n');
}
