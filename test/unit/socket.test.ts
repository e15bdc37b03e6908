import * as assert from 'assert';
import { engineWith, offsetOf, shownFindings } from '../helpers/engine';
import { hoverAt } from '../../server/src/features/hoverText';
import { parseEphemeralRanges } from '../../server/src/core/portRanges';

const show = (f: { family?: string; address?: string; port: number; protocol: string; v6only?: boolean }) =>
  `${f.family === 'ipv6' ? `[${f.address ?? '::'}]` : (f.address ?? '0.0.0.0')}:${f.port}/${f.protocol}${f.family === 'ipv6' && !f.address && !f.v6only ? ' dual' : ''}`;

/** Host binds (what takes a port) of the workspace, as "address:port/proto program". */
const binds = (files: Record<string, string>) => {
  const e = engineWith(files);
  e.analyze();
  return [...e.hostModels().values()]
    .flatMap((h) => h.binds)
    .map((f) => `${show(f)} ${f.program}`)
    .sort();
};

const UNIT = 'etc/systemd/system/web.socket';

describe('systemd .socket units', () => {
  it('reads ListenStream and ListenDatagram in every address form, with exact spans', () => {
    const text =
      '[Unit]\nDescription=x\n[Socket]\nListenStream=8080\nListenStream=127.0.0.1:8081\nListenStream=[::1]:8082\n' +
      'ListenStream=[2001:db8::1]:8083\nListenDatagram=0.0.0.0:5353\nListenStream=/run/web.sock\nListenStream=@abstract\n';
    const e = engineWith({ [UNIT]: text });
    const facts = e.analyze().facts.map(({ fact }) => fact);
    assert.deepStrictEqual(
      facts.map((f) => [show(f), text.slice(f.span.start, f.span.end), f.program]),
      [
        ['[::]:8080/tcp dual', '8080', 'systemd'],
        ['127.0.0.1:8081/tcp', '8081', 'systemd'],
        ['[::1]:8082/tcp', '8082', 'systemd'],
        ['[2001:db8::1]:8083/tcp', '8083', 'systemd'],
        ['0.0.0.0:5353/udp', '5353', 'systemd'],
      ],
    );
    assert.deepStrictEqual(shownFindings(e), []);
  });

  it('only the [Socket] section counts; keys are case-sensitive', () => {
    assert.deepStrictEqual(binds({ [UNIT]: '[Service]\nListenStream=80\n[Socket]\nlistenstream=81\nListenStream=82\n' }), ['[::]:82/tcp dual systemd']);
  });

  it('BindIPv6Only=ipv6-only makes the port-only socket IPv6 alone; both and default take IPv4 too', () => {
    assert.deepStrictEqual(binds({ [UNIT]: '[Socket]\nListenStream=80\nBindIPv6Only=ipv6-only\n' }), ['[::]:80/tcp systemd']);
    assert.deepStrictEqual(binds({ [UNIT]: '[Socket]\nListenStream=80\nBindIPv6Only=both\n' }), ['[::]:80/tcp dual systemd']);
  });

  it('a dual-stack socket conflicts with an IPv4 wildcard bind of nginx; an ipv6-only one does not', () => {
    const nginx = { 'etc/nginx/nginx.conf': 'events {}\nhttp { server { listen 0.0.0.0:80; } }\n' };
    const dual = shownFindings(engineWith({ ...nginx, [UNIT]: '[Socket]\nListenStream=80\n' })).filter((f) => f.code === 'port-conflict');
    assert.deepStrictEqual(
      dual.map((f) => [f.file.replace('/ws/', ''), f.text]),
      [
        [UNIT, '80'],
        ['etc/nginx/nginx.conf', '80'],
      ],
    );
    const v6 = shownFindings(engineWith({ ...nginx, [UNIT]: '[Socket]\nListenStream=80\nBindIPv6Only=ipv6-only\n' }));
    assert.deepStrictEqual(
      v6.filter((f) => f.code === 'port-conflict'),
      [],
    );
  });

  it('warns where systemd ignores the line: port 0 or above 65535, host names, bare addresses, SequentialPacket on IP, bad booleans', () => {
    const text =
      '[Socket]\nListenStream=0\nListenStream=65536\nListenStream=localhost:80\nListenStream=127.0.0.1\nListenStream=::1:80\n' +
      'ListenSequentialPacket=8080\nBindIPv6Only=maybe\nFreeBind=perhaps\nReusePort=x\nListenStream=81\n';
    const got = shownFindings(engineWith({ [UNIT]: text })).map((f) => [f.line, f.code, f.severity, f.text]);
    assert.deepStrictEqual(got, [
      [2, 'invalid-port', 'warning', '0'],
      [3, 'invalid-port', 'warning', '65536'],
      [4, 'invalid-port', 'warning', 'localhost:80'],
      [5, 'syntax', 'warning', '127.0.0.1'],
      [6, 'invalid-port', 'warning', '::1:80'],
      [7, 'syntax', 'warning', '8080'],
      [8, 'syntax', 'warning', 'maybe'],
      [9, 'syntax', 'warning', 'perhaps'],
      [10, 'syntax', 'warning', 'x'],
    ]);
    assert.deepStrictEqual(binds({ [UNIT]: text }), ['[::]:81/tcp dual systemd']);
  });

  it('drop-ins are read after the unit in file-name order; an empty ListenStream= resets every listen before it', () => {
    const files = {
      'usr/lib/systemd/system/web.socket': '[Socket]\nListenStream=80\nListenDatagram=53\n',
      'etc/systemd/system/web.socket.d/20-more.conf': '[Socket]\nListenStream=8443\n',
      'etc/systemd/system/web.socket.d/10-reset.conf': '[Socket]\nListenStream=\nListenStream=127.0.0.1:8080\n',
    };
    assert.deepStrictEqual(binds(files), ['127.0.0.1:8080/tcp systemd', '[::]:8443/tcp dual systemd']);
    // Without the reset the unit's own sockets stay.
    const noReset = { ...files, 'etc/systemd/system/web.socket.d/10-reset.conf': '[Socket]\nListenStream=127.0.0.1:8080\n' };
    assert.deepStrictEqual(binds(noReset), [
      '127.0.0.1:8080/tcp systemd',
      '[::]:53/udp dual systemd',
      '[::]:80/tcp dual systemd',
      '[::]:8443/tcp dual systemd',
    ]);
  });

  it('a drop-in of /etc hides a same-named one of /usr/lib', () => {
    const files = {
      'usr/lib/systemd/system/web.socket': '[Socket]\nListenStream=80\n',
      'usr/lib/systemd/system/web.socket.d/override.conf': '[Socket]\nListenStream=81\n',
      'etc/systemd/system/web.socket.d/override.conf': '[Socket]\nListenStream=82\n',
    };
    assert.deepStrictEqual(binds(files), ['[::]:80/tcp dual systemd', '[::]:82/tcp dual systemd']);
  });

  it('several drop-ins without their unit stand for one socket unit (no conflict with themselves)', () => {
    const files = {
      'etc/systemd/system/web.socket.d/a.conf': '[Socket]\nListenStream=9000\n',
      'etc/systemd/system/web.socket.d/b.conf': '[Socket]\nListenStream=9001\n',
    };
    assert.deepStrictEqual(binds(files), ['[::]:9000/tcp dual systemd', '[::]:9001/tcp dual systemd']);
    assert.deepStrictEqual(shownFindings(engineWith(files)), []);
  });

  it('the same address twice is one socket, not a conflict', () => {
    assert.deepStrictEqual(shownFindings(engineWith({ [UNIT]: '[Socket]\nListenStream=80\nListenStream=80\n' })), []);
  });

  it('hovers a socket port', () => {
    const text = '[Socket]\nListenStream=127.0.0.1:8081\n';
    const h = hoverAt(engineWith({ [UNIT]: text }), `/ws/${UNIT}`, offsetOf(text, '8081'), parseEphemeralRanges(undefined))!;
    assert.match(h.markdown, /systemd listens on 127\.0\.0\.1:8081\/tcp: web\.socket/);
  });
});

