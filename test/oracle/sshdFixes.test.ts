/**
 * The quick fixes offered on sshd_config, applied, give a file that `sshd -T` accepts, that we no
 * longer flag, and that differs from the original only in the lines the fix names.
 */
import * as assert from 'assert';
import { applyEdits, engineWith } from '../helpers/engine';
import { SshdOracle } from '../helpers/sshd';
import { requireProgram } from '../helpers/programs';

const CASES: string[] = [
  'Port 22\nMatch User backup\n    Port 2200\n    ForceCommand internal-sftp\n',
  'Match User backup\n  ListenAddress 127.0.0.1:2201\n',
  'Port 2222\nMatch Address 10.0.0.0/8\n  PasswordAuthentication yes\nMatch User admin\n  AddressFamily inet\n',
  'PermitRootLogin no\nMatch Group sftp\n\tPort 2202\r\n\tChrootDirectory /srv\n',
];

describe('sshd_config quick fixes against sshd -T', function () {
  this.timeout(120000);
  let oracle: SshdOracle;
  before(function () {
    const sshd = requireProgram(this, ['/usr/sbin/sshd', 'sshd'], 'openssh-server');
    const keygen = requireProgram(this, ['ssh-keygen'], 'openssh-client');
    const unshare = requireProgram(this, ['unshare'], 'util-linux');
    oracle = new SshdOracle(sshd, keygen, unshare);
  });
  after(() => oracle?.dispose());

  let applied = 0;
  for (const [i, config] of CASES.entries()) {
    it(`case ${i + 1}: every fix makes sshd accept the file and changes only its own lines`, async () => {
      const m = oracle.materialize({ name: `fix-${i}`, config });
      const before = await oracle.judge(m);
      assert.notStrictEqual(before.status, 0, 'the case must start out refused by sshd');
      const engine = engineWith(m.files);
      const finding = engine
        .analyze()
        .findingsByFile.get(m.root)!
        .find((f) => f.fixes?.length);
      assert.ok(finding, 'a fix is offered');
      for (const fix of finding.fixes!) {
        const fixed = applyEdits(
          config.split('{DIR}').join(''),
          fix.edits.map((e) => ({ span: e.span, newText: e.newText })),
        );
        const fm = oracle.materialize({ name: `fix-${i}-applied`, config: fixed });
        const after = await oracle.judge(fm);
        assert.strictEqual(after.status, 0, `${fix.title}: sshd still refuses:\n${after.stderr}\n--- fixed file:\n${fixed}`);
        const ours = engineWith(fm.files).analyze().findingsByFile.get(fm.root) ?? [];
        assert.deepStrictEqual(
          ours.filter((f) => f.severity === 'error').map((f) => f.message),
          [],
          `${fix.title}: we still report errors`,
        );
        // Only the moved/deleted line changes: the other lines keep their text and order.
        const directive: string = finding.message.match(/^(\w+)/)![1];
        const keep = (t: string): string[] => t.split('\n').filter((l) => !new RegExp(`^\\s*${directive}\\b`, 'i').test(l));
        assert.deepStrictEqual(keep(fixed), keep(config), `${fix.title}: other lines changed`);
        applied++;
      }
    });
  }
  after(() => console.log(`      sshd quick fixes: ${applied} applied fixes accepted by sshd -T`));
});
