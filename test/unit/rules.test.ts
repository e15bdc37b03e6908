/** The rules registry: one rule per code, metadata that is true (its docs examples fire and stay silent), codes in sync with package.json. */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { DIAGNOSTIC_CODES, RULES, ruleOf } from '../../server/src/rules/index';
import { defaultSettings } from '../../server/src/core/engine';
import { engineWith, readTree } from '../helpers/engine';

const ROOT = path.resolve(__dirname, '..', '..');

function codesOn(files: Record<string, string>): string[] {
  const engine = engineWith(files);
  return [...engine.analyze().findingsByFile.values()].flat().map((f) => f.code);
}

describe('rules registry', () => {
  it('one rule per code, named by its code, in a file of that name', () => {
    assert.strictEqual(new Set(DIAGNOSTIC_CODES).size, RULES.length);
    for (const rule of RULES) {
      assert.strictEqual(rule.name, rule.meta.code);
      assert.ok(fs.existsSync(path.join(ROOT, 'server', 'src', 'rules', `${rule.meta.code}.ts`)), rule.meta.code);
      assert.strictEqual(ruleOf(rule.meta.code), rule);
    }
    assert.strictEqual(ruleOf('no-such-code'), undefined);
  });

  it('each rule has a one-line description ending in a full stop and a docs paragraph', () => {
    for (const { meta } of RULES) {
      assert.ok(meta.description.length > 20 && !meta.description.includes('\n') && meta.description.endsWith('.'), meta.code);
      assert.ok(meta.docs.body.length > 100 && !meta.docs.body.includes('\n\n'), meta.code);
    }
  });

  for (const rule of RULES) {
    it(`${rule.meta.code}: its docs example fires, and its silent example does not`, () => {
      assert.ok(codesOn(rule.meta.docs.fires).includes(rule.meta.code), JSON.stringify(codesOn(rule.meta.docs.fires)));
      assert.ok(!codesOn(rule.meta.docs.silent).includes(rule.meta.code), JSON.stringify(codesOn(rule.meta.docs.silent)));
    });
  }

  it('package.json lists exactly the codes of the rules (portolan.ignore enum, portolan.severity properties)', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    const props = manifest.contributes.configuration.properties;
    assert.deepStrictEqual(props['portolan.ignore'].items.enum, [...DIAGNOSTIC_CODES]);
    assert.deepStrictEqual(Object.keys(props['portolan.severity'].properties), [...DIAGNOSTIC_CODES]);
  });

  it("README's code table names every code, linking its docs page, and no other", () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## What it checks'), readme.indexOf('### Quick fixes'));
    const linked = [...section.matchAll(/\[`([a-z-]+)`\]\(docs\/rules\/([a-z-]+)\.md\)/g)];
    assert.ok(linked.every((m) => m[1] === m[2]));
    assert.deepStrictEqual(linked.map((m) => m[1]).sort(), [...DIAGNOSTIC_CODES].sort());
  });

  it('every finding on examples/ has a rule; host-rule findings name a message their rule declares and carry data', () => {
    const engine = engineWith(readTree(path.join(ROOT, 'examples')), '/ws');
    const findings = [...engine.analyze().findingsByFile.values()].flat();
    assert.ok(findings.length > 5);
    for (const f of findings) assert.ok(ruleOf(f.code), f.code);
    const ctx = { settings: defaultSettings(), registry: engine.registry, lineOf: () => 1, shownPath: (f: string) => f };
    let judged = 0;
    for (const rule of RULES) {
      if (rule.meta.reportedBy !== 'host') continue;
      const check = rule.create(ctx);
      for (const model of engine.hostModels().values()) {
        for (const f of check(model)) {
          judged++;
          assert.strictEqual(f.code, rule.meta.code);
          assert.ok(f.messageId && rule.meta.messages && f.messageId in rule.meta.messages, `${f.code} ${f.messageId}`);
          assert.strictEqual(typeof f.data?.port, 'number');
          assert.ok(['tcp', 'udp', 'sctp'].includes(f.data?.protocol ?? ''), f.data?.protocol);
        }
      }
    }
    assert.ok(judged >= 3, `${judged}`);
  });
});
