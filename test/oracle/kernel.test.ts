/**
 * Oracle: the kernel judges our port-conflict verdict. Each generated case (test/oracle/kernel/cases.ts)
 * is a few programs of one host: real sshd and real nginx started on the case's config text; for a
 * compose file's published ports a stand-in listener binding what Docker's docker-proxy binds, or
 * (the DNS, resolved and .socket cases) Debian's real /usr/sbin/docker-proxy; and a stand-in
 * (sockets.py) opening systemd-resolved's stub listeners and a systemd .socket unit's sockets with the
 * socket options each sets (cited in kernel/cases.ts), in the groups that stand or fall together.
 * They start in order inside a network namespace the test creates (`unshare -n`, only `lo`), and
 * whichever bind() fails with EADDRINUSE is the expected answer.
 *
 * Our side reads the same texts as files of one host with our parsers and our engine:
 * - per program, in start order: does one of its binds fail against the binds earlier programs still
 *   hold, or against its own earlier binds (`bindBlockers`; a host range published to one container
 *   port takes the port `portTaken` picks, and fails when there is none)? A program whose start
 *   fails holds nothing afterwards (nginx exits, Docker does not start the container, a .socket unit
 *   closes its sockets), except sshd, which keeps the sockets that did bind, and resolved, which drops
 *   its four stubs together and keeps each extra listener that bound. This must equal the kernel's answer for every program.
 * - for the whole case, the engine's static verdict, which does not know the start order: a
 *   port-conflict that fails in every order (an error, or sshd's warning about binding an address
 *   twice) means the kernel must refuse a bind; no port-conflict at all means it must take every
 *   bind; a conflict that depends on start order (`dependsOnStartOrder`) allows either outcome.
 */
import * as assert from 'assert';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { bindBlockers, dependsOnStartOrder, isHostBind, portTaken, type HeldBind } from '../../server/src/core/conflicts';
import type { FormatId, PortFact } from '../../server/src/core/types';
import { engineWith } from '../helpers/engine';
import { isRoot, requireProgram, run } from '../helpers/programs';
import { DEBIAN_HOSTS } from '../helpers/sshd';
import {
  composeText,
  dockerMappings,
  resolvedSockets,
  generateCases,
  nginxIncludedFiles,
  socketUnitSockets,
  unitLabel,
  type KernelCase,
  type Unit,
} from './kernel/cases';

const WORKERS = 2;
const BATCH_TIMEOUT_MS = 150_000;

interface Actor {
  unit: number;
  /** Index of the compose service; undefined for sshd and nginx. */
  service?: number;
  label: string;
}

interface KernelResult {
  status: 'ok' | 'eaddrinuse' | 'error';
  detail: string;
}

interface Ours {
  /** Format of each unit's file that is not registered yet (the case waits for that parser). */
  missing: FormatId[];
  failing: boolean[];
  /** The engine's port-conflict verdict for the case: a bind fails in every start order, in some, or in none. */
  conflict: 'every order' | 'some orders' | 'none';
  /** Why each program fails, in our words (for the disagreement listing). */
  why: string[];
}

const FILE_OF: Record<Exclude<Unit['kind'], 'socket'>, { name: string; format: FormatId }> = {
  sshd: { name: 'sshd_config', format: 'sshd' },
  nginx: { name: 'nginx.conf', format: 'nginx' },
  compose: { name: 'docker-compose.yml', format: 'compose' },
  resolved: { name: 'resolved.conf', format: 'resolved' },
};

/** The unit's main file and the format that must read it. */
function fileOf(u: Unit): { name: string; format: FormatId } {
  return u.kind === 'socket' ? { name: `${u.spec.name}.socket`, format: 'systemd-socket' } : FILE_OF[u.kind];
}

function unitDir(c: KernelCase, i: number): string {
  return `u${i}-${c.units[i].kind}`;
}

/** Every file of a unit by path relative to its directory: the config first, then what it includes. */
function unitFiles(u: Unit): Record<string, string> {
  const main = fileOf(u).name;
  if (u.kind === 'socket') return { [main]: u.text };
  if (u.kind === 'compose') return { [main]: composeText(u.services).text };
  if (u.kind === 'nginx') return { [main]: u.text, ...nginxIncludedFiles(u.blocks) };
  if (u.kind === 'resolved') return { [main]: u.text };
  return { [main]: u.text };
}

function actorsOf(c: KernelCase): Actor[] {
  return c.units.flatMap((u, i): Actor[] =>
    u.kind === 'compose'
      ? u.services.map((s, k) => ({ unit: i, service: k, label: `docker service ${s.name} of u${i}` }))
      : [{ unit: i, label: `${u.kind} u${i}` }],
  );
}

