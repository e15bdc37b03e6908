/**
 * Renaming a port: every mention that means the same socket changes together, each in its file's
 * own syntax (the number where a number is written, a number for a service name where the format
 * takes either). What cannot be rewritten in place, or would be ambiguous, refuses with a reason.
 * Pure over the engine; `features/rename.ts` turns the result into a WorkspaceEdit.
 */
import type { Engine } from '../core/engine';
import type { FormatId, PortFact, TextEdit } from '../core/types';
import { bindingPrograms, mentionAt, pointedAt, pointingAt, usesOf } from './portSockets';

export type RenameCheck<T> = { ok: T } | { error: string };

/** Formats where a service name may stand where a port number does (getservbyname): the number is written instead. */
const NAMES_TAKE_NUMBERS: ReadonlySet<FormatId> = new Set(['sshd', 'iptables', 'ufw', 'nftables']);

function where(engine: Engine, f: PortFact): string {
  return `${engine.hosts.shownPath(f.file)}:${engine.lineIndex(f.file).position(f.span.start).line + 1}`;
}

/** The mention under the cursor and the span to rename, or why a rename cannot start there. */
export function prepareRename(engine: Engine, file: string, offset: number): RenameCheck<{ fact: PortFact }> {
  const fact = mentionAt(engine, file, offset);
  if (!fact) return { error: 'No port here.' };
  if (fact.kubeField) {
    const group = kubernetesGroup(engine, fact);
    return 'error' in group ? group : { ok: { fact } };
  }
  if (fact.role === 'container') return { error: 'A container port: the program inside the container listens on it. Rename the published host port instead.' };
  if (fact.port !== fact.portEnd) return { error: `A port range (${fact.port}-${fact.portEnd}): rename single ports only.` };
  if (fact.implicit) return { error: `${fact.program}'s default port, not written here: write the port first.` };
  if (fact.inactive) return { error: `This ${fact.program} setting binds nothing: ${fact.inactive}. Rename the port where it is bound.` };
  const group = socketGroup(engine, fact);
  if ('error' in group) return group;
  return { ok: { fact } };
}

/**
 * The mentions to rewrite for the socket of `fact` (single ports only), or why the socket is ambiguous.
 * An inactive mention (a setting the program does not use on this host: sshd_config's Port under
 * ssh.socket, a file no main config loads) binds nothing, so it does not mean this socket: it stays.
 */
function socketGroup(engine: Engine, fact: PortFact): RenameCheck<PortFact[]> {
  const uses = usesOf(engine, fact).filter((f) => f.role !== 'container' && !f.inactive);
  const programs = bindingPrograms(uses);
  if (programs.size > 1) {
    const list = [...programs.values()].map((b) => `${b.program} (${where(engine, b)})`).join(' and ');
    return { error: `Ambiguous: ${fact.protocol.toUpperCase()} ${fact.port} is bound by ${list}; the rules and pointers to it serve both.` };
  }
  return { ok: uses };
}

/**
 * Kubernetes: a container port and the numeric targetPorts that lead to it change together (a named targetPort
 * follows the name and stays); starting on a numeric targetPort is the same. Refused where one side leads
 * elsewhere too (a targetPort reaching container ports of other pods), where a Service without targetPort takes
 * its port as the target (changing it would move the Service's own port), and on the other fields.
 */
