import * as assert from 'assert';
import { parseSeverityOverrides } from '../../server/src/core/engine';
import { engineWith, shownFindings } from '../helpers/engine';

const SSHD = { 'etc/ssh/sshd_config': 'Port 50001\nPort 70000\n' };

describe('portolan.severity (per-code severity)', () => {
  it('without an override, each finding keeps the severity its rule gave it', () => {
    const got = shownFindings(engineWith(SSHD)).map((f) => `${f.code}:${f.severity}`);
    assert.deepStrictEqual(got, ['ephemeral-port:warning', 'invalid-port:error']);
  });
  it('an override changes the severity of that code only', () => {
    const engine = engineWith(SSHD);
    engine.setSettings({ ...engine['settings'], severity: { 'ephemeral-port': 'information' } });
    const got = shownFindings(engine).map((f) => `${f.code}:${f.severity}`);
    assert.deepStrictEqual(got, ['ephemeral-port:information', 'invalid-port:error']);
  });
  it('can raise a warning to an error, and going back to no override restores it', () => {
    const engine = engineWith(SSHD);
    const base = engine['settings'];
    engine.setSettings({ ...base, severity: { 'ephemeral-port': 'error' } });
    assert.deepStrictEqual(
      shownFindings(engine).map((f) => f.severity),
      ['error', 'error'],
    );
    engine.setSettings({ ...base, severity: {} });
    assert.deepStrictEqual(
      shownFindings(engine).map((f) => f.severity),
      ['warning', 'error'],
    );
  });
  it('portolan.ignore wins over a severity for the same code', () => {
    const engine = engineWith(SSHD);
    engine.setSettings({ ...engine['settings'], ignoreCodes: ['ephemeral-port'], severity: { 'ephemeral-port': 'error' } });
    assert.deepStrictEqual(
      shownFindings(engine).map((f) => f.code),
      ['invalid-port'],
    );
  });
  it('the setting as written: unknown severities and non-objects are dropped', () => {
    assert.deepStrictEqual(parseSeverityOverrides({ 'ephemeral-port': 'information', 'port-conflict': 'fatal', syntax: 3 }), {
      'ephemeral-port': 'information',
    });
    assert.deepStrictEqual(parseSeverityOverrides(['ephemeral-port']), {});
    assert.deepStrictEqual(parseSeverityOverrides(null), {});
    assert.deepStrictEqual(parseSeverityOverrides('warning'), {});
  });
});
