/**
 * `nginx -t` on one nginx file as a test machine can run it: in mount and network namespaces of its
 * own (`unshare -m -n`, loopback up, /etc/nginx and /etc/hosts bound from the case directory, the log
 * and cache directories on tmpfs), the file wrapped the way its first directive says it is included
 * (a main config as it is; `server {}` blocks inside `http {}`; a server's directives inside a
 * `server {}`). What this machine lacks and no listen depends on is neutralized and named: host names
 * get loopback addresses, certificates a test pair, and a directive nginx refuses for another reason
 * is blanked (line numbers stay). A `listen`, or a block holding one, is never touched: what nginx
 * then says about the listens is its own judgement.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseNginxTree, type NginxDirective } from '../../server/src/formats/nginx/lexer';
import { run } from './programs';

const STREAM_MODULE = '/usr/lib/nginx/modules/ngx_stream_module.so';

export interface NginxTVerdict {
  ok: boolean;
  /** nginx's last [emerg] line when it refuses. */
  message: string;
  /** What was neutralized before nginx accepted or gave up. */
  neutralized: string[];
}

const blank = (text: string, start: number, end: number) => text.slice(0, start) + text.slice(start, end).replace(/[^\n]/g, ' ') + text.slice(end);

const holdsListen = (d: NginxDirective): boolean => d.name.text === 'listen' || (d.block ?? []).some(holdsListen);

/** The innermost directive whose ';' or '{' stands on a 1-based line. */
function directiveAt(text: string, line: number): NginxDirective | undefined {
  const lineOf = (offset: number) => text.slice(0, offset).split('\n').length;
  let found: NginxDirective | undefined;
  const walk = (list: NginxDirective[]) => {
    for (const d of list) {
      if (lineOf(d.blockOpen ? d.blockOpen.start : d.span.end - 1) === line) found = d;
      if (d.block) walk(d.block);
    }
  };
  walk(parseNginxTree(text).directives);
  return found;
}