function shortFact(f: PortFact): string {
  const addr = f.address ?? (f.family === 'ipv6' ? '::' : f.family === 'ipv4' ? '0.0.0.0' : '?');
  const v6 = f.family === 'ipv6' && f.address === undefined ? (f.v6only ? ' v6only' : ' dual-stack') : '';
  return `${f.program} ${f.family === 'ipv6' ? `[${addr}]` : addr}:${f.port === f.portEnd ? f.port : `${f.port}-${f.portEnd}`}/${f.protocol}${v6}${f.separateBind ? ' bind' : ''}`;
}

/** Our verdict: the engine over the case's files as one host. */
function ourVerdict(c: KernelCase): Ours {
  const files: Record<string, string> = {};
  c.units.forEach((u, i) => {
    for (const [name, text] of Object.entries(unitFiles(u))) files[`${unitDir(c, i)}/${name}`] = text;
  });
  const engine = engineWith(files);
  // The units sit in directories of their own, but the case is one machine: say so (core/sharedHost.ts).
  engine.hosts.setFolders([{ folder: '/ws', hosts: {}, oneHost: true }]);
  const missing = c.units
    .map((u, i) => ({ u, file: `/ws/${unitDir(c, i)}/${fileOf(u).name}` }))
    .filter(({ u, file }) => engine.moduleFor(file)?.id !== fileOf(u).format)
    .map(({ u }) => fileOf(u).format);
  const result = engine.analyze();
  const actors = actorsOf(c);
  const actorOf = (f: PortFact): number => {
    const unit = c.units.findIndex((_, i) => f.file.startsWith(`/ws/${unitDir(c, i)}/`));
    const u = c.units[unit];
    if (u?.kind !== 'compose') return actors.findIndex((a) => a.unit === unit);
    const spans = composeText(u.services).spans;
    const service = spans.findIndex((s) => f.span.start >= s.start && f.span.start < s.end);
    return actors.findIndex((a) => a.unit === unit && a.service === service);
  };
  const factsOf = actors.map(() => [] as PortFact[]);
  for (const { fact } of result.facts) {
    if (!isHostBind(fact)) continue;
    const a = actorOf(fact);
    if (a < 0) throw new Error(`case ${c.id}: a bind fact no program owns: ${shortFact(fact)} in ${fact.file}`);
    factsOf[a].push(fact);
  }
  const held: { bind: HeldBind; actor: number }[] = [];
  const failing: boolean[] = [];
  const why: string[] = [];
  actors.forEach((actor, j) => {
    const mine = factsOf[j];
    const reasons: string[] = [];
    const own: HeldBind[] = [];
    const ownerOf = (h: HeldBind) => {
      const other = held.find((x) => x.bind === h);
      return other ? `of ${actors[other.actor].label}` : 'of its own';
    };
    const shortHeld = (h: HeldBind) =>
      `${shortFact(h.took === undefined ? h.fact : { ...h.fact, port: h.took, portEnd: h.took })}${h.took === undefined ? '' : ' (taken from its range)'} ${ownerOf(h)}`;
    const kind = c.units[actor.unit].kind;
    // resolved: its four stubs stand or fall together (a failed one turns them all off), each extra on its own.
    const groupOf = (f: PortFact): string | undefined =>
      kind !== 'resolved' ? undefined : f.context.startsWith('DNSStubListenerExtra=') ? `extra ${f.span.start} ${f.protocol}` : 'stub';
    const failedGroups = new Set<string>();
    const failGroup = (f: PortFact) => {
      const g = groupOf(f);
      if (g === undefined) return;
      failedGroups.add(g);
      for (let k = own.length - 1; k >= 0; k--) if (groupOf(own[k].fact) === g) own.splice(k, 1);
    };
    // Binds in order, each against what others hold and what this program bound before it.
    for (const step of startSteps(mine)) {
      const group = groupOf(step[0]);
      if (group !== undefined && failedGroups.has(group)) continue;
      const before = [...held.map((h) => h.bind), ...own];
      if (step[0].oneOf) {
        const port = portTaken(step, before);
        if (port === undefined)
          reasons.push(
            `no port of ${step.map(shortFact).join(' + ')} is free: ${before
              .filter((h) => step.some((f) => bindBlockers(f, [h]).length > 0))
              .map(shortHeld)
              .join(', ')}`,
          );
        else own.push(...step.map((fact) => ({ fact, took: port })));
        continue;
      }
      const blockers = bindBlockers(step[0], before);
      if (blockers.length > 0) {
        reasons.push(`${shortFact(step[0])} collides with ${blockers.map(shortHeld).join(', ')}`);
        failGroup(step[0]);
      } else own.push({ fact: step[0] });
    }
    failing.push(reasons.length > 0);
    why.push(reasons.length ? reasons.join('; ') : `binds ${own.map((h) => shortHeld(h).replace(/ of its own$/, '')).join(', ') || 'nothing'}`);
    // sshd keeps the sockets that bound, resolved the groups that bound; nginx exits, Docker does not start
    // a container that failed, and a .socket unit that cannot bind one socket closes them all.
    if (kind === 'resolved') held.push(...own.map((bind) => ({ bind, actor: j })));
    else if (kind === 'sshd') {
      const others = held.map((h) => h.bind);
      held.push(...mine.filter((f) => bindBlockers(f, others).length === 0).map((fact) => ({ bind: { fact }, actor: j })));
    } else if (reasons.length === 0) held.push(...own.map((bind) => ({ bind, actor: j })));
  });
  const conflicts = [...result.findingsByFile.values()].flat().filter((f) => f.code === 'port-conflict');
  const conflict = conflicts.some((f) => !dependsOnStartOrder(f)) ? 'every order' : conflicts.length > 0 ? 'some orders' : 'none';
  return { missing, failing, conflict, why };
}

