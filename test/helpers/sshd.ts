/**
 * The sshd -T oracle: runs OpenSSH's own config reader on a config and its include files, and puts
 * what it says next to what our engine computes for the same files.
 *
 * sshd runs in private mount and network namespaces (`unshare -m -n`), never listening: -T only
 * prints the effective configuration. Inside the namespaces /run gets a tmpfs (sshd -T wants
 * /run/sshd), /etc/ssh a tmpfs holding only the case's own files (relative Include paths resolve
 * there, and the machine's own /etc/ssh/sshd_config.d stays out), and /etc/hosts the loopback lines
 * Debian installs (`localhost` is 127.0.0.1 and ::1), so `localhost` means the same on every machine.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ipaddr from 'ipaddr.js';
import { engineWith, shownFindings, type ShownFinding } from './engine';
import { run } from './programs';

export const DEBIAN_HOSTS = '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n';

/**
 * sshd -T reads the config twice: once as sshd does at start-up (no connection: only `Match all`
 * applies), then again for one connection, which without -C is a blank one that makes
 * `Match LocalPort` fatal. A made-up connection that matches no usual condition avoids that artefact;
 * Port, ListenAddress and AddressFamily are global, so it does not change what is compared.
 */
const CONNECTION = 'user=portolan-nobody,host=client.invalid,addr=192.0.2.1,laddr=192.0.2.2,lport=1,rdomain=portolan-none';

/** A config to judge. Texts may say {DIR}: the case's own directory (absolute), for Include paths. */
export interface SshdCase {
  name: string;
  config: string;
  /** Other files: a path relative to the case directory, or an absolute one under /etc/ssh. */
  files?: Record<string, string>;
  /**
   * The workspace holds only `files` (drop-ins under sshd_config.d/): sshd runs with `config` as the stock
   * main file (STOCK_SSHD_CONFIG), which our engine does not see.
   */
  stockMain?: boolean;
}

/** Debian's stock /etc/ssh/sshd_config without its comments; {DIR}/sshd_config.d stands for /etc/ssh/sshd_config.d. */
export const STOCK_SSHD_CONFIG = [
  'Include {DIR}/sshd_config.d/*.conf',
  'KbdInteractiveAuthentication no',
  'UsePAM yes',
  'X11Forwarding yes',
  'PrintMotd no',
  'AcceptEnv LANG LC_*',
  'Subsystem sftp /usr/lib/openssh/sftp-server',
  '',
].join('\n');

export interface SshdError {
  file?: string;
  line?: number;
  message: string;
}

export interface SshdVerdict {
  status: number;
  ports: number[];
  /** "ADDRESS:PORT" with the address normalized (IPv6 in brackets); the rdomain is dropped. */
  listens: string[];
  errors: SshdError[];
  stderr: string;
}

/** Where a case's files live, by the absolute path both sshd and our engine see. */
export interface MaterializedCase {
  root: string;
  files: Record<string, string>;
  /** What our engine reads, when not every file (a stock main file the workspace does not hold). */
  ourFiles?: Record<string, string>;
}

export class SshdOracle {
  readonly dir: string;
  private next = 0;

  constructor(
    readonly sshd: string,
    sshKeygen: string,
    readonly unshare: string,
  ) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portolan-sshd-oracle-'));
    const made = run(sshKeygen, ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(this.dir, 'hostkey')]);
    if (made.status !== 0) throw new Error(`ssh-keygen failed: ${made.stderr}`);
    fs.writeFileSync(path.join(this.dir, 'hosts'), DEBIAN_HOSTS);
  }

  /** Writes a case into a fresh directory; files under /etc/ssh are staged for the namespace's /etc/ssh. */
  materialize(c: SshdCase): MaterializedCase {
    const caseDir = path.join(this.dir, `case-${String(this.next++).padStart(4, '0')}`);
    const stage = path.join(caseDir, '.etc-ssh');
    fs.mkdirSync(stage, { recursive: true });
    const fill = (text: string) => text.split('{DIR}').join(caseDir);
    const root = path.join(caseDir, 'sshd_config');
    const files: Record<string, string> = { [root]: fill(c.config) };
    for (const [name, text] of Object.entries(c.files ?? {})) {
      const abs = name.startsWith('/') ? name : path.join(caseDir, name);
      files[abs] = fill(text);
    }
    for (const [abs, text] of Object.entries(files)) {
      const onDisk = abs.startsWith('/etc/ssh/') ? path.join(stage, abs.slice('/etc/ssh/'.length)) : abs;
      if (!onDisk.startsWith(caseDir)) throw new Error(`case file outside its directory: ${abs}`);
      fs.mkdirSync(path.dirname(onDisk), { recursive: true });
      fs.writeFileSync(onDisk, text);
    }
    if (!c.stockMain) return { root, files };
    const ourFiles = Object.fromEntries(Object.entries(files).filter(([abs]) => abs !== root));
    return { root, files, ourFiles };
  }

  /** sshd -T on a materialized case. */
  async judge(m: MaterializedCase): Promise<SshdVerdict> {
    const caseDir = path.dirname(m.root);
    const script = [
      'mount -t tmpfs tmpfs /run && mkdir /run/sshd',
      'mount -t tmpfs tmpfs /etc/ssh && cp -R "$1/.etc-ssh/." /etc/ssh/',
      'mount --bind "$2/hosts" /etc/hosts',
      `cd "$1" && exec "$3" -T -f "$1/sshd_config" -h "$2/hostkey" -C ${CONNECTION}`,
    ].join(' && ');
    const r = await runAsync(this.unshare, ['-m', '-n', 'sh', '-c', script, 'sh', caseDir, this.dir, this.sshd]);
    return parseSshdOutput(r.status, r.stdout, r.stderr);
  }

  dispose(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

function runAsync(cmd: string, args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20000);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ status: -1, stdout, stderr: stderr + String(e) });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ status: code ?? -1, stdout, stderr });
    });
  });
}