/** The main config that includes `site.conf` where the file's first directive belongs. */
function wrapperFor(text: string, cert: string, key: string): string | undefined {
  const certs = `ssl_certificate ${cert}; ssl_certificate_key ${key};`;
  const load = fs.existsSync(STREAM_MODULE) ? `load_module ${STREAM_MODULE};\n` : '';
  if (/^\s*(http|events)\s*\{/m.test(text)) return undefined;
  if (/^\s*(stream|mail)\s*\{/m.test(text)) return `${load}events {}\ninclude site.conf;\n`;
  if (/^\s*(server|upstream|map|geo|log_format|proxy_cache_path|limit_req_zone|limit_conn_zone)\b/m.test(text))
    return `${load}events {}\nhttp { ${certs}\n  include site.conf;\n}\n`;
  return `${load}events {}\nhttp { ${certs}\n  server {\n    include site.conf;\n  }\n}\n`;
}

export class NginxT {
  private next = 0;
  constructor(
    readonly nginx: string,
    readonly dir: string,
    readonly cert: string,
    readonly key: string,
  ) {}

  /** nginx -t on `text` (one file), neutralizing at most 20 unrelated refusals. */
  test(text: string): NginxTVerdict {
    const prefix = path.join(this.dir, `nginx-${this.next++}`);
    const wrapper = wrapperFor(text, this.cert, this.key);
    const siteName = wrapper ? 'site.conf' : 'x.conf';
    const files = new Map<string, string>([[siteName, text]]);
    if (wrapper) files.set('x.conf', wrapper);
    else if (!/^\s*events\s*\{/m.test(text)) files.set('x.conf', `${text}\nevents {}\n`);
    const hosts = new Map<string, string>();
    const neutralized: string[] = [];
    for (let attempt = 0; attempt < 20; attempt++) {
      const r = this.once(prefix, files, hosts);
      if (r.ok) return { ok: true, message: '', neutralized };
      const step = this.neutralize(files, hosts, r);
      if (!step) return { ok: false, message: r.message, neutralized };
      neutralized.push(step);
    }
    return { ok: false, message: 'still refused after 20 neutralized directives', neutralized };
  }

  private neutralize(files: Map<string, string>, hosts: Map<string, string>, r: { message: string; file?: string; line?: number }): string | undefined {
    const host = /^host not found in (?:upstream )?"([^"]+)"/.exec(r.message);
    if (host) {
      const name = host[1]
        .replace(/^\[.*\]$/, '')
        .replace(/:[^:]*$/, '')
        .toLowerCase();
      if (name === '' || hosts.has(name)) return undefined;
      hosts.set(name, `127.1.${Math.floor(hosts.size / 250)}.${(hosts.size % 250) + 1}`);
      return `host ${name} given a loopback address`;
    }
    if (/^no "events" section/.test(r.message)) {
      files.set('x.conf', `${files.get('x.conf')}\nevents {}\n`);
      return 'events {} added';
    }
    const cert = /^cannot load certificate( key)? "([^"]+)"/.exec(r.message);
    if (cert) return this.replaceCertificate(files, cert[2], cert[1] ? this.key : this.cert);
    const name = r.file ? path.basename(r.file) : undefined;
    const text = name ? files.get(name) : undefined;
    if (text === undefined || !r.line) return this.blankNaming(files, r.message);
    const d = directiveAt(text, r.line);
    if (!d || holdsListen(d)) return undefined;
    files.set(name!, blank(text, d.span.start, d.span.end));
    return `${d.name.text} blanked (${r.message})`;
  }

  /** Reported without a place: the directives (no listen) with an argument the message quotes are blanked. */
  private blankNaming(files: Map<string, string>, message: string): string | undefined {
    for (const [, token] of message.matchAll(/"([^"]+)"/g)) {
      let done = 0;
      for (const [name, text] of files) {
        const hits: NginxDirective[] = [];
        const walk = (list: NginxDirective[]) => {
          for (const d of list) {
            if (!holdsListen(d) && d.args.some((a) => a.text === token)) hits.push(d);
            else if (d.block) walk(d.block);
          }
        };
        walk(parseNginxTree(text).directives);
        let out = text;
        for (const d of hits.reverse()) out = blank(out, d.span.start, d.span.end);
        files.set(name, out);
        done += hits.length;
      }
      if (done > 0) return `directives naming "${token}" blanked (${message})`;
    }
    return undefined;
  }

  /** Every ssl_certificate(_key) naming `file` points at the test pair instead. */
  private replaceCertificate(files: Map<string, string>, file: string, replacement: string): string | undefined {
    let done = 0;
    for (const [name, text] of files) {
      const edits: NginxDirective[] = [];
      const walk = (list: NginxDirective[]) => {
        for (const d of list) {
          if (/^ssl_certificate(_key)?$/.test(d.name.text) && d.args.length === 1 && d.args[0].text === file) edits.push(d);
          if (d.block) walk(d.block);
        }
      };
      walk(parseNginxTree(text).directives);
      let out = text;
      for (const d of edits.reverse()) out = out.slice(0, d.args[0].span.start) + replacement + out.slice(d.args[0].span.end);
      files.set(name, out);
      done += edits.length;
    }
    return done > 0 ? `certificate ${file} replaced by a test one` : undefined;
  }

  private once(prefix: string, files: Map<string, string>, hosts: Map<string, string>): { ok: boolean; message: string; file?: string; line?: number } {
    fs.rmSync(prefix, { recursive: true, force: true });
    for (const d of ['conf', 'logs', 'run', 'etc-nginx']) fs.mkdirSync(path.join(prefix, d), { recursive: true });
    for (const stock of ['mime.types', 'fastcgi_params', 'fastcgi.conf', 'proxy_params', 'scgi_params', 'uwsgi_params']) {
      const from = path.join('/etc/nginx', stock);
      if (fs.existsSync(from)) {
        fs.copyFileSync(from, path.join(prefix, 'conf', stock));
        fs.copyFileSync(from, path.join(prefix, 'etc-nginx', stock));
      }
    }
    for (const [name, text] of files) fs.writeFileSync(path.join(prefix, 'conf', name), text);
    fs.writeFileSync(path.join(prefix, 'hosts'), `127.0.0.1 localhost\n::1 localhost\n${[...hosts].map(([n, a]) => `${a} ${n}`).join('\n')}\n`);
    const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    const script = [
      'set -e',
      `mount -t tmpfs tmpfs ${q(path.join(prefix, 'logs'))}`,
      'for d in /var/log /var/lib/nginx /var/cache; do [ -d $d ] && mount -t tmpfs tmpfs $d; done',
      'mkdir -p /var/log/nginx /var/lib/nginx/body /var/cache/nginx',
      `[ -d /etc/nginx ] && mount --bind ${q(path.join(prefix, 'etc-nginx'))} /etc/nginx`,
      `mount --bind ${q(path.join(prefix, 'hosts'))} /etc/hosts`,
      'ip link set lo up',
      `exec ${q(this.nginx)} -t -p ${q(prefix + '/')} -c conf/x.conf -g ${q(`pid ${path.join(prefix, 'run/nginx.pid')}; error_log stderr;`)}`,
    ].join('\n');
    const r = run('unshare', ['-m', '-n', 'sh', '-c', script]);
    if (r.status === 0) return { ok: true, message: '' };
    const emerg =
      r.stderr
        .split('\n')
        .filter((l) => /\[emerg\]/.test(l))
        .pop() ??
      r.stderr.trim().split('\n').pop() ??
      '';
    const m = /\[emerg\] (?:\d+#\d+: )?(.*?)(?: in (\/\S+):(\d+))?$/.exec(emerg);
    return m ? { ok: false, message: m[1], file: m[2], line: m[3] ? Number(m[3]) : undefined } : { ok: false, message: emerg };
  }
}
