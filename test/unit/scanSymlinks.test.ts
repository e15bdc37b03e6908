/** Symbolic links in a scanned folder (issue 17): links to folders outside the workspace are not walked, and said. */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { createFormatModules } from '../../server/src/formats/index';
import { loadRegistry } from '../../server/src/workspace/data';
import { loadFirewalldServices } from '../../server/src/workspace/firewalldData';
import { scanFolder, toPosix, type SkippedFile } from '../../server/src/workspace/files';

describe('scanFolder and symbolic links', () => {
  const modules = createFormatModules(loadRegistry(), { firewalldServices: loadFirewalldServices() });
  let base: string;
  beforeEach(() => {
    base = toPosix(fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'portolan-links-'))));
  });
  afterEach(() => fs.rmSync(base, { recursive: true, force: true }));

  it('a link to a folder outside the workspace is not walked and is reported; a link to a folder inside is walked once', () => {
    const ws = `${base}/ws`;
    fs.mkdirSync(`${ws}/etc/ssh`, { recursive: true });
    fs.mkdirSync(`${base}/outside/etc/ssh`, { recursive: true });
    fs.writeFileSync(`${ws}/etc/ssh/sshd_config`, 'Port 22\n');
    fs.writeFileSync(`${base}/outside/etc/ssh/sshd_config`, 'Port 2222\n');
    fs.symlinkSync(`${base}/outside`, `${ws}/root`);
    fs.symlinkSync('/', `${ws}/slash`);
    fs.symlinkSync(`${ws}/etc`, `${ws}/etc-again`);
    fs.symlinkSync(ws, `${ws}/etc/loop`);
    const skipped: SkippedFile[] = [];
    const found = scanFolder(ws, modules, undefined, (s) => skipped.push(s)).map((f) => f.path);
    // The folder inside is read once (through etc or etc-again), the loop back to the workspace is not walked again.
    assert.strictEqual(found.length, 1, found.join(' '));
    assert.match(found[0], /\/ws\/etc(-again)?\/ssh\/sshd_config$/);
    assert.deepStrictEqual(
      skipped
        .filter((s) => /outside the workspace/.test(s.reason))
        .map((s) => s.path)
        .sort(),
      [`${ws}/root`, `${ws}/slash`],
    );
  });

  it('a link to a file outside the workspace is read', () => {
    const ws = `${base}/ws`;
    fs.mkdirSync(`${ws}/etc/ssh`, { recursive: true });
    fs.writeFileSync(`${base}/sshd_config`, 'Port 2200\n');
    fs.symlinkSync(`${base}/sshd_config`, `${ws}/etc/ssh/sshd_config`);
    const found = scanFolder(ws, modules);
    assert.deepStrictEqual(
      found.map((f) => [f.path, f.text, f.aliasOf]),
      [[`${ws}/etc/ssh/sshd_config`, 'Port 2200\n', undefined]],
    );
  });
});

describe('scanFolder and systemd enablement links', () => {
  const modules = createFormatModules(loadRegistry(), { firewalldServices: loadFirewalldServices() });
  let base: string;
  beforeEach(() => {
    base = toPosix(fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'portolan-links-'))));
  });
  afterEach(() => fs.rmSync(base, { recursive: true, force: true }));

  it('a dangling sockets.target.wants link is passed on empty (its presence says the unit is enabled); another dangling link is skipped', () => {
    const ws = `${base}/ws`;
    fs.mkdirSync(`${ws}/etc/systemd/system/sockets.target.wants`, { recursive: true });
    fs.mkdirSync(`${ws}/etc/ssh`, { recursive: true });
    fs.symlinkSync(`${base}/missing/lib/systemd/system/ssh.socket`, `${ws}/etc/systemd/system/sockets.target.wants/ssh.socket`);
    fs.symlinkSync(`${base}/missing/sshd_config`, `${ws}/etc/ssh/sshd_config`);
    const skipped: SkippedFile[] = [];
    const found = scanFolder(ws, modules, undefined, (s) => skipped.push(s));
    assert.deepStrictEqual(
      found.map((f) => [f.path, f.text]),
      [[`${ws}/etc/systemd/system/sockets.target.wants/ssh.socket`, '']],
    );
    assert.deepStrictEqual(
      skipped.map((s) => s.path),
      [`${ws}/etc/ssh/sshd_config`],
    );
  });

  it("ssh.socket's evidence for sshd-socket-generator: os-release is read, the generator (a binary) is passed on empty; other binaries are skipped", () => {
    const ws = `${base}/ws`;
    fs.mkdirSync(`${ws}/etc`, { recursive: true });
    fs.mkdirSync(`${ws}/usr/lib/systemd/system-generators`, { recursive: true });
    fs.writeFileSync(`${ws}/etc/os-release`, 'ID=ubuntu\nVERSION_ID="24.04"\n');
    fs.writeFileSync(`${ws}/usr/lib/systemd/system-generators/sshd-socket-generator`, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 1]));
    fs.writeFileSync(`${ws}/usr/lib/systemd/system-generators/other.conf`, Buffer.from([0x7f, 0x45, 0, 1]));
    const skipped: SkippedFile[] = [];
    const found = scanFolder(ws, modules, undefined, (s) => skipped.push(s));
    assert.deepStrictEqual(found.map((f) => [f.path, f.text]).sort(), [
      [`${ws}/etc/os-release`, 'ID=ubuntu\nVERSION_ID="24.04"\n'],
      [`${ws}/usr/lib/systemd/system-generators/sshd-socket-generator`, ''],
    ]);
    assert.deepStrictEqual(
      skipped.map((s) => s.path),
      [`${ws}/usr/lib/systemd/system-generators/other.conf`],
    );
  });
});