/** "0.0.0.0:22", "[::1]:22": IPv4 dotted quad, IPv6 in RFC 5952 form (zone kept). */
export function normalizeListen(address: string, port: number): string {
  const bare = address.replace(/^\[(.*)\]$/, '$1');
  if (ipaddr.IPv4.isValidFourPartDecimal(bare)) return `${ipaddr.IPv4.parse(bare).toString()}:${port}`;
  const [addr, zone] = bare.split('%', 2);
  // The WHATWG URL serializer writes IPv6 the RFC 5952 way, embedded IPv4 in hex (::0.1.0.34 is ::1:22).
  if (ipaddr.IPv6.isValid(addr)) return `${new URL(`http://[${addr}]/`).hostname.slice(0, -1)}${zone ? `%${zone}` : ''}]:${port}`;
  return `${bare}:${port}`;
}

export function parseSshdOutput(status: number, stdout: string, stderr: string): SshdVerdict {
  const ports: number[] = [];
  const listens: string[] = [];
  // sshd ends its log lines with \r\n.
  for (const line of stdout.split(/\r?\n/)) {
    const p = /^port (\d+)$/.exec(line);
    if (p) ports.push(Number(p[1]));
    const l = /^listenaddress (.*):(\d+)(?: rdomain \S+)?$/.exec(line);
    if (l) listens.push(normalizeListen(l[1], Number(l[2])));
  }
  const errors: SshdError[] = [];
  for (const line of stderr.split(/\r?\n/)) {
    if (line.trim() === '' || /(Deprecated|Unsupported) option/.test(line)) continue;
    const at = /^(.*) line (\d+): (.*)$/.exec(line);
    if (at) errors.push({ file: at[1], line: Number(at[2]), message: at[3] });
    else errors.push({ message: line });
  }
  return { status, ports, listens, errors, stderr };
}

/** What our engine says about the same files. */
export interface OurVerdict {
  listens: string[];
  /** Ports of the binds that come from Port lines or the implicit default (what sshd prints as `port N`). */
  portLinePorts: number[];
  /** Host names we cannot resolve here (they resolve on the target machine). */
  unresolved: string[];
  errors: ShownFinding[];
}

export function ourVerdict(m: MaterializedCase): OurVerdict {
  const engine = engineWith(m.ourFiles ?? m.files);
  const result = engine.analyze();
  const facts = result.facts.map(({ fact }) => fact).filter((f) => f.role === 'listen' && f.program === 'sshd' && f.instance === m.root);
  const listens: string[] = [];
  const portLinePorts: number[] = [];
  const unresolved: string[] = [];
  for (const f of facts) {
    if (!f.family) {
      unresolved.push(f.address ?? '?');
      continue;
    }
    listens.push(normalizeListen(f.address ?? (f.family === 'ipv6' ? '::' : '0.0.0.0'), f.port));
    const text = m.files[f.file] ?? '';
    const lineText = text.slice(text.lastIndexOf('\n', f.span.start - 1) + 1);
    if (f.implicit || /^[ \t\r]*"?port(?=[\s="])/i.test(lineText)) portLinePorts.push(f.port);
  }
  const errors = shownFindings(engine).filter((f) => f.severity === 'error');
  return { listens, portLinePorts, unresolved, errors };
}

/** Runs `work` over `items` with at most `width` at a time, keeping the order of results. */
export async function pool<T, R>(items: T[], width: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
  return results;
}
