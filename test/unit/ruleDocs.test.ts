/** docs/rules/ is generated from the rules' metadata (npm run generate:rule-docs): a stale or missing page fails here. */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { renderRuleDoc, renderRuleIndex } from '../../server/src/rules/docs';
import { RULES } from '../../server/src/rules/index';

const DIR = path.resolve(__dirname, '..', '..', 'docs', 'rules');
const HINT = 'run `npm run generate:rule-docs`';

describe('rule docs (docs/rules/)', () => {
  for (const rule of RULES) {
    it(`${rule.meta.code}.md is what its metadata renders`, () => {
      const file = path.join(DIR, `${rule.meta.code}.md`);
      assert.ok(fs.existsSync(file), `${file} is missing: ${HINT}`);
      assert.strictEqual(fs.readFileSync(file, 'utf8'), renderRuleDoc(rule), `${file} is stale: ${HINT}`);
    });
  }

  it('the index lists every rule, and no page is left of a rule that is gone', () => {
    assert.strictEqual(fs.readFileSync(path.join(DIR, 'README.md'), 'utf8'), renderRuleIndex(RULES), HINT);
    const pages = fs.readdirSync(DIR).filter((f) => f.endsWith('.md') && f !== 'README.md');
    assert.deepStrictEqual(pages.sort(), RULES.map((r) => `${r.meta.code}.md`).sort(), HINT);
  });

  it('a page shows its description, default severity and both examples', () => {
    const rule = RULES.find((r) => r.meta.code === 'ephemeral-port')!;
    const page = renderRuleDoc(rule);
    assert.ok(page.includes(rule.meta.description));
    assert.ok(page.includes('Default severity: warning'));
    assert.ok(page.includes('Port 50022') && page.includes('Port 2222'));
  });
});