/**
 * A program's binds in the order it makes them: one step per bind of fixed ports, and one per host
 * range published to one container port (its addresses take the same port together).
 */
function startSteps(binds: PortFact[]): PortFact[][] {
  const steps: PortFact[][] = [];
  const mappings = new Map<string, PortFact[]>();
  for (const f of binds) {
    if (!f.oneOf) {
      steps.push([f]);
      continue;
    }
    const key = `${f.file}\u0000${f.span.start}\u0000${f.port}-${f.portEnd}`;
    const step = mappings.get(key);
    if (step) step.push(f);
    else {
      const first = [f];
      mappings.set(key, first);
      steps.push(first);
    }
  }
  return steps;
}

/** Writes the case files and the runner's batch description. */
function materialize(root: string, cases: KernelCase[]): object[] {
  return cases.map((c) => {
    const dir = path.join(root, `case-${c.id}`);
    const actors: object[] = [];
    c.units.forEach((u, i) => {
      const d = path.join(dir, unitDir(c, i));
      for (const [name, text] of Object.entries(unitFiles(u))) {
        fs.mkdirSync(path.dirname(path.join(d, name)), { recursive: true });
        fs.writeFileSync(path.join(d, name), text);
      }
      const file = path.join(d, fileOf(u).name);
      if (u.kind === 'sshd') actors.push({ kind: 'sshd', config: file });
      else if (u.kind === 'nginx') actors.push({ kind: 'nginx', prefix: d, config: file });
      else if (u.kind === 'resolved') actors.push({ kind: 'sockets', sockets: resolvedSockets(u.spec) });
      else if (u.kind === 'socket') actors.push({ kind: 'sockets', sockets: socketUnitSockets(u.spec) });
      else for (const s of u.services) actors.push({ kind: 'docker', mappings: dockerMappings(s), proxy: u.proxy });
    });
    return { id: c.id, dir, actors };
  });
}

/** Runs one batch in a namespace of its own; resolves with the runner's result lines. */
function runBatch(root: string, name: string, hosts: string, batch: object[], hostKey: string): Promise<Map<number, { results: KernelResult[]; ms: number }>> {
  const batchFile = path.join(root, `${name}.json`);
  fs.writeFileSync(batchFile, JSON.stringify({ hostKey, cases: batch }));
  return new Promise((resolve, reject) => {
    const child = spawn('unshare', ['-n', '-m', 'sh', path.join(__dirname, 'kernel', 'namespace.sh'), hosts, batchFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => {
      // unshare execs the shell, which execs the runner: this PID is the runner, which stops its programs.
      if (child.pid) process.kill(child.pid, 'SIGTERM');
    }, BATCH_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const got = new Map<number, { results: KernelResult[]; ms: number }>();
      for (const line of out.split('\n').filter(Boolean)) {
        const r = JSON.parse(line) as { id: number; results: KernelResult[]; ms: number };
        got.set(r.id, r);
      }
      if (code !== 0) reject(new Error(`${name}: runner exited ${code} after ${got.size} of ${batch.length} cases: ${err.trim()}`));
      else resolve(got);
    });
  });
}