describe('ssh.socket: socket-activated sshd (Debian, Ubuntu)', () => {
  const SSHD = 'etc/ssh/sshd_config';
  const SOCKET = 'usr/lib/systemd/system/ssh.socket';
  // systemctl enable's link (a dangling link to /lib/... in a copied /etc: the workspace passes it as an empty file).
  const WANTS = 'etc/systemd/system/sockets.target.wants/ssh.socket';
  const ENABLED = { [WANTS]: '' };

  it("with ssh.socket enabled on the host, its ListenStream binds for sshd and sshd_config's Port binds nothing", () => {
    const files = { [SSHD]: 'Port 2222\n', [SOCKET]: '[Socket]\nListenStream=22\nAccept=no\n', ...ENABLED };
    assert.deepStrictEqual(binds(files), ['[::]:22/tcp dual sshd']);
    // Without ssh.socket, sshd_config's Port is what binds.
    assert.deepStrictEqual(binds({ [SSHD]: 'Port 2222\n' }), ['0.0.0.0:2222/tcp sshd', '[::]:2222/tcp sshd']);
  });

  it("the hover of sshd_config's Port says it does not bind, and why", () => {
    const text = 'Port 2222\n';
    const e = engineWith({ [SSHD]: text, [SOCKET]: '[Socket]\nListenStream=22\n', ...ENABLED });
    const h = hoverAt(e, `/ws/${SSHD}`, offsetOf(text, '2222'), parseEphemeralRanges(undefined))!;
    assert.match(h.markdown, /ssh\.socket is on this host: systemd binds its Listen sockets for sshd \(socket activation\), not this setting/);
  });

  it('ssh-lockout judges the socket: fires when the firewall opens only the Port of sshd_config, silent when it opens the socket port', () => {
    const fw = (port: number) => ({ 'etc/iptables/rules.v4': `*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport ${port} -j ACCEPT\nCOMMIT\n` });
    const files = { [SSHD]: 'Port 2222\n', [SOCKET]: '[Socket]\nListenStream=0.0.0.0:22\n', ...ENABLED };
    const fired = shownFindings(engineWith({ ...files, ...fw(2222) })).filter((f) => f.code === 'ssh-lockout');
    assert.deepStrictEqual(
      fired.map((f) => [f.file, f.line, f.text]),
      [[`/ws/${SOCKET}`, 2, '22']],
    );
    assert.deepStrictEqual(
      shownFindings(engineWith({ ...files, ...fw(22) })).filter((f) => f.code === 'ssh-lockout'),
      [],
    );
  });

  it('a drop-in of ssh.socket alone: the stock unit listens on 22 unless the drop-in resets it', () => {
    const dropIn = 'etc/systemd/system/ssh.socket.d/listen.conf';
    assert.deepStrictEqual(binds({ [SSHD]: 'Port 2222\n', [dropIn]: '[Socket]\nListenStream=\nListenStream=2200\n' }), ['[::]:2200/tcp dual sshd']);
    assert.deepStrictEqual(binds({ [dropIn]: '[Socket]\nListenStream=2200\n' }), ['[::]:22/tcp dual sshd', '[::]:2200/tcp dual sshd']);
  });

  it('sshd.socket (Fedora, Arch) and Service=ssh.service bind for sshd too; another socket leaves sshd_config alone', () => {
    const wants = (unit: string) => ({ [`etc/systemd/system/sockets.target.wants/${unit}`]: '' });
    assert.deepStrictEqual(
      binds({ [SSHD]: 'Port 2222\n', 'etc/systemd/system/sshd.socket': '[Socket]\nListenStream=22\nAccept=yes\n', ...wants('sshd.socket') }),
      ['[::]:22/tcp dual sshd'],
    );
    assert.deepStrictEqual(
      binds({ [SSHD]: 'Port 2222\n', 'etc/systemd/system/admin.socket': '[Socket]\nListenStream=2022\nService=ssh.service\n', ...wants('admin.socket') }),
      ['[::]:2022/tcp dual sshd'],
    );
    assert.deepStrictEqual(binds({ [SSHD]: 'Port 2222\nAddressFamily inet\n', [UNIT]: '[Socket]\nListenStream=8080\n' }), [
      '0.0.0.0:2222/tcp sshd',
      '[::]:8080/tcp dual systemd',
    ]);
  });

  describe('enabled only with evidence (Debian 12 ships ssh.socket disabled)', () => {
    const unit = '[Socket]\nListenStream=22\n';
    const sshdBinds = ['0.0.0.0:2222/tcp sshd', '[::]:2222/tcp sshd'];

    it('a unit file alone binds nothing: sshd_config binds, and one Information on the socket says so', () => {
      const files = { [SSHD]: 'Port 2222\n', [SOCKET]: unit };
      assert.deepStrictEqual(binds(files), sshdBinds);
      const got = shownFindings(engineWith(files)).map((f) => [f.file.replace('/ws/', ''), f.line, f.severity, f.messageId, f.text]);
      assert.deepStrictEqual(got, [[SOCKET, 2, 'information', 'socket-not-enabled', '22']]);
      const h = hoverAt(engineWith(files), `/ws/${SOCKET}`, offsetOf(unit, '22'), parseEphemeralRanges(undefined))!;
      assert.match(h.markdown, /ssh\.socket is not known to be enabled/);
    });

    it('the same for sshd.socket and a drop-in outside /etc; a drop-in of /etc/systemd/system/ssh.socket.d/ is evidence', () => {
      assert.deepStrictEqual(binds({ [SSHD]: 'Port 2222\n', 'usr/lib/systemd/system/sshd.socket': unit }), sshdBinds);
      assert.deepStrictEqual(
        binds({ [SSHD]: 'Port 2222\n', [SOCKET]: unit, 'usr/lib/systemd/system/ssh.socket.d/x.conf': '[Socket]\nBacklog=5\n' }),
        sshdBinds,
      );
      assert.deepStrictEqual(binds({ [SSHD]: 'Port 2222\n', [SOCKET]: unit, 'etc/systemd/system/ssh.socket.d/x.conf': '[Socket]\nBacklog=5\n' }), [
        '[::]:22/tcp dual sshd',
      ]);
    });

    it('an enablement link of another unit is no evidence; a wants entry alone is the stock ssh.socket, enabled', () => {
      assert.deepStrictEqual(binds({ [SSHD]: 'Port 2222\n', [SOCKET]: unit, 'etc/systemd/system/sockets.target.wants/web.socket': '' }), [...sshdBinds]);
      assert.deepStrictEqual(binds({ [SSHD]: 'Port 2222\n', [WANTS]: '' }), ['[::]:22/tcp dual sshd']);
      // ...with the /etc drop-ins it reads.
      assert.deepStrictEqual(binds({ [WANTS]: '', 'etc/systemd/system/ssh.socket.d/port.conf': '[Socket]\nListenStream=\nListenStream=2200\n' }), [
        '[::]:2200/tcp dual sshd',
      ]);
    });

    it('a wants entry that is a symbolic link to the unit in the workspace counts, and the unit is not read twice', () => {
      const e = engineWith({ [SSHD]: 'Port 2222\n', 'etc/systemd/system/ssh.socket': unit, [WANTS]: unit });
      e.setAlias(`/ws/${WANTS}`, '/ws/etc/systemd/system/ssh.socket');
      e.analyze();
      const got = [...e.hostModels().values()].flatMap((h) => h.binds).map((f) => `${show(f)} ${f.program} ${f.file.replace('/ws/', '')}`);
      assert.deepStrictEqual(got, ['[::]:22/tcp dual sshd etc/systemd/system/ssh.socket']);
      assert.deepStrictEqual(shownFindings(e), []);
    });

    it('other sockets bind as before (no evidence asked)', () => {
      assert.deepStrictEqual(binds({ 'usr/lib/systemd/system/web.socket': '[Socket]\nListenStream=8080\n' }), ['[::]:8080/tcp dual systemd']);
    });
  });

  describe("Ubuntu 24.04+: sshd-socket-generator writes ssh.socket's listens from sshd_config", () => {
    // Ubuntu's ssh.socket, as the generator's own comment gives it.
    const UBUNTU_UNIT = '[Socket]\nListenStream=0.0.0.0:22\nListenStream=[::]:22\nBindIPv6Only=ipv6-only\nAccept=no\nFreeBind=yes\n';
    const osRelease = (id: string, version: string) => ({ 'etc/os-release': `PRETTY_NAME="x"\nNAME="x"\nVERSION_ID="${version}"\nID=${id}\n` });
    const NOBLE = osRelease('ubuntu', '24.04');
    const ubuntu = (sshd: string, more: Record<string, string> = {}) => ({ [SSHD]: sshd, [SOCKET]: UBUNTU_UNIT, ...ENABLED, ...NOBLE, ...more });

    it("with Ubuntu 24.04's os-release, sshd_config's Port is what binds (the generator puts it in ssh.socket); the unit's 22 is replaced", () => {
      assert.deepStrictEqual(binds(ubuntu('Port 2222\n')), ['0.0.0.0:2222/tcp sshd', '[::]:2222/tcp sshd']);
      assert.deepStrictEqual(binds(ubuntu('Port 22\nPort 2222\n')), ['0.0.0.0:22/tcp sshd', '0.0.0.0:2222/tcp sshd', '[::]:22/tcp sshd', '[::]:2222/tcp sshd']);
      assert.deepStrictEqual(binds(ubuntu('ListenAddress 127.0.0.1:2200\n')), ['127.0.0.1:2200/tcp sshd']);
      // AddressFamily is custom for the generator: it writes the IPv4 listens only.
      assert.deepStrictEqual(binds(ubuntu('AddressFamily inet\n')), ['0.0.0.0:22/tcp sshd']);
      // Ubuntu 26.04 and a wants entry alone (the stock unit) too.
      assert.deepStrictEqual(binds({ [SSHD]: 'Port 2222\n', ...ENABLED, ...osRelease('ubuntu', '26.04') }), ['0.0.0.0:2222/tcp sshd', '[::]:2222/tcp sshd']);
    });

    it('the generator itself in the workspace is evidence too; /usr/lib/os-release counts when /etc has none', () => {
      const generator = { 'usr/lib/systemd/system-generators/sshd-socket-generator': '' };
      assert.deepStrictEqual(binds({ [SSHD]: 'Port 2222\n', [SOCKET]: UBUNTU_UNIT, ...ENABLED, ...generator }), [
        '0.0.0.0:2222/tcp sshd',
        '[::]:2222/tcp sshd',
      ]);
      const usrLib = { 'usr/lib/os-release': 'ID=ubuntu\nVERSION_ID="24.10"\n' };
      assert.deepStrictEqual(binds({ [SSHD]: 'Port 2222\n', [SOCKET]: UBUNTU_UNIT, ...ENABLED, ...usrLib }), ['0.0.0.0:2222/tcp sshd', '[::]:2222/tcp sshd']);
    });

    it('stock listens in sshd_config: the generator writes nothing and the unit keeps its own', () => {
      const unitBinds = ['0.0.0.0:22/tcp sshd', '[::]:22/tcp sshd'];
      assert.deepStrictEqual(binds(ubuntu('PermitRootLogin no\n')), unitBinds);
      // ListenAddress 0.0.0.0 with Port 22 is stock for the generator: the unit still takes [::]:22.
      assert.deepStrictEqual(binds(ubuntu('ListenAddress 0.0.0.0\n')), unitBinds);
      const unit = binds(ubuntu('PermitRootLogin no\n', { [SOCKET]: '[Socket]\nListenStream=2022\nBindIPv6Only=ipv6-only\n' }));
      assert.deepStrictEqual(unit, ['[::]:2022/tcp sshd']);
    });

    it('without the evidence (Debian, Ubuntu 22.04/23.10, another distribution) ssh.socket binds as before', () => {
      const unitBinds = ['0.0.0.0:22/tcp sshd', '[::]:22/tcp sshd'];
      for (const release of [osRelease('debian', '12'), osRelease('ubuntu', '23.10'), osRelease('ubuntu', '22.04'), {}])
        assert.deepStrictEqual(binds({ [SSHD]: 'Port 2222\n', [SOCKET]: UBUNTU_UNIT, ...ENABLED, ...release }), unitBinds, JSON.stringify(release));
    });

    it("drop-ins of /etc: read after addresses.conf they add to the generator's listens, a reset there wins; an /etc addresses.conf hides the generator", () => {
      const dropIn = (name: string, text: string) => ({ [`etc/systemd/system/ssh.socket.d/${name}`]: text });
      assert.deepStrictEqual(binds(ubuntu('Port 2222\n', dropIn('override.conf', '[Socket]\nListenStream=127.0.0.1:2300\n'))), [
        '0.0.0.0:2222/tcp sshd',
        '127.0.0.1:2300/tcp sshd',
        '[::]:2222/tcp sshd',
      ]);
      assert.deepStrictEqual(binds(ubuntu('Port 2222\n', dropIn('override.conf', '[Socket]\nListenStream=\nListenStream=2300\n'))), ['[::]:2300/tcp sshd']);
      // Read before addresses.conf: the generator's reset removes it.
      assert.deepStrictEqual(binds(ubuntu('Port 2222\n', dropIn('00-extra.conf', '[Socket]\nListenStream=2300\n'))), [
        '0.0.0.0:2222/tcp sshd',
        '[::]:2222/tcp sshd',
      ]);
      assert.deepStrictEqual(binds(ubuntu('Port 2222\n', dropIn('addresses.conf', '[Socket]\nListenStream=\nListenStream=2300\n'))), ['[::]:2300/tcp sshd']);
    });

    it("hover and ssh-lockout follow sshd_config's Port; the unit's replaced listen says why it binds nothing", () => {
      const text = 'Port 2222\nAddressFamily inet\n';
      const e = engineWith(ubuntu(text));
      const h = hoverAt(e, `/ws/${SSHD}`, offsetOf(text, '2222'), parseEphemeralRanges(undefined))!;
      assert.match(h.markdown, /bound by ssh\.socket: sshd-socket-generator writes it there/);
      assert.doesNotMatch(h.markdown, /binds nothing|not this setting/);
      const u = hoverAt(e, `/ws/${SOCKET}`, offsetOf(UBUNTU_UNIT, '22'), parseEphemeralRanges(undefined))!;
      assert.match(u.markdown, /sshd-socket-generator writes ssh\.socket's ListenStream from sshd_config's Port and ListenAddress/);
      const fw = (port: number) => ({ 'etc/iptables/rules.v4': `*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport ${port} -j ACCEPT\nCOMMIT\n` });
      const lockout = (port: number) => shownFindings(engineWith(ubuntu(text, fw(port)))).filter((f) => f.code === 'ssh-lockout');
      assert.deepStrictEqual(
        lockout(22).map((f) => [f.file, f.text]),
        [[`/ws/${SSHD}`, '2222']],
      );
      assert.deepStrictEqual(lockout(2222), []);
    });
  });
});
