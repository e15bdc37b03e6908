/**
 * Bad input never crashes a parser: mutated real configs of every format go through the engine;
 * no parser or linker may throw (the engine would turn that into a "could not analyse" finding),
 * and every finding and fact stays inside its file.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { engineWith } from '../helpers/engine';
import { NOISE } from '../hostile/noise';

const EXAMPLES = path.resolve(__dirname, '..', '..', 'examples');
const SOURCES = [
  'etc/ssh/sshd_config',
  'etc/nginx/nginx.conf',
  'etc/nginx/sites-enabled/shop.example.com',
  'srv/shop/compose.yaml',
  'etc/iptables/rules.v4',
  'etc/ufw/user.rules',
  'etc/default/ufw',
  'etc/ufw/applications.d/openssh-server',
  'etc/nftables.conf',
  'etc/firewalld/zones/public.xml',
  'etc/firewalld/services/grafana-proxy.xml',
];
/** PORTOLAN_FUZZ=N runs a longer campaign by hand; the suite runs 150 per format. */
const ROUNDS = Number(process.env.PORTOLAN_FUZZ ?? 150);

function rng(seed: number): () => number {
  let x = seed;
  return () => (x = (x * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
}

function mutate(text: string, random: () => number): string {
  let out = text;
  const steps = 1 + Math.floor(random() * 6);
  for (let i = 0; i < steps; i++) {
    const at = Math.floor(random() * (out.length + 1));
    const roll = random();
    if (roll < 0.35) out = out.slice(0, at) + NOISE[Math.floor(random() * NOISE.length)] + out.slice(at);
    else if (roll < 0.7) out = out.slice(0, at) + out.slice(at + 1 + Math.floor(random() * 20));
    else if (roll < 0.85)
      out = out.slice(0, at); // truncated file
    else out = out.slice(0, at) + out.slice(Math.floor(random() * out.length)); // spliced
  }
  return out;
}

describe('fuzz: mutated configs of every format', () => {
  for (const source of SOURCES) {
    it(`${source}: ${ROUNDS} mutations, no parser throws, every span inside its file`, () => {
      const original = fs.readFileSync(path.join(EXAMPLES, source), 'utf8');
      const random = rng(source.length * 7919);
      for (let n = 0; n < ROUNDS; n++) {
        const text = mutate(original, random);
        const engine = engineWith({ [source]: text });
        const result = engine.analyze();
        for (const [file, findings] of result.findingsByFile) {
          const len = engine.text(file)!.length;
          for (const f of findings) {
            assert.doesNotMatch(f.message, /could not (analyse|combine)/, `mutation ${n} of ${source}: ${f.message}\n--- text:\n${text}`);
            assert.ok(
              f.span.start >= 0 && f.span.start <= f.span.end && f.span.end <= len,
              `mutation ${n}: finding span ${f.span.start}-${f.span.end} outside 0-${len}: ${f.message}`,
            );
          }
        }
        for (const { fact } of result.facts) {
          const len = engine.text(fact.file)!.length;
          assert.ok(fact.span.start >= 0 && fact.span.end <= len, `mutation ${n}: fact span outside the file`);
          assert.ok(fact.port >= 0 && fact.portEnd <= 65535 && fact.port <= fact.portEnd, `mutation ${n}: fact port ${fact.port}-${fact.portEnd}`);
        }
      }
    });
  }
});
