import * as assert from 'assert';
import { chartHtml, describeEntry, placeMarkers, stateOf, verdictText, xOf } from '../../client/src/portMapChart';
import type { PortMapEntry, PortMapHost } from '../../server/src/protocol';

const loc = { uri: 'file:///ws/a', range: { start: { line: 2, character: 5 }, end: { line: 2, character: 7 } } };

function entry(port: number, extra: Partial<PortMapEntry> = {}): PortMapEntry {
  return {
    protocol: 'tcp',
    port,
    portEnd: port,
    rangeClass: port < 1024 ? 'well-known' : port < 49152 ? 'registered' : 'dynamic',
    binds: [{ role: 'listen', program: 'sshd', label: `sshd listens on 0.0.0.0:${port}/tcp`, where: 'a:3', location: loc }],
    pointers: [],
    rules: [],
    firewall: [],
    findings: [],
    conflict: false,
    ...extra,
  };
}

function host(ports: PortMapEntry[]): PortMapHost {
  return { id: '/ws', label: 'ws <x>', files: 1, errors: 0, warnings: 0, infos: 0, ports, portCount: ports.length, firewalls: [] };
}

describe('port map chart (client/src/portMapChart.ts)', () => {
  it('places ports left to right, each IANA band in its own share of the line', () => {
    const xs = [0, 22, 1023, 1024, 8080, 49151, 49152, 65535].map(xOf);
    for (let i = 1; i < xs.length; i++) assert.ok(xs[i] >= xs[i - 1], `x(${i}) grows`);
    assert.strictEqual(xOf(0), 40);
    assert.strictEqual(xOf(65535) < 960 + 0.01, true);
    // The well-known band is 30% of the 920 drawn pixels, the registered 50%.
    assert.ok(Math.abs(xOf(1024) - (40 + 0.3 * 920)) < 0.01);
    assert.ok(Math.abs(xOf(49152) - (40 + 0.8 * 920)) < 0.01);
  });

  it('stacks close ports in rows so that none covers another', () => {
    const markers = placeMarkers([entry(80), entry(81), entry(443), entry(82), entry(8080)]);
    assert.deepStrictEqual(
      markers.map((m) => `${m.entry.port}@${m.row}`),
      ['80@0', '81@1', '82@2', '443@0', '8080@0'],
    );
  });

  it('colours: a conflict, an error, a warning, nothing', () => {
    const finding = (severity: 'error' | 'warning') => ({ code: 'x', severity, message: 'm', location: loc });
    assert.strictEqual(stateOf(entry(1, { conflict: true })), 'conflict');
    assert.strictEqual(stateOf(entry(1, { findings: [finding('error')] })), 'error');
    assert.strictEqual(stateOf(entry(1, { findings: [finding('warning')] })), 'warning');
    assert.strictEqual(stateOf(entry(1)), 'ok');
  });

  it('says what a firewall does, with the line of the rule and the rules that accept only some sources', () => {
    assert.strictEqual(
      verdictText({ tool: 'iptables', family: 'both', where: 'r', verdict: 'accept', by: 'rule', location: loc, conditional: [] }),
      'accept by the rule at line 3',
    );
    assert.strictEqual(
      verdictText({ tool: 'ufw', family: 'both', where: 'r', verdict: 'drop', by: 'policy', location: loc, conditional: ['accept from 10.0.0.0/8 (line 9)'] }),
      'drop by the default policy at line 3; accept from 10.0.0.0/8 (line 9)',
    );
    assert.strictEqual(verdictText({ tool: 'ufw', family: 'both', where: 'r', verdict: 'disabled', by: 'disabled', conditional: [] }), 'disabled');
    assert.deepStrictEqual(describeEntry(entry(22, { service: 'SSH' })), ['TCP 22 — SSH (well-known)', 'sshd listens on 0.0.0.0:22/tcp — a:3']);
  });

  it('the page: one marker per port, the conflict marked, text escaped, scripts only with the nonce', () => {
    const html = chartHtml(host([entry(22), entry(443, { conflict: true, binds: [{ ...entry(443).binds[0], label: '<script>alert(1)</script>' }] })]), {
      ephemeral: [{ from: 32768, to: 60999 }],
      hosts: [{ id: '/ws', label: 'ws <x>' }],
      nonce: 'N0NCE',
      cspSource: 'vscode-resource:',
    });
    assert.strictEqual(html.match(/<g class="marker /g)?.length, 2);
    assert.strictEqual(html.match(/<g class="marker conflict"/g)?.length, 1);
    assert.ok(!html.includes('<script>alert(1)</script>'), 'labels are escaped in the SVG and in the data');
    assert.ok(html.includes('ws &lt;x&gt;'));
    assert.match(html, /script-src 'nonce-N0NCE'/);
    assert.strictEqual(html.match(/<script nonce="N0NCE">/g)?.length, 1);
    assert.strictEqual(html.match(/<script/g)?.length, 1);
    assert.match(html, /class="ephemeral"/);
    assert.match(chartHtml(undefined, { ephemeral: [], hosts: [], nonce: 'n', cspSource: 'c' }), /No host has ports yet/);
  });
});
