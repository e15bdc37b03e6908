/**
 * Dockerfile / Containerfile `EXPOSE`: the container ports an image declares (`EXPOSE 80 443/tcp
 * 53/udp 8000-8010`), read as BuildKit reads them: instructions case-insensitive, `\` continues a
 * line, `#` comment lines, `$VAR`/`${VAR}` from ARG/ENV defaults written before (a port with a
 * variable left unknown is skipped). EXPOSE binds nothing on the host: these are container ports
 * (hover). What BuildKit's dockerfile2llb refuses (a port above 65535, a reversed range, not a
 * number, a protocol other than tcp/udp/sctp in any case) is an error; what it accepts is not: port 0
 * (no fact), `80/TCP`, and the `[ip:]host:container` forms it only warns about (the container port,
 * the last part, is the fact).
 */
import * as path from 'path';
import type { FileParse, Finding, FormatModule, PortFact, Protocol, Span } from '../../core/types';

function err(file: string, span: Span, message: string): Finding {
  return { file, span, severity: 'error', code: 'invalid-port', message };
}

interface Instruction {
  name: string;
  /** Arguments with offsets (only for single-line instructions; continued ones use the line's span). */
  args: { text: string; span: Span }[];
}

function instructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  const raw = text.split('\n');
  let offset = 0;
  for (let n = 0; n < raw.length; n++) {
    const start = offset;
    offset += raw[n].length + 1;
    const line = raw[n];
    if (/^\s*(#|$)/.test(line)) continue;
    let body = line;
    let end = start + line.length;
    // Continuation lines: join them, keeping offsets by replacing "\\\n" with spaces of the same length.
    while (/\\\s*$/.test(body) && n + 1 < raw.length) {
      n++;
      const next = raw[n];
      offset += next.length + 1;
      body = `${body.replace(/\\(\s*)$/, (_, ws: string) => ` ${ws}`)} ${/^\s*#/.test(next) ? ' '.repeat(next.length) : next}`;
      end = start + body.length;
    }
    const words: { text: string; span: Span }[] = [];
    const re = /\S+/g;
    let m: RegExpExecArray | null;
    while ((m = re.exec(body))) words.push({ text: m[0], span: { start: start + m.index, end: start + m.index + m[0].length } });
    if (words.length === 0 || end < start) continue;
    out.push({ name: words[0].text.toUpperCase(), args: words.slice(1) });
  }
  return out;
}

function parseDockerfile(text: string, file: string): FileParse {
  const findings: Finding[] = [];
  const facts: PortFact[] = [];
  const vars = new Map<string, string>();
  let stage = 'the image';
  for (const ins of instructions(text)) {
    if (ins.name === 'FROM') {
      const as = ins.args.findIndex((a) => a.text.toLowerCase() === 'as');
      stage = as >= 0 && ins.args[as + 1] ? `stage ${ins.args[as + 1].text}` : `the image FROM ${ins.args[0]?.text ?? ''}`;
      continue;
    }
    if (ins.name === 'ARG' || ins.name === 'ENV') {
      for (const a of ins.args) {
        const eq = a.text.indexOf('=');
        if (eq > 0) vars.set(a.text.slice(0, eq), a.text.slice(eq + 1).replace(/^["']|["']$/g, ''));
      }
      if (ins.name === 'ENV' && ins.args.length === 2 && !ins.args[0].text.includes('=')) vars.set(ins.args[0].text, ins.args[1].text);
      continue;
    }
    if (ins.name !== 'EXPOSE') continue;
    for (const a of ins.args) {
      let unknown = false;
      const value = a.text.replace(
        /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
        (_, n1: string, dflt: string | undefined, n2: string) => {
          const v = vars.get(n1 ?? n2) ?? dflt;
          if (v === undefined) unknown = true;
          return v ?? '';
        },
      );
      if (unknown) continue;
      const plain = value === a.text;
      // [ip:]host:container: BuildKit takes the last part as the container port (and lints the rest).
      const colon = value.lastIndexOf(':');
      const spec = value.slice(colon + 1);
      const m = /^(\d+)(?:-(\d+))?(?:\/([A-Za-z]*))?$/.exec(spec);
      if (!m) {
        findings.push(err(file, a.span, `EXPOSE ${value}: not a port, range or port/protocol (docker build: invalid containerPort).`));
        continue;
      }
      const from = Number(m[1]);
      const to = m[2] === undefined ? from : Number(m[2]);
      const proto = (m[3] || 'tcp').toLowerCase();
      if (from > 65535 || to > 65535) {
        findings.push(err(file, a.span, `EXPOSE ${value}: a port is 0-65535 (docker build: invalid containerPort).`));
        continue;
      }
      if (to < from) {
        findings.push(err(file, a.span, `EXPOSE ${value}: the range runs backwards (docker build: invalid range).`));
        continue;
      }
      if (proto !== 'tcp' && proto !== 'udp' && proto !== 'sctp') {
        findings.push(err(file, a.span, `EXPOSE ${value}: unknown protocol "${m[3]}" (docker build accepts tcp, udp, sctp).`));
        continue;
      }
      if (from === 0 && to === 0) continue; // accepted by docker build, but no port to speak of
      const portLength = m[1].length + (m[2] === undefined ? 0 : m[2].length + 1);
      const portStart = a.span.start + colon + 1;
      facts.push({
        role: 'container',
        file,
        span: plain ? { start: portStart, end: portStart + portLength } : a.span,
        protocol: proto as Protocol,
        port: from,
        portEnd: to,
        program: 'docker',
        context: `EXPOSE in ${stage}`,
        detail: `${stage} exposes container port ${from === to ? from : `${from}-${to}`}/${proto} (EXPOSE publishes nothing on the host by itself)`,
      });
    }
  }
  return { format: 'dockerfile', file, facts, findings, includes: [] };
}

export function isDockerfilePath(p: string): boolean {
  const base = path.posix.basename(p);
  return (
    (/^(Dockerfile|Containerfile)(\.[A-Za-z0-9_.-]+)?$/.test(base) && !/\.(md|txt|dockerignore|j2|tpl|template)$/i.test(base)) ||
    /^[A-Za-z0-9_.-]+\.(Dockerfile|dockerfile)$/.test(base)
  );
}

export function createDockerfileModule(): FormatModule {
  return {
    id: 'dockerfile',
    matchesPath: isDockerfilePath,
    matchesContent: (text) => /^[^\S\n]*FROM[^\S\n]+\S/im.test(text) && /^[^\S\n]*(RUN|COPY|CMD|ENTRYPOINT|EXPOSE)\s/im.test(text),
    parse: parseDockerfile,
  };
}
