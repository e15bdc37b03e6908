/**
 * The incremental path of the engine (issue 16): after any sequence of edits, an engine that analysed
 * after each burst gives exactly what a fresh engine over the final texts gives — every file's
 * findings (whole objects, files in the same order), every fact with its host in order, the hosts,
 * the firewalls and the instances of each file. Random edits on the benchmark's generated workspaces
 * (scripts/bench/workspaces.js) and on examples/: ports, includes added and removed, `.portolan.json`
 * hosts and oneHost/hostPerProject, compose layers and bind mounts (which move files to a container's
 * host), main configs created and deleted, files created, deleted and truncated. No timing here.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Engine } from '../../server/src/core/engine';
import { readPortolanJson } from '../../server/src/core/portolanJson';
import { analysisAnswers, engineWith, readTree } from '../helpers/engine';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { mixedWorkspace, composeStacks, prng } = require('../../scripts/bench/workspaces') as {
  mixedWorkspace(dir: string, files: number): unknown;
  composeStacks(dir: string, stacks: number, seed: number): unknown;
  prng(seed: number): () => number;
};

const FOLDER = '/ws';
const CONFIG = `${FOLDER}/.portolan.json`;

/** A generated workspace as relative path -> text (written into a temporary folder, read back, removed). */
function generated(make: (dir: string) => void): Record<string, string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portolan-incremental-'));
  try {
    make(dir);
    return readTree(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The folder's hosts as `.portolan.json` says (the valid part), as the server applies them. */
function applyHosts(engine: Engine, texts: ReadonlyMap<string, string>): void {
  const text = texts.get(CONFIG);
  const config = text === undefined ? undefined : readPortolanJson(text).config;
  engine.hosts.setFolders([{ folder: FOLDER, hosts: config?.hosts ?? {}, oneHost: config?.oneHost, hostPerProject: config?.hostPerProject }]);
}

function fresh(texts: ReadonlyMap<string, string>): Engine {
  const engine = engineWith(Object.fromEntries(texts), FOLDER);
  applyHosts(engine, texts);
  return engine;
}

type Texts = Map<string, string>;
/** One random change of the texts (`file` picked at random); returns what it did, for the failure message. */
type Change = (texts: Texts, file: string, random: () => number, step: number) => string | undefined;

const pick = <T>(random: () => number, list: readonly T[]): T => list[Math.floor(random() * list.length)];
const dirOf = (file: string) => path.posix.dirname(file);
const filesLike = (texts: Texts, re: RegExp) => [...texts.keys()].filter((f) => re.test(f));

const CHANGES: Change[] = [
  // A port typed over another (a conflict made or taken back).
  (texts, file, random) => {
    const text = texts.get(file)!;
    const ports = [...text.matchAll(/\b\d{2,5}\b/g)];
    if (ports.length === 0) return undefined;
    const at = pick(random, ports);
    const to = pick(random, ['22', '80', '443', '8000', '8080', '2222', '9000', '70000', '10001', '5432']);
    texts.set(file, text.slice(0, at.index) + to + text.slice(at.index! + at[0].length));
    return `port ${at[0]} -> ${to} in ${file}`;
  },
  (texts, file) => {
    texts.set(file, texts.get(file)! + '\n# a comment\n');
    return `comment in ${file}`;
  },
  (texts, file) => {
    const text = texts.get(file)!;
    texts.set(file, text.slice(0, Math.floor(text.length / 2)));
    return `truncated ${file}`;
  },
  // Includes added and taken out (the graph changes shape).
  (texts, _file, random) => {
    const file = pick(random, filesLike(texts, /nginx\.conf$|sites-enabled\/|conf\.d\/.*\.conf$/));
    if (!file) return undefined;
    const text = texts.get(file)!;
    const include = pick(random, ['include /etc/nginx/snippets/extra.conf;', 'include /etc/nginx/conf.d/*.conf;', 'include /etc/nginx/nginx.conf;']);
    if (text.includes('include ') && random() < 0.5) texts.set(file, text.replace(/^\s*include [^;]*;\n?/m, ''));
    else texts.set(file, text.replace('{', `{\n  ${include}`));
    return `include in ${file}`;
  },
  (texts, _file, random) => {
    const file = pick(random, filesLike(texts, /sshd_config$/));
    if (!file) return undefined;
    const text = texts.get(file)!;
    texts.set(file, text.startsWith('Include') ? text.replace(/^Include [^\n]*\n/, '') : `Include /etc/ssh/sshd_config.d/*.conf\n${text}Port 2222\n`);
    return `sshd Include in ${file}`;
  },
  // Files created and deleted: a site, an sshd drop-in, a new stack, a main config (stock main configs come and go).
  (texts, file, random, step) => {
    const dir = dirOf(file);
    const made = pick(random, [
      [`${dir}/added-${step}.conf`, `server {\n  listen ${8000 + (step % 5)};\n}\n`],
      [`${dir}/sshd_config.d/added-${step}.conf`, `Port ${2200 + (step % 3)}\n`],
      [`${dir}/stack-${step}/compose.yaml`, `services:\n  web:\n    image: nginx\n    ports:\n      - "${8000 + (step % 4)}:80"\n`],
      [`${dir}/nginx.conf`, 'events {}\nhttp {\n  include /etc/nginx/conf.d/*.conf;\n  server { listen 80; }\n}\n'],
    ]);
    texts.set(made[0], made[1]);
    return `created ${made[0]}`;
  },
  (texts, file) => {
    if (file === CONFIG) return undefined;
    texts.delete(file);
    return `deleted ${file}`;
  },
  // Compose layers: an override beside a compose file (merged into it), taken away again.
  (texts, _file, random) => {
    const base = pick(random, filesLike(texts, /(^|\/)(docker-)?compose\.ya?ml$/));
    if (!base) return undefined;
    const layer = `${dirOf(base)}/compose.override.yaml`;
    if (texts.has(layer)) {
      texts.delete(layer);
      return `removed ${layer}`;
    }
    const service = /^services:\n {2}([\w-]+):/m.exec(texts.get(base)!)?.[1] ?? 'app';
    texts.set(layer, `services:\n  ${service}:\n    ports:\n      - "${pick(random, ['22', '80', '8000', '9000'])}:80"\n`);
    return `layer ${layer}`;
  },
  // A bind mount of an nginx config: that file moves to the container's host.
  (texts, _file, random) => {
    const base = pick(random, filesLike(texts, /(^|\/)(docker-)?compose\.ya?ml$/));
    if (!base) return undefined;
    const conf = `${dirOf(base)}/nginx/default.conf`;
    // It proxies to another service of the project (upstream-unbound reads the project from the container's host).
    const services = [...texts.get(base)!.matchAll(/^ {2}([\w-]+):$/gm)].map((m) => m[1]);
    texts.set(
      conf,
      `server {\n  listen 80;\n  location / { proxy_pass http://${pick(random, services) ?? 'db'}:${pick(random, ['5432', '8000', '80'])}; }\n}\n`,
    );
    const text = texts.get(base)!;
    texts.set(base, text.replace(/^( {4}image: [^\n]*\n)/m, '$1    volumes:\n      - ./nginx/default.conf:/etc/nginx/conf.d/default.conf:ro\n'));
    return `mount in ${base}`;
  },
  // The folder's hosts: a host glob moved, oneHost / hostPerProject, a broken file.
  (texts, _file, random) => {
    const text = texts.get(CONFIG) ?? '{}';
    let config: Record<string, unknown>;
    try {
      config = JSON.parse(text) as Record<string, unknown>;
    } catch {
      config = {};
    }
    const roll = random();
    const hosts = (config.hosts as Record<string, string[]> | undefined) ?? {};
    const names = Object.keys(hosts);
    if (roll < 0.3 && names.length > 1) {
      const [a, b] = [pick(random, names), pick(random, names)];
      hosts[a] = [...hosts[a], ...hosts[b]];
      delete hosts[b];
      config.hosts = hosts;
    } else if (roll < 0.45) config.oneHost = !config.oneHost;
    else if (roll < 0.6) config.hostPerProject = !config.hostPerProject;
    else if (roll < 0.7) {
      texts.set(CONFIG, text.slice(0, -1));
      return 'broken .portolan.json';
    } else if (roll < 0.8) config.oneHost = [['**/srv/**', '**/etc/ssh/**']];
    else config.hosts = { ...hosts, extra: ['hosts/h0/srv/**'] };
    texts.set(CONFIG, JSON.stringify(config));
    return `.portolan.json ${JSON.stringify(config).slice(0, 80)}`;
  },
];

/** `steps` random bursts of 1-3 changes on `files`, each burst analysed, every answer compared with a fresh engine's. */
function run(files: Record<string, string>, seed: number, steps: number): void {
  const texts: Texts = new Map(Object.entries(files).map(([k, v]) => [`${FOLDER}/${k}`, v]));
  const engine = fresh(texts);
  engine.analyze();
  const random = prng(seed);
  const done: string[] = [];
  for (let step = 0; step < steps; step++) {
    const before = new Map(texts);
    const burst = 1 + Math.floor(random() * 3);
    for (let i = 0; i < burst; i++) {
      const names = [...texts.keys()];
      const did = pick(random, CHANGES)(texts, pick(random, names), random, step);
      if (did) done.push(did);
    }
    for (const [file, text] of texts) if (before.get(file) !== text) engine.setFile(file, text);
    for (const file of before.keys()) if (!texts.has(file)) engine.deleteFile(file);
    if (before.get(CONFIG) !== texts.get(CONFIG)) applyHosts(engine, texts);
    const shown = [...texts.keys()].filter((_, i) => i % 7 === step % 7);
    assert.strictEqual(
      analysisAnswers(engine, shown),
      analysisAnswers(fresh(texts), shown),
      `seed ${seed}, step ${step}: incremental and fresh analyses differ after: ${done.slice(-6).join('; ')}`,
    );
  }
}

describe('incremental analysis equals a fresh one (issue 16)', () => {
  it('on the mixed workspace of the benchmark (8 hosts), 3 seeds x 40 bursts', () => {
    const files = generated((dir) => mixedWorkspace(dir, 80));
    for (const seed of [1, 2, 3]) run(files, seed, 40);
  });

  it('on the compose stacks of the benchmark (3 hosts, nginx and Traefik proxies), 3 seeds x 40 bursts', () => {
    const files = generated((dir) => composeStacks(dir, 45, 1));
    for (const seed of [4, 5, 6]) run(files, seed, 40);
  });

  it('on examples/ (every format), 3 seeds x 40 bursts', () => {
    const files = readTree(path.resolve(__dirname, '..', '..', 'examples'));
    files['etc/nginx/snippets/extra.conf'] = 'listen 8443;\n';
    files['.portolan.json'] = JSON.stringify({ hosts: { web: ['etc/nginx/**'] } });
    for (const seed of [7, 8, 9]) run(files, seed, 40);
  });
});
