/** Encodings the programs refuse (core/encoding.ts, workspace/files.ts decodeText): the finding on line 1, the facts kept, the fix. */
import { strict as assert } from 'assert';
import { applyEdits, engineWith, shownFindings } from '../helpers/engine';
import { decodeText, encodingOfBytes } from '../../server/src/workspace/files';
import { utf16le, withUtf8Bom } from '../hostile/generators';

const BOM = '\ufeff';
const SSHD = 'etc/ssh/sshd_config';
const NGINX = 'etc/nginx/nginx.conf';
const COMPOSE = 'docker-compose.yml';

const encodingNotes = (engine: ReturnType<typeof engineWith>, file: string) =>
  shownFindings(engine, `/ws/${file}`).filter((f) => f.messageId?.startsWith('encoding-'));

describe('encodings the programs refuse', () => {
  it('sshd_config with a UTF-8 BOM: an Error on line 1 with the fix, the Port still read', () => {
    const engine = engineWith({ [SSHD]: `${BOM}Port 2222\n` });
    const [note, ...rest] = encodingNotes(engine, SSHD);
    assert.equal(rest.length, 0);
    assert.deepEqual([note.line, note.col, note.severity, note.code, note.messageId], [1, 1, 'error', 'syntax', 'encoding-bom']);
    assert.match(note.message, /sshd refuses it on line 1/);
    assert.deepEqual(
      engine
        .analyze()
        .factsByFile.get(`/ws/${SSHD}`)
        ?.map((f) => f.port),
      [2222, 2222],
    );
    const finding = engine
      .analyze()
      .findingsByFile.get(`/ws/${SSHD}`)!
      .find((f) => f.messageId === 'encoding-bom')!;
    assert.equal(finding.fixes?.[0].title, 'Re-save as UTF-8 without BOM');
    const fixed = applyEdits(engine.text(`/ws/${SSHD}`)!, finding.fixes![0].edits);
    assert.equal(fixed, 'Port 2222\n');
    engine.setFile(`/ws/${SSHD}`, fixed);
    assert.deepEqual(encodingNotes(engine, SSHD), []);
  });

  it('the same file without the mark, or a compose file with one (docker-compose reads it), stays silent', () => {
    assert.deepEqual(encodingNotes(engineWith({ [SSHD]: 'Port 2222\n' }), SSHD), []);
    const compose = engineWith({ [COMPOSE]: `${BOM}services:\n  web:\n    image: nginx\n    ports:\n      - "8080:80"\n` });
    assert.deepEqual(shownFindings(compose, `/ws/${COMPOSE}`), []);
    assert.ok(
      compose
        .analyze()
        .factsByFile.get(`/ws/${COMPOSE}`)
        ?.some((f) => f.port === 8080),
    );
  });

  it('the readers that choked on the mark (iptables-restore, nft, .env) read the rest: one finding, the ports kept', () => {
    const files = {
      'etc/iptables/rules.v4': `${BOM}*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n`,
      'etc/nftables.conf': `${BOM}table inet f {\n  chain input {\n    type filter hook input priority 0; policy drop;\n    tcp dport 22 accept\n  }\n}\n`,
    };
    for (const [file, text] of Object.entries(files)) {
      const engine = engineWith({ [file]: text });
      assert.deepEqual(
        shownFindings(engine, `/ws/${file}`).map((f) => f.messageId),
        ['encoding-bom'],
        file,
      );
      assert.equal(engine.analyze().factsByFile.get(`/ws/${file}`)?.length, 1, file);
    }
    const env = engineWith({ '.env': `${BOM}P=8080\n`, [COMPOSE]: 'services:\n  web:\n    image: nginx\n    ports:\n      - "${P}:80"\n' });
    assert.deepEqual(shownFindings(env), []);
    assert.ok(
      env
        .analyze()
        .factsByFile.get(`/ws/${COMPOSE}`)
        ?.some((f) => f.port === 8080),
    );
  });

  it('an editor that keeps the mark out of the text: the disk says so (setEncoding), no edit offered', () => {
    const engine = engineWith({ [NGINX]: 'events {}\nhttp { server { listen 8080; } }\n' });
    engine.setEncoding(`/ws/${NGINX}`, 'utf-8-bom');
    const finding = engine
      .analyze()
      .findingsByFile.get(`/ws/${NGINX}`)!
      .find((f) => f.messageId === 'encoding-bom')!;
    assert.match(finding.message, /nginx refuses it on line 1.*cannot remove it/);
    assert.equal(finding.fixes, undefined);
    engine.setEncoding(`/ws/${NGINX}`, undefined);
    assert.deepEqual(encodingNotes(engine, NGINX), []);
  });

  it('UTF-16: an Error where the program refuses it, saying Portolan cannot re-encode it; none where it reads it', () => {
    const engine = engineWith({ [SSHD]: 'Port 2222\n', [COMPOSE]: 'services:\n  web:\n    image: nginx\n' });
    engine.setEncoding(`/ws/${SSHD}`, 'utf-16le');
    engine.setEncoding(`/ws/${COMPOSE}`, 'utf-16le');
    const [note] = encodingNotes(engine, SSHD);
    assert.deepEqual([note.severity, note.messageId], ['error', 'encoding-utf16']);
    assert.match(note.message, /UTF-16 \(little-endian\): sshd refuses it.*cannot re-encode/);
    assert.equal(engine.analyze().findingsByFile.get(`/ws/${SSHD}`)![0].fixes, undefined);
    assert.deepEqual(encodingNotes(engine, COMPOSE), []);
  });

  it('firewalld: UTF-16 XML is read unless its declaration names another encoding; a BOM before a firewalld.conf setting loses that line', () => {
    const zone = (decl: string) => `${decl}<zone>\n  <port protocol="tcp" port="8080"/>\n</zone>\n`;
    const engine = engineWith({
      'etc/firewalld/zones/a.xml': zone('<?xml version="1.0" encoding="utf-8"?>\n'),
      'etc/firewalld/zones/b.xml': zone(''),
      'etc/firewalld/firewalld.conf': `${BOM}DefaultZone=trusted\n`,
      'etc/firewalld/other/firewalld.conf': `${BOM}# comment\nDefaultZone=trusted\n`,
    });
    engine.setEncoding('/ws/etc/firewalld/zones/a.xml', 'utf-16le');
    engine.setEncoding('/ws/etc/firewalld/zones/b.xml', 'utf-16le');
    assert.deepEqual(
      encodingNotes(engine, 'etc/firewalld/zones/a.xml').map((f) => f.severity),
      ['error'],
    );
    assert.deepEqual(encodingNotes(engine, 'etc/firewalld/zones/b.xml'), []);
    assert.deepEqual(
      encodingNotes(engine, 'etc/firewalld/firewalld.conf').map((f) => f.severity),
      ['warning'],
    );
  });

  it('decodeText: UTF-16 (both byte orders) decoded without its mark, a UTF-8 mark kept, NUL bytes otherwise not text', () => {
    assert.deepEqual(decodeText(utf16le('Port 22\n')), { text: 'Port 22\n', encoding: 'utf-16le' });
    const be = Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from('Port 22\n', 'utf16le').swap16()]);
    assert.deepEqual(decodeText(be), { text: 'Port 22\n', encoding: 'utf-16be' });
    assert.deepEqual(decodeText(withUtf8Bom('Port 22\n')), { text: `${BOM}Port 22\n`, encoding: 'utf-8-bom' });
    assert.deepEqual(decodeText(Buffer.from('Port 22\n')), { text: 'Port 22\n' });
    assert.ok('unread' in decodeText(Buffer.from([0x50, 0, 0x6f])));
    assert.equal(encodingOfBytes(Buffer.from([0xef, 0xbb])), undefined);
  });
});