function kubernetesGroup(engine: Engine, fact: PortFact): RenameCheck<PortFact[]> {
  const numeric = (f: PortFact) => /^\d+$/.test((engine.text(f.file) ?? '').slice(f.span.start, f.span.end));
  let container = fact;
  if (fact.kubeField === 'targetPort') {
    if (!numeric(fact)) return { error: 'A named targetPort: rename the port number where the container port names it.' };
    const containers = pointedAt(engine, fact);
    if (containers.length > 1)
      return { error: `Ambiguous: this targetPort leads to ${containers.length} container ports (${containers.map((c) => where(engine, c)).join(', ')}).` };
    if (containers.length === 0) return { ok: [fact] };
    container = containers[0];
  } else if (fact.kubeField !== 'containerPort') {
    const field = { hostPort: 'A hostPort', port: 'A Service port', nodePort: 'A nodePort', backend: 'An Ingress backend port' }[fact.kubeField!];
    return { error: `${field}: rename the container port (its numeric targetPorts follow); this field is edited on its own.` };
  }
  const group = [container];
  for (const from of pointingAt(engine, container)) {
    if (from.kubeField === 'port')
      return { error: `The Service port at ${where(engine, from)} has no targetPort, so it is the target too: write targetPort: ${container.port} first.` };
    if (from.kubeField !== 'targetPort' || !numeric(from)) continue;
    const others = pointedAt(engine, from).filter((c) => c !== container);
    if (others.length > 0)
      return {
        error: `Ambiguous: the targetPort at ${where(engine, from)} also leads to ${others.map((c) => `the container port at ${where(engine, c)}`).join(' and ')}.`,
      };
    group.push(from);
  }
  return { ok: group };
}

/** The rewrite of one mention to `port`, or why it cannot be rewritten in its syntax. */
function rewrite(engine: Engine, f: PortFact, port: number): RenameCheck<TextEdit> {
  const text = (engine.text(f.file) ?? '').slice(f.span.start, f.span.end);
  if (f.implicit) return { error: `${f.program}'s default port ${f.port} (${where(engine, f)}) is not written: write it first.` };
  if (/^\d+$/.test(text) && Number(text) === f.port) return { ok: { file: f.file, span: f.span, newText: String(port) } };
  const format = engine.analyze().formatOf.get(f.file);
  if (/^[A-Za-z][\w.+-]*$/.test(text) && format && NAMES_TAKE_NUMBERS.has(format)) return { ok: { file: f.file, span: f.span, newText: String(port) } };
  if (format === 'firewalld-zone' || format === 'firewalld-service')
    return { error: `The firewalld service '${text}' (${where(engine, f)}) opens ${f.port} for others too: open the new port with a <port> element first.` };
  if (/\$\{?\w/.test(text)) return { error: `The port comes from a variable (${text} at ${where(engine, f)}): change its value instead.` };
  return { error: `Cannot rewrite '${text}' at ${where(engine, f)} as a port number.` };
}

/** The edits renaming the port under the cursor to `newName`, or why not. */
export function renameEdits(engine: Engine, file: string, offset: number, newName: string): RenameCheck<TextEdit[]> {
  const start = prepareRename(engine, file, offset);
  if ('error' in start) return start;
  const fact = start.ok.fact;
  const port = /^\d{1,5}$/.test(newName.trim()) ? Number(newName.trim()) : NaN;
  if (!(port >= 1 && port <= 65535)) return { error: `'${newName}' is not a port (1-65535).` };
  if (port === fact.port) return { ok: [] };
  if (fact.kubeField) {
    const group = kubernetesGroup(engine, fact);
    if ('error' in group) return group;
    const edits: TextEdit[] = [];
    for (const f of group.ok) {
      const edit = rewrite(engine, f, port);
      if ('error' in edit) return edit;
      edits.push(edit.ok);
    }
    return { ok: edits };
  }
  const group = socketGroup(engine, fact);
  if ('error' in group) return group;
  const own = bindingPrograms(group.ok);
  const taken = engine
    .hostModelOf(file)
    ?.binds.find((b) => b.protocol === fact.protocol && b.port <= port && b.portEnd >= port && !own.has(b.instance ?? b.file));
  if (taken) return { error: `${fact.protocol.toUpperCase()} ${port} is already bound by ${taken.program} (${where(engine, taken)}).` };
  const edits: TextEdit[] = [];
  for (const f of group.ok) {
    if (f.port !== f.portEnd) {
      // A range about this port (a firewall opening 8000-9000) is left as it is when it also holds the new port.
      if (port >= f.port && port <= f.portEnd) continue;
      return { error: `The range ${f.port}-${f.portEnd} (${where(engine, f)}) holds ${fact.port} but not ${port}.` };
    }
    const edit = rewrite(engine, f, port);
    if ('error' in edit) return edit;
    edits.push(edit.ok);
  }
  return { ok: edits };
}