describe('kernel oracle: port conflicts as bind() decides them', function () {
  this.timeout(180_000);
  let root: string;

  before(function () {
    requireProgram(this, ['nginx', '/usr/sbin/nginx'], 'nginx');
    requireProgram(this, ['/usr/lib/nginx/modules/ngx_stream_module.so'], 'libnginx-mod-stream');
    requireProgram(this, ['/usr/sbin/sshd'], 'openssh-server');
    requireProgram(this, ['ssh-keygen'], 'openssh-client');
    requireProgram(this, ['unshare'], 'util-linux');
    requireProgram(this, ['python3'], 'python3');
    requireProgram(this, ['ip', '/usr/sbin/ip', '/sbin/ip'], 'iproute2');
    if (!isRoot()) {
      if (process.env.CI === 'true') throw new Error('the kernel oracle needs root (network namespaces, sshd)');
      console.log('      skipped: the kernel oracle needs root (network namespaces, sshd)');
      this.skip();
    }
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'portolan-kernel-'));
  });

  after(() => {
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('our verdict equals the kernel on every generated case', async () => {
    const cases = generateCases();
    const ours = new Map(cases.map((c) => [c.id, ourVerdict(c)]));
    const ready = cases.filter((c) => ours.get(c.id)!.missing.length === 0);
    const waiting = cases.filter((c) => ours.get(c.id)!.missing.length > 0);

    const hostKey = path.join(root, 'hostkey');
    const keygen = run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
    assert.strictEqual(keygen.status, 0, keygen.stderr);
    const hosts = path.join(root, 'hosts');
    fs.writeFileSync(hosts, DEBIAN_HOSTS);

    const described = materialize(root, ready);
    const batches = Array.from({ length: WORKERS }, (_, w) => described.filter((_, i) => i % WORKERS === w));
    const started = Date.now();
    const kernel = new Map<number, { results: KernelResult[]; ms: number }>();
    for (const got of await Promise.all(batches.map((b, w) => runBatch(root, `batch-${w}`, hosts, b, hostKey)))) for (const [id, r] of got) kernel.set(id, r);
    const elapsed = Date.now() - started;

    const disagreements: string[] = [];
    let agree = 0;
    let orderDependent = 0;
    for (const c of ready) {
      const mine = ours.get(c.id)!;
      const theirs = kernel.get(c.id);
      const actors = actorsOf(c);
      const problems: string[] = [];
      if (!theirs) problems.push('the runner gave no result');
      else {
        theirs.results.forEach((r, j) => {
          if (r.status === 'error') problems.push(`${actors[j].label} did not run: ${r.detail}`);
          else if ((r.status === 'eaddrinuse') !== mine.failing[j])
            problems.push(
              `${actors[j].label}: kernel ${r.status === 'eaddrinuse' ? `EADDRINUSE (${r.detail})` : 'bound everything'}, we say ${mine.failing[j] ? 'it fails' : 'it binds'} (${mine.why[j]})`,
            );
        });
        const kernelConflict = theirs.results.some((r) => r.status === 'eaddrinuse');
        if (mine.conflict === 'some orders') orderDependent++;
        else if (kernelConflict !== (mine.conflict === 'every order')) {
          problems.push(
            `the engine ${mine.conflict === 'every order' ? 'reports a port-conflict that fails in every start order' : 'reports no port-conflict'}, the kernel ${kernelConflict ? 'refused a bind' : 'took every bind'}`,
          );
        }
      }
      if (problems.length === 0) agree++;
      else disagreements.push(`#${c.id} ${c.name}\n      ${c.units.map(unitLabel).join('\n      ')}\n      → ${problems.join('\n      → ')}`);
    }
    const slowest = [...kernel.entries()].sort((a, b) => b[1].ms - a[1].ms)[0];
    const refused = [...kernel.values()].filter((k) => k.results.some((r) => r.status === 'eaddrinuse')).length;
    console.log(
      `      kernel oracle: ${ready.length} cases, ${agree} agree (the kernel refused a bind in ${refused}; ${orderDependent} where the engine says it depends on start order; ${(elapsed / 1000).toFixed(1)} s in ${WORKERS} namespaces, slowest case ${slowest?.[1].ms} ms)`,
    );
    if (waiting.length > 0)
      console.log(
        `      ${waiting.length} cases wait for the ${[...new Set(waiting.flatMap((c) => ours.get(c.id)!.missing))].join(' and ')} parser (not registered in server/src/formats/index.ts)`,
      );
    for (const d of disagreements) console.log(`      DISAGREE ${d}`);
    assert.ok(ready.length >= 150, `only ${ready.length} cases could run`);
    assert.strictEqual(disagreements.length, 0, `${disagreements.length} of ${ready.length} cases disagree with the kernel (listed above)`);
  });
});
