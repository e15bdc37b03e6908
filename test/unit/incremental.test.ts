/**
 * The engine re-assembles only what an edit touches; after any sequence of edits its answers must
 * equal those of a fresh engine reading the final texts.
 */
import * as assert from 'assert';
import * as path from 'path';
import type { Engine } from '../../server/src/core/engine';
import { engineWith, readTree } from '../helpers/engine';

const EXAMPLES = path.resolve(__dirname, '..', '..', 'examples');

function snapshot(engine: Engine): string {
  const r = engine.analyze();
  const findings = [...r.findingsByFile.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([f, list]) => [f, list.map((x) => `${x.span.start}-${x.span.end} ${x.code} ${x.message}`)]);
  const facts = r.facts
    .map(
      ({ fact, host }) =>
        `${host} ${fact.file}:${fact.span.start} ${fact.role} ${fact.protocol} ${fact.port}-${fact.portEnd} ${fact.family ?? ''} ${fact.address ?? ''}`,
    )
    .sort();
  return JSON.stringify({ findings, facts });
}

/** A tiny deterministic PRNG, so a failure names its seed. */
function rng(seed: number): () => number {
  let x = seed;
  return () => (x = (x * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
}

const EDITS: ((text: string, file: string) => string)[] = [
  (t) => t.replace(/\b(80|443|22|8080)\b/, '8081'),
  (t) => t + '\n# a comment\n',
  (t, f) => (f.includes('nginx') ? t.replace('{', '{\n    include /etc/nginx/snippets/extra.conf;') : t),
  (t, f) => (f.endsWith('sshd_config') ? t + 'Include /etc/ssh/sshd_config.d/*.conf\nPort 2222\n' : t),
  (t) => t.slice(0, Math.floor(t.length / 2)),
  (t, f) => (f.endsWith('compose.yaml') ? t.replace('"80:80"', '"22:22"') : t),
];

describe('incremental analysis', () => {
  it('equals a fresh analysis after random edits, additions and deletions (100 steps, 3 seeds)', () => {
    for (const seed of [1, 2, 3]) {
      const files = readTree(EXAMPLES);
      files['etc/nginx/snippets/extra.conf'] = 'listen 8443;\n';
      const engine = engineWith(files);
      const texts = new Map(Object.entries(files).map(([k, v]) => [`/ws/${k}`, v]));
      const random = rng(seed);
      engine.analyze();
      for (let step = 0; step < 100; step++) {
        const names = [...texts.keys()];
        const file = names[Math.floor(random() * names.length)];
        const roll = random();
        if (roll < 0.08) {
          engine.deleteFile(file);
          texts.delete(file);
        } else if (roll < 0.15) {
          const added = `/ws/etc/nginx/conf.d/added-${step}.conf`;
          const text = `server {\n  listen ${8000 + step};\n}\n`;
          engine.setFile(added, text);
          texts.set(added, text);
        } else {
          const edit = EDITS[Math.floor(random() * EDITS.length)];
          const text = edit(texts.get(file)!, file);
          engine.setFile(file, text);
          texts.set(file, text);
        }
        if (step % 5 === 0 || step === 99) {
          const fresh = engineWith(Object.fromEntries(texts));
          assert.strictEqual(snapshot(engine), snapshot(fresh), `seed ${seed}, step ${step}: incremental and fresh analyses differ`);
        }
      }
    }
  });
});

describe('instances', () => {
  it('files that only include each other still count, once', () => {
    const engine = engineWith({
      'etc/nginx/nginx.conf': 'events {}\nhttp {\n  include /etc/nginx/conf.d/*.conf;\n  server { listen 8080; }\n}\n',
      'etc/nginx/conf.d/a.conf': 'include /etc/nginx/nginx.conf;\n',
    });
    const listens = engine
      .analyze()
      .facts.filter(({ fact }) => fact.role === 'listen')
      .map(({ fact }) => `${fact.file}:${fact.port}`);
    assert.deepStrictEqual(listens, ['/ws/etc/nginx/nginx.conf:8080']);
  });
});
