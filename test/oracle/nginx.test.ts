/**
 * Oracle: `nginx -t` judges our nginx reading, on every file of the corpus and on generated cases
 * covering each listen form and parameter and each duplicate rule. What nginx says is the answer:
 * - nginx refuses the configuration over a listen, an upstream port or the syntax: we report the
 *   same code (mapping below) on the line nginx names;
 * - nginx accepts it: we report no error of those codes anywhere.
 *
 * nginx -t binds every listening socket it reads, so it always runs inside namespaces of its own
 * (`unshare -m -n`): a network namespace in which the test adds the addresses a configuration names
 * to its loopback, and a mount namespace in which / is read-only, /etc/nginx holds only Debian's
 * stock files (a copy the engine sees too), /etc/hosts knows the host names the configuration uses
 * (each its own 127.1.x.y), and logs and temp paths are tmpfs. Nothing is started for real.
 *
 * Corpus files meet nginx as they would on a server: a main config as it is (with the stream module
 * loaded and an `events {}` added at the end when missing), a fragment included where it belongs
 * (http level, or inside a server). Errors that have nothing to do with ports (a module we do not
 * have, a certificate or log directory that does not exist, a user name) are neutralized: the
 * certificate is replaced by a test certificate, anything else is blanked out with spaces (lines
 * keep their numbers), and nginx runs again, on the same text we read. What still cannot be compared
 * is counted with its reason.
 */
import * as assert from 'assert';
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { engineWith, shownFindings } from '../helpers/engine';
import { isRoot, requireProgram, run } from '../helpers/programs';
import { parseNginxTree, type NginxDirective } from '../../server/src/formats/nginx/lexer';

const execFileAsync = promisify(execFile);
const corpusDir = path.join(process.env.PORTOLAN_CORPUS ?? path.resolve(__dirname, '../../../shared/corpus'), 'nginx');
const STREAM_MODULE = '/usr/lib/nginx/modules/ngx_stream_module.so';
const LOAD_STREAM = `load_module ${STREAM_MODULE};`;
/** Debian's stock files that configurations include (mime.types, fastcgi_params, ...). */
const STOCK = [
  'mime.types',
  'fastcgi_params',
  'fastcgi.conf',
  'proxy_params',
  'scgi_params',
  'uwsgi_params',
  'koi-utf',
  'koi-win',
  'win-utf',
  'snippets/fastcgi-php.conf',
  'snippets/snakeoil.conf',
];
const COMPARED_CODES = new Set(['invalid-port', 'duplicate-default-server', 'duplicate-listen-options', 'port-conflict', 'syntax']);

interface Case {
  name: string;
  corpus: boolean;
  /** Paths relative to the case's prefix directory: conf/x.conf is the main config. */
  files: Record<string, string>;
}

/**
 * Cases where we knowingly differ from nginx -t, and why. A known case that starts agreeing fails,
 * so this list cannot go stale.
 */
const KNOWN: Record<string, string> = {};

/** Parameters nginx 1.22 (Debian 12) does not know yet but later versions accept: such cases compare nothing. */
const VERSION_GAPS: [RegExp, string][] = [
  [/^invalid parameter "(quic|multipath)"/, 'quic and multipath came with nginx 1.25 and 1.29'],
  [
    /^the invalid "(default_server|deferred|multipath|accept_filter=[^"]*)" parameter/,
    'stream default_server, deferred, accept_filter and multipath came after nginx 1.22',
  ],
];

type Expectation = { code: string; anyLine?: boolean } | { gap: string };

/** What nginx's message means in our codes; undefined when it is about something we do not judge. */
function expectationOf(message: string): Expectation | undefined {
  for (const [re, why] of VERSION_GAPS) if (re.test(message)) return { gap: why };
  if (/ of the "listen" directive$/.test(message)) return { code: 'invalid-port' };
  if (/^(invalid|no) port in upstream /.test(message)) return { code: 'invalid-port' };
  if (/^a duplicate listen /.test(message)) return { code: 'port-conflict' };
  if (/^duplicate ".*" address and port pair$/.test(message)) return { code: 'port-conflict' };
  if (/^duplicate listen options for /.test(message)) return { code: 'duplicate-listen-options' };
  if (/^a duplicate default server for /.test(message)) return { code: 'duplicate-default-server' };
  if (/^unexpected end of file/.test(message)) return { code: 'syntax', anyLine: true };
  if (/^unexpected "/.test(message)) return { code: 'syntax' };
  if (
    /^invalid parameter "|^the invalid ".*" parameter$|^invalid (backlog|rcvbuf|sndbuf|fastopen|setfib) "|^invalid ipv6only flags |^invalid so_keepalive value|parameter is incompatible with|^invalid number of arguments in "(listen|include)" directive|^no "listen" is defined for server/.test(
      message,
    )
  ) {
    return { code: 'syntax' };
  }
  return undefined;
}

interface Verdict {
  ok: boolean;
  message: string;
  file?: string;
  line?: number;
}

interface Outcome {
  name: string;
  corpus: boolean;
  comparable: boolean;
  /** Why not comparable, or the problems found when comparable. */
  reason?: string;
  problems: string[];
  neutralized: string[];
  verdict?: Verdict;
}

/** A test certificate for every `listen ... ssl` (@CERT@ and @KEY@ are replaced by its files). */
const CERTS = 'ssl_certificate @CERT@; ssl_certificate_key @KEY@;';

function http(body: string): Record<string, string> {
  return { 'conf/x.conf': `${LOAD_STREAM}\nevents {}\nhttp { ${CERTS}\n${body}\n}\n` };
}
function stream(body: string, httpBody = ''): Record<string, string> {
  return { 'conf/x.conf': `${LOAD_STREAM}\nevents {}\nstream { ${CERTS}\n${body}\n}\n${httpBody ? `http {\n${httpBody}\n}\n` : ''}` };
}

function generatedCases(): Case[] {
  const cases: Case[] = [];
  const add = (name: string, files: Record<string, string>) => cases.push({ name: `generated: ${name}`, corpus: false, files });
  // Every listen form, each alone in a server.
  const forms = [
    '80',
    '8080',
    '127.0.0.1:8080',
    '127.0.0.1',
    '*:8080',
    '*',
    '0.0.0.0:8080',
    '10.1.2.3:8080',
    '[::]:8080',
    '[::1]',
    '[::1]:8081',
    'localhost:8083',
    'localhost',
    'www.example.test:8084',
    'unix:@RUN@/x.sock',
    'unix:',
    '8000-8002',
    '127.0.0.1:8000-8002',
    '[::1]:8000-8002',
    '8002-8000',
    '0',
    '65535',
    '65536',
    '70000',
    '99999999999999999999',
    '1',
    '-1',
    '+80',
    '0080',
    ':80',
    '127.0.0.1:',
    '127.0.0.1:abc',
    '8O80',
    '80x',
    '[::1',
    '[::1]x',
    '[::1]:',
    '[]:80',
    '[zz::1]:80',
    '::1:80',
    '1..2.3:80',
    '010.0.0.1:80',
    '256.0.0.1:80',
    '127.0.0.1:80/x',
    'a?b',
    '$port',
    '${port}',
    '127.0.0.1:$port',
    '"8085"',
    "'8086'",
    '80\\;',
  ];
  for (const f of forms) add(`listen ${f}`, http(`server {\n  listen ${f};\n}`));
  // Every parameter, on a port of its own.
  const params = [
    'default_server',
    'default',
    'ssl',
    'http2',
    'ssl http2',
    'proxy_protocol',
    'reuseport',
    'ipv6only=on',
    'ipv6only=off',
    'ipv6only=x',
    'bind',
    'backlog=511',
    'backlog=0',
    'backlog=x',
    'backlog=',
    'rcvbuf=64k',
    'rcvbuf=1M',
    'rcvbuf=1g',
    'rcvbuf=',
    'sndbuf=64K',
    'sndbuf=-1',
    'deferred',
    'fastopen=256',
    'fastopen=x',
    'so_keepalive=on',
    'so_keepalive=off',
    'so_keepalive=30m::10',
    'so_keepalive=1h:5s:3',
    'so_keepalive=::',
    'so_keepalive=0:0:0',
    'so_keepalive=x',
    'setfib=1',
    'accept_filter=dataready',
    'quic',
    'multipath',
    'spdy',
    'udp',
    'nosuchparam',
    'default_server default_server',
  ];
  params.forEach((p, n) => {
    add(`listen 127.0.0.1:${9000 + n} ${p}`, http(`server {\n  listen 127.0.0.1:${9000 + n} ${p};\n}`));
    if (/ipv6only|default|bind|reuseport|quic/.test(p)) add(`listen [::]:${9100 + n} ${p}`, http(`server {\n  listen [::]:${9100 + n} ${p};\n}`));
  });
  // Duplicates in http, as ngx_http_add_addresses judges them.
  add(
    'default_server twice on one port',
    http('server {\n  listen 80 default_server;\n  server_name a;\n}\nserver {\n  listen 80 default_server;\n  server_name b;\n}'),
  );
  add('default twice, spelled differently', http('server {\n  listen *:80 default;\n}\nserver {\n  listen 0.0.0.0:80 default_server;\n}'));
  add('default_server on different addresses', http('server {\n  listen 80 default_server;\n}\nserver {\n  listen 127.0.0.1:80 default_server;\n}'));
  add(
    'default_server on IPv4 and IPv6 wildcards',
    http('server {\n  listen 80 default_server;\n  listen [::]:80 default_server;\n}\nserver {\n  listen [::]:81 default_server;\n}'),
  );
  add('default_server on different ports', http('server {\n  listen 80 default_server;\n}\nserver {\n  listen 81 default_server;\n}'));
  add(
    'virtual hosting on one port',
    http(
      'server {\n  listen 80;\n  server_name a;\n}\nserver {\n  listen 80;\n  server_name b;\n}\nserver {\n  listen 80 default_server;\n  server_name c;\n}\nserver {\n  listen 80;\n  server_name d;\n}',
    ),
  );
  add('backlog in two servers on one port', http('server {\n  listen 80 backlog=100;\n}\nserver {\n  listen 80 backlog=200;\n  server_name b;\n}'));
  add(
    'backlog in one server, plain listen in another',
    http('server {\n  listen 80 backlog=100;\n}\nserver {\n  listen 80 default_server;\n  server_name b;\n}'),
  );
  add('reuseport and bind in two servers', http('server {\n  listen 127.0.0.1:80 reuseport;\n}\nserver {\n  listen 127.0.0.1:80 bind;\n  server_name b;\n}'));
  add('ipv6only=off in two servers', http('server {\n  listen [::]:80 ipv6only=off;\n}\nserver {\n  listen [::]:80 ipv6only=off;\n  server_name b;\n}'));
  add(
    'options on different addresses of one port',
    http('server {\n  listen 80 backlog=100;\n}\nserver {\n  listen 127.0.0.1:80 backlog=100;\n}\nserver {\n  listen [::]:80 backlog=100;\n}'),
  );
  add('options on tcp and quic of one port are not compared', http('server {\n  listen 443 ssl reuseport;\n  listen 443 quic reuseport;\n}'));
  add('a duplicate listen in one server', http('server {\n  listen 80;\n  listen 80;\n}'));
  add('a duplicate listen written two ways', http('server {\n  listen 80;\n  listen *:80;\n}'));
  add('a duplicate listen via 0.0.0.0', http('server {\n  listen 8080;\n  listen 0.0.0.0:8080;\n}'));
  add('one server on the wildcard and a loopback address', http('server {\n  listen 80;\n  listen 127.0.0.1:80;\n}'));
  add('overlapping port ranges in one server', http('server {\n  listen 8000-8005;\n  listen 8005;\n}'));
  add('overlapping port ranges with default_server', http('server {\n  listen 8000-8005 default_server;\n}\nserver {\n  listen 8003 default_server;\n}'));
  // Ranges are judged as runs of ports with one history (formats/nginx/portRuns.ts): where runs split, nginx names the first port.
  add(
    'a range split by a port and a second range, defaults on both',
    http('server {\n  listen 8000-8010;\n}\nserver {\n  listen 8005 default_server;\n}\nserver {\n  listen 8003-8007 default_server;\n}'),
  );
  add(
    'a default range then a wider one overlapping its end',
    http('server {\n  listen 8003-8007 default_server;\n}\nserver {\n  listen 8000-8010;\n}\nserver {\n  listen 8006-8012 default_server;\n}'),
  );
  add(
    'a range with options, then the same options on a port inside it',
    http('server {\n  listen 8000-8010 backlog=10;\n}\nserver {\n  listen 8004 backlog=20;\n}'),
  );
  add('a range twice in one server after another server split it', http('server {\n  listen 8002;\n}\nserver {\n  listen 8000-8004;\n  listen 8003-8009;\n}'));
  add('localhost and 127.0.0.1 in one server', http('server {\n  listen localhost:8080;\n  listen 127.0.0.1:8080;\n}'));
  add('IPv6 written two ways in one server', http('server {\n  listen [::1]:80;\n  listen [0:0:0:0:0:0:0:1]:80;\n}'));
  add('an implicit *:80 next to a default server', http('server {\n  server_name a;\n}\nserver {\n  listen 80 default_server;\n}'));
  add('two servers without listen', http('server {\n  server_name a;\n}\nserver {\n  server_name b;\n}'));
  add('unix socket default twice', http('server {\n  listen unix:@RUN@/a.sock default_server;\n}\nserver {\n  listen unix:@RUN@/a.sock default_server;\n}'));
  // Across included files (nginx reads them in glob order, where the include stands).
  add('default_server across two included files', {
    'conf/x.conf': `${LOAD_STREAM}\nevents {}\nhttp {\n  include /etc/nginx/conf.d/*.conf;\n}\n`,
    'etc/nginx/conf.d/a.conf': 'server {\n  listen 80 default_server;\n  server_name a;\n}\n',
    'etc/nginx/conf.d/b.conf': '# b\nserver {\n  server_name b;\n  listen 80 default_server;\n}\n',
  });
  add('listen options across sites-enabled', {
    'conf/x.conf': `${LOAD_STREAM}\nevents {}\nhttp {\n  include sites-enabled/*;\n}\n`,
    'conf/sites-enabled/one': 'server {\n  listen 443 ssl backlog=1024;\n}\n',
    'conf/sites-enabled/two': 'server {\n  listen 443 ssl http2 backlog=1024;\n  server_name two;\n}\n',
  });
  // glob(3) reads [1] as a class: x[1].conf names x1.conf, not a file spelled x[1].conf (whose second default would clash).
  add('a bracket in an include glob', {
    'conf/x.conf': `${LOAD_STREAM}\nevents {}\nhttp {\n  include sites/x[1].conf;\n}\n`,
    'conf/sites/x1.conf': 'server {\n  listen 80 default_server;\n  server_name a;\n}\n',
    'conf/sites/x[1].conf': 'server {\n  listen 80 default_server;\n  server_name b;\n}\n',
  });
  add('a listen snippet included into a server twice', {
    'conf/x.conf': `${LOAD_STREAM}\nevents {}\nhttp {\n  server {\n    include listen.conf;\n    include listen.conf;\n  }\n}\n`,
    'conf/listen.conf': 'listen 8080;\n',
  });
  add('a listen snippet included into two servers', {
    'conf/x.conf': `${LOAD_STREAM}\nevents {}\nhttp {\n  server {\n    include listen.conf;\n  }\n  server {\n    server_name b;\n    include listen.conf;\n  }\n}\n`,
    'conf/listen.conf': 'listen 8080 default_server;\n',
  });
  add('an include where the server keyword stands before the listen file', {
    'conf/x.conf': `${LOAD_STREAM}\nevents {}\nhttp {\n  server {\n    listen 80 default_server;\n  }\n  include more/*.conf;\n}\n`,
    'conf/more/1.conf': 'server {\n  listen 81;\n}\n',
    'conf/more/2.conf': 'server {\n  listen 80 default_server;\n}\n',
  });
  // stream (nginx 1.22: every address:port once).
  add('stream tcp and udp', stream('server {\n  listen 53 udp;\n  proxy_pass 127.0.0.1:5353;\n}\nserver {\n  listen 53;\n  proxy_pass 127.0.0.1:5353;\n}'));
  add(
    'stream same address:port twice',
    stream('server {\n  listen 12345;\n  proxy_pass 127.0.0.1:1;\n}\nserver {\n  listen 12345;\n  proxy_pass 127.0.0.1:2;\n}'),
  );
  add(
    'stream udp twice',
    stream('server {\n  listen [::]:53 udp;\n  proxy_pass 127.0.0.1:1;\n}\nserver {\n  listen [::]:53 udp reuseport;\n  proxy_pass 127.0.0.1:2;\n}'),
  );
  add('stream twice in one server', stream('server {\n  listen 127.0.0.1:12345;\n  listen 127.0.0.1:12345;\n  proxy_pass 127.0.0.1:1;\n}'));
  add(
    'stream wildcard and loopback',
    stream('server {\n  listen 12345;\n  proxy_pass 127.0.0.1:1;\n}\nserver {\n  listen 127.0.0.1:12345;\n  proxy_pass 127.0.0.1:2;\n}'),
  );
  add('stream IPv4 and IPv6 wildcards', stream('server {\n  listen 12345;\n  listen [::]:12345;\n  proxy_pass 127.0.0.1:1;\n}'));
  add(
    'stream port range overlap',
    stream('server {\n  listen 7000-7002;\n  proxy_pass 127.0.0.1:1;\n}\nserver {\n  listen 7002;\n  proxy_pass 127.0.0.1:2;\n}'),
  );
  add('stream address without port', stream('server {\n  listen 127.0.0.1;\n  proxy_pass 127.0.0.1:1;\n}'));
  add('stream server without listen', stream('server {\n  proxy_pass 127.0.0.1:1;\n}'));
  for (const p of [
    'udp backlog=10',
    'udp ssl',
    'udp proxy_protocol',
    'udp so_keepalive=on',
    'udp fastopen=1',
    'ssl',
    'proxy_protocol',
    'bind',
    'reuseport',
    'backlog=10',
    'so_keepalive=on',
    'fastopen=5',
    'ipv6only=on',
    'default_server',
    'deferred',
    'http2',
    'quic',
    'default',
  ]) {
    add(`stream listen 127.0.0.1:12400 ${p}`, stream(`server {\n  listen 127.0.0.1:12400 ${p};\n  proxy_pass 127.0.0.1:1;\n}`));
  }
  add(
    'stream and http on one port pass -t',
    stream('server {\n  listen 127.0.0.1:8080;\n  proxy_pass 127.0.0.1:1;\n}', 'server {\n  listen 127.0.0.1:8080;\n}'),
  );
  // Upstream references.
  const passes = [
    'proxy_pass http://127.0.0.1:8080',
    'proxy_pass http://127.0.0.1',
    'proxy_pass https://[::1]:8443/x',
    'proxy_pass http://127.0.0.1:99999',
    'proxy_pass http://127.0.0.1:0',
    'proxy_pass http://127.0.0.1:x/',
    'proxy_pass http://backend.test:9000',
    'proxy_pass http://app',
    'proxy_pass http://$host:8080',
    'proxy_pass http://unix:/run/x.sock:/',
    'fastcgi_pass 127.0.0.1:9000',
    'fastcgi_pass 127.0.0.1',
    'fastcgi_pass 127.0.0.1:70000',
    'fastcgi_pass unix:/run/php.sock',
    'uwsgi_pass uwsgi://127.0.0.1',
    'uwsgi_pass 127.0.0.1:3031',
    'scgi_pass 127.0.0.1',
    'grpc_pass grpc://127.0.0.1:50051',
    'grpc_pass grpcs://127.0.0.1',
    'grpc_pass 127.0.0.1:50051',
    'set $memcached_key $uri; memcached_pass 127.0.0.1:11211',
    'set $memcached_key $uri; memcached_pass 127.0.0.1',
  ];
  for (const p of passes) add(p, http(`upstream app {\n  server 127.0.0.1:3000;\n}\nserver {\n  listen 80;\n  location / {\n    ${p};\n  }\n}`));
  add(
    'upstream servers',
    http(
      'upstream app {\n  server 127.0.0.1:3000 weight=2;\n  server 127.0.0.1;\n  server unix:/run/a.sock;\n  server 127.0.0.1:70000;\n}\nserver {\n  listen 80;\n  location / {\n    proxy_pass http://app;\n  }\n}',
    ),
  );
  add('stream upstream server without port', stream('upstream dns {\n  server 127.0.0.1;\n}\nserver {\n  listen 53 udp;\n  proxy_pass dns;\n}'));
  add('stream proxy_pass without port', stream('server {\n  listen 12345;\n  proxy_pass 127.0.0.1;\n}'));
  // Syntax as nginx tokenizes it.
  add('a block never closed', http('server {\n  listen 80;\n'));
  add('one "}" too many', { 'conf/x.conf': `${LOAD_STREAM}\nevents {}\nhttp {\n  server {\n    listen 80;\n  }\n}\n}\n` });
  add('a missing ";"', http('server {\n  listen 80\n  server_name a;\n}'));
  add('text right after a quoted string', http('server {\n  listen "80"x;\n}'));
  add('";" without a directive', http('server {\n  ;\n  listen 80;\n}'));
  add('listen without arguments', http('server {\n  listen;\n}'));
  add('a quote never closed', http('server {\n  listen 80;\n  server_name "a;\n}'));
  add('"}" inside a word', http('server {\n  listen 80;\n  server_name a};\n}'));
  add('"#" inside a word', http('server {\n  listen 80#x;\n}'));
  add('a comment at a word start', http('server {\n  listen 80 # default_server;\n  ;\n}'));
  add('an escaped quote', http('server {\n  listen 80;\n  return 200 "a\\"b";\n}'));
  add('a variable in braces', http('server {\n  listen 80;\n  set $a "${host}x";\n}'));
  return cases;
}

function corpusCases(): Case[] {
  if (!fs.existsSync(corpusDir)) return [];
  return fs
    .readdirSync(corpusDir)
    .sort()
    .map((name) => {
      const text = fs.readFileSync(path.join(corpusDir, name), 'utf8');
      let files: Record<string, string>;
      if (/^\s*(http|events)\s*\{/m.test(text)) {
        // A main config: the stream module loaded on its first line (line numbers stay), events when missing.
        const main = `${LOAD_STREAM} ${text}${/^\s*events\s*\{/m.test(text) ? '' : '\nevents {}\n'}`;
        files = { 'conf/x.conf': main };
      } else if (/^\s*(stream|mail)\s*\{/m.test(text)) {
        files = { 'conf/x.conf': `${LOAD_STREAM}\nevents {}\ninclude site.conf;\n`, 'conf/site.conf': text };
      } else if (/^\s*(server|upstream|map|geo|log_format|proxy_cache_path|limit_req_zone|limit_conn_zone)\b/m.test(text)) {
        files = { 'conf/x.conf': `${LOAD_STREAM}\nevents {}\nhttp { ${CERTS}\n  include site.conf;\n}\n`, 'conf/site.conf': text };
      } else {
        files = { 'conf/x.conf': `${LOAD_STREAM}\nevents {}\nhttp { ${CERTS}\n  server {\n    include site.conf;\n  }\n}\n`, 'conf/site.conf': text };
      }
      return { name: `corpus: ${name}`, corpus: true, files };
    });
}

/** The directive whose terminating ';' or '{' stands on `line` (what nginx names), innermost first. */
function directiveAt(text: string, line: number, message: string): NginxDirective | undefined {
  const lineOf = (offset: number) => text.slice(0, offset).split('\n').length;
  const found: NginxDirective[] = [];
  const walk = (list: NginxDirective[]) => {
    for (const d of list) {
      const end = d.blockOpen ? d.blockOpen.start : d.span.end - 1;
      if (lineOf(end) === line) found.push(d);
      if (d.block) walk(d.block);
    }
  };
  walk(parseNginxTree(text).directives);
  return found.find((d) => message.includes(`"${d.name.text}"`)) ?? found[found.length - 1];
}

const blank = (text: string, start: number, end: number) => text.slice(0, start) + text.slice(start, end).replace(/[^\n]/g, ' ') + text.slice(end);

interface Environment {
  /** Host names the configuration uses, each with its own loopback address. */
  hosts: Map<string, string>;
  /** Addresses added to the namespace's loopback. */
  addresses: Set<string>;
  /** Directories created in the tmpfs of /var/log, /var/cache, /var/lib/nginx. */
  dirs: Set<string>;
}

/** Replaces, in every file, what `edit` says for each directive `match` picks (blanking keeps line numbers); returns how many. */
function rewriteDirectives(
  files: Map<string, string>,
  match: (d: NginxDirective) => boolean,
  edit: (d: NginxDirective) => { span: { start: number; end: number }; text: string },
): number {
  let count = 0;
  for (const [f, text] of files) {
    const edits: { span: { start: number; end: number }; text: string }[] = [];
    const walk = (list: NginxDirective[]) => {
      for (const d of list) {
        if (match(d)) edits.push(edit(d));
        else if (d.block) walk(d.block);
      }
    };
    walk(parseNginxTree(text).directives);
    let out = text;
    for (const e of edits.sort((a, b) => b.span.start - a.span.start)) {
      out = e.text === '' ? blank(out, e.span.start, e.span.end) : out.slice(0, e.span.start) + e.text + out.slice(e.span.end);
    }
    count += edits.length;
    files.set(f, out);
  }
  return count;
}

/** The name of the directive nginx names by file and line. */
function directiveNameAt(files: Map<string, string>, v: Verdict): string | undefined {
  const text = v.file ? files.get(v.file) : undefined;
  return text !== undefined && v.line ? directiveAt(text, v.line, v.message)?.name.text : undefined;
}

describe('oracle: nginx -t judges our nginx reading', function () {
  this.timeout(300000);
  const cases = [...corpusCases(), ...generatedCases()];
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'portolan-nginx-oracle-'));
  const outcomes = new Map<string, Outcome>();
  let nginx = '';
  const runs = { count: 0, ms: 0 };
  let cert = '';
  let key = '';

  before(async function () {
    nginx = requireProgram(this, ['nginx', '/usr/sbin/nginx'], 'nginx');
    requireProgram(this, [STREAM_MODULE], 'libnginx-mod-stream');
    requireProgram(this, ['unshare', '/usr/bin/unshare'], 'util-linux');
    requireProgram(this, ['ip', '/usr/sbin/ip', '/sbin/ip'], 'iproute2');
    const openssl = requireProgram(this, ['openssl', '/usr/bin/openssl'], 'openssl');
    if (!isRoot()) {
      if (process.env.CI === 'true') throw new Error('nginx -t in namespaces of its own needs root; CI runs as root');
      console.log('      skipped: nginx -t in namespaces of its own needs root');
      this.skip();
    }
    cert = path.join(root, 'cert.pem');
    key = path.join(root, 'key.pem');
    const made = run(openssl, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-subj', '/CN=portolan.test', '-days', '2']);
    assert.strictEqual(made.status, 0, made.stderr);
    let next = 0;
    const workers = Array.from({ length: Math.max(2, Math.min(8, os.cpus().length)) }, async () => {
      while (next < cases.length) {
        const n = next++;
        outcomes.set(cases[n].name, await judge(cases[n], n));
      }
    });
    await Promise.all(workers);
  });

  after(() => {
    fs.rmSync(root, { recursive: true, force: true });
    const all = [...outcomes.values()];
    console.log(`      nginx oracle: ${runs.count} runs of nginx -t, ${Math.round(runs.ms / Math.max(1, runs.count))} ms each`);
    if (process.env.PORTOLAN_ORACLE_DUMP) fs.writeFileSync(process.env.PORTOLAN_ORACLE_DUMP, JSON.stringify(all, null, 1));
    for (const corpus of [true, false]) {
      const group = all.filter((o) => o.corpus === corpus);
      const comparable = group.filter((o) => o.comparable);
      const agreeing = comparable.filter((o) => o.problems.length === 0);
      const asWritten = comparable.filter((o) => o.neutralized.length === 0);
      const rejected = comparable.filter((o) => !o.verdict?.ok);
      console.log(
        `      nginx oracle, ${corpus ? 'corpus' : 'generated'}: ${group.length} cases, ${comparable.length} comparable (${asWritten.length} as written, ${comparable.length - asWritten.length} after neutralizing unrelated directives; nginx rejected ${rejected.length}), ${agreeing.length}/${comparable.length} agree`,
      );
      for (const o of group.filter((x) => !x.comparable)) console.log(`        not comparable: ${o.name}: ${o.reason}`);
      for (const o of comparable.filter((x) => x.problems.length > 0)) console.log(`        disagreement: ${o.name}: ${o.problems.join(' | ')}`);
    }
  });

  async function judge(c: Case, n: number): Promise<Outcome> {
    const prefix = path.join(root, `case${n}`);
    const files = new Map<string, string>();
    for (const f of STOCK) {
      const stock = path.join('/etc/nginx', f);
      if (!fs.existsSync(stock)) continue;
      const text = fs.readFileSync(stock, 'utf8');
      files.set(path.join(prefix, 'conf', f), text);
      files.set(path.join(prefix, 'etc/nginx', f), text);
    }
    // @RUN@ stands for a directory where unix sockets may be created.
    for (const [rel, text] of Object.entries(c.files))
      files.set(
        path.join(prefix, rel),
        text
          .replace(/@RUN@/g, path.join(prefix, 'run'))
          .replace(/@CERT@/g, cert)
          .replace(/@KEY@/g, key),
      );
    const env: Environment = { hosts: new Map(), addresses: new Set(), dirs: new Set() };
    const outcome: Outcome = { name: c.name, corpus: c.corpus, comparable: false, problems: [], neutralized: [] };
    if (c.corpus) outcome.neutralized.push(...prepare(files, prefix));
    // Host names that upstreams and listens use resolve on a real server (saves a run per name).
    for (const text of files.values()) {
      for (const m of text.matchAll(
        /^\s*(?:proxy_pass|fastcgi_pass|uwsgi_pass|scgi_pass|grpc_pass|memcached_pass|server|listen)\s+(?:[a-z]+:\/\/)?([A-Za-z][A-Za-z0-9_.-]*)/gm,
      )) {
        const name = m[1].toLowerCase();
        if (name !== 'localhost' && name !== 'unix' && !env.hosts.has(name))
          env.hosts.set(name, `127.1.${Math.floor(env.hosts.size / 250)}.${(env.hosts.size % 250) + 1}`);
      }
    }
    for (let attempt = 0; attempt < 20; attempt++) {
      const verdict = await nginxTest(prefix, files, env);
      outcome.verdict = verdict;
      if (verdict.ok) return compare(outcome, prefix, files, verdict, undefined);
      let expected = expectationOf(verdict.message);
      // "invalid parameter" judges listen only: on an upstream server line it is an NGINX Plus feature.
      if (expected && 'code' in expected && /^invalid parameter /.test(verdict.message) && directiveNameAt(files, verdict) !== 'listen') expected = undefined;
      // Host names resolve on a real server: give them an address and try again.
      const listenHost = /^host not found in "([^"]+)" of the "listen" directive$/.exec(verdict.message);
      const upstreamHost = /^host not found in upstream "([^"]+)"/.exec(verdict.message);
      const hostName = listenHost ? hostOf(listenHost[1]) : upstreamHost ? hostOf(upstreamHost[1]) : undefined;
      if (hostName && (upstreamHost || /^[A-Za-z][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*$/.test(hostName)) && !env.hosts.has(hostName.toLowerCase())) {
        env.hosts.set(hostName.toLowerCase(), `127.1.${Math.floor(env.hosts.size / 250)}.${(env.hosts.size % 250) + 1}`);
        continue;
      }
      // Log and cache directories exist on a real server: create them (in the namespace's tmpfs).
      const missing = /^(?:open|mkdir)\(\) "([^"]+)" failed \(2: /.exec(verdict.message);
      if (missing && /^\/var\/(log|cache|lib\/nginx)\//.test(missing[1]) && !env.dirs.has(path.dirname(missing[1]))) {
        env.dirs.add(/^mkdir/.test(verdict.message) ? missing[1] : path.dirname(missing[1]));
        continue;
      }
      const bindFailed = /^bind\(\) to (\S+) failed \(99: /.exec(verdict.message);
      if (bindFailed) {
        const addr = bindFailed[1].replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
        if (env.addresses.has(addr)) return { ...outcome, reason: `nginx cannot bind ${bindFailed[1]} even on the test's loopback` };
        env.addresses.add(addr);
        continue;
      }
      if (expected && 'gap' in expected) return { ...outcome, reason: `${verdict.message} (${expected.gap})` };
      if (expected) return compare(outcome, prefix, files, verdict, expected);
      if (!c.corpus) return { ...outcome, reason: `generated case refused for an unrelated reason: ${verdict.message}` };
      const step = neutralize(files, prefix, verdict);
      if (!step) return { ...outcome, reason: `${verdict.message}${verdict.file ? ` (${path.relative(prefix, verdict.file)}:${verdict.line})` : ''}` };
      outcome.neutralized.push(step);
    }
    return { ...outcome, reason: 'still refused after 20 neutralized directives' };
  }

  /**
   * What nginx -t always refuses for reasons of this machine, done before the first run: a pid
   * directive (the test sets its own), includes of files that are not there.
   */
  function prepare(files: Map<string, string>, prefix: string): string[] {
    const done: string[] = [];
    const missing = (pattern: string) => {
      if (/[*?[]/.test(pattern)) return false;
      const target = pattern.startsWith('/etc/nginx/') ? path.join(prefix, pattern) : path.resolve(prefix, 'conf', pattern);
      return !files.has(target);
    };
    const count = rewriteDirectives(
      files,
      (d) => (d.name.text === 'pid' && !d.block) || (d.name.text === 'include' && d.args.length === 1 && missing(d.args[0].text)),
      (d) => {
        done.push(`${d.name.text} ${d.args[0]?.text ?? ''} blanked (${d.name.text === 'pid' ? 'the test sets the pid file' : 'no such file'})`);
        return { span: d.span, text: '' };
      },
    );
    void count;
    return done;
  }

  /** Makes nginx get past an error that is not about ports; returns what was done, or undefined. */
  function neutralize(files: Map<string, string>, prefix: string, v: Verdict): string | undefined {
    const main = path.join(prefix, 'conf/x.conf');
    if (/^no "events" section in configuration/.test(v.message)) {
      files.set(main, `${files.get(main)}\nevents {}\n`);
      return 'events {} added';
    }
    const certMatch = /^cannot load certificate( key)? "([^"]+)"/.exec(v.message);
    if (certMatch) {
      const name = certMatch[1] ? 'ssl_certificate_key' : 'ssl_certificate';
      const done = rewriteDirectives(
        files,
        (d) => d.name.text === name && d.args.length === 1 && path.resolve(prefix, 'conf', d.args[0].text) === certMatch[2],
        (d) => ({ span: d.args[0].span, text: name === 'ssl_certificate' ? cert : key }),
      );
      return done > 0 ? `${name} ${certMatch[2]} replaced by a test certificate` : undefined;
    }
    if (/^no servers are inside upstream/.test(v.message)) {
      // NGINX Plus fills such upstreams at run time (zone, state, service=): drop the empty blocks.
      const done = rewriteDirectives(
        files,
        (d) => d.name.text === 'upstream' && !!d.block && !d.block.some((x) => x.name.text === 'server'),
        (d) => ({ span: d.span, text: '' }),
      );
      return done > 0 ? 'upstream blocks without servers blanked' : undefined;
    }
    const unusable = /^(?:open|mkdir)\(\) "([^"]+)" failed/.exec(v.message);
    if (unusable) {
      // A log or temp path this machine lacks: drop the directives that name it.
      const target = unusable[1];
      const done = rewriteDirectives(
        files,
        (d) =>
          d.name.text !== 'listen' &&
          d.name.text !== 'include' &&
          d.args.some((a) => path.resolve(prefix, a.text) === target || target.startsWith(path.resolve(prefix, a.text) + '/')),
        (d) => ({ span: d.span, text: '' }),
      );
      if (done > 0) return `directives naming ${target} blanked`;
    }
    if (!v.file || !v.line) {
      // Reported without a place ("unknown "x" variable"): drop the directives that use the name.
      for (const [, token] of v.message.matchAll(/"([^"]+)"/g)) {
        const variable = /^unknown ".*" variable/.test(v.message) ? `$${token}` : undefined;
        const done = rewriteDirectives(
          files,
          (d) => d.name.text !== 'listen' && d.args.some((a) => (variable ? a.text.includes(variable) : a.text === token)),
          (d) => ({ span: d.span, text: '' }),
        );
        if (done > 0) return `directives using "${token}" blanked (${v.message})`;
      }
      return undefined;
    }
    const text = files.get(v.file);
    if (text === undefined) return undefined;
    const d = directiveAt(text, v.line, v.message);
    if (!d) return undefined;
    if (/^no "ssl_certificate" is defined for the "listen \.\.\. ssl" directive/.test(v.message) && (d.name.text === 'listen' || d.blockOpen)) {
      const at = d.blockOpen ? d.blockOpen.end : d.span.end;
      files.set(v.file, `${text.slice(0, at)} ssl_certificate ${cert}; ssl_certificate_key ${key};${text.slice(at)}`);
      return 'test certificate added to a server with listen ... ssl';
    }
    if (d.name.text === 'listen') return undefined; // a listen is what we compare, never blanked
    files.set(v.file, blank(text, d.span.start, d.span.end));
    return `${d.name.text} blanked (${v.message})`;
  }

  async function nginxTest(prefix: string, files: Map<string, string>, env: Environment): Promise<Verdict> {
    fs.rmSync(prefix, { recursive: true, force: true });
    for (const dir of ['logs', 'run', 'etc/nginx/conf.d', 'etc/nginx/sites-enabled', 'etc/nginx/modules-enabled'])
      fs.mkdirSync(path.join(prefix, dir), { recursive: true });
    for (const [f, text] of files) {
      fs.mkdirSync(path.dirname(f), { recursive: true });
      fs.writeFileSync(f, text);
    }
    const hostsFile = path.join(prefix, 'hosts');
    fs.writeFileSync(
      hostsFile,
      `127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n${[...env.hosts].map(([name, ip]) => `${ip} ${name}`).join('\n')}\n`,
    );
    const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    const script = [
      'set -e',
      'mount -o remount,bind,ro /',
      `mount -t tmpfs tmpfs ${q(path.join(prefix, 'logs'))}`,
      `mount -t tmpfs tmpfs ${q(path.join(prefix, 'run'))}`,
      'for d in /var/log /var/lib/nginx /var/cache; do [ -d $d ] && mount -t tmpfs tmpfs $d; done',
      'mkdir -p /var/log/nginx',
      ...[...env.dirs].map((d) => `mkdir -p ${q(d)}`),
      `mount --bind ${q(path.join(prefix, 'etc/nginx'))} /etc/nginx`,
      `mount --bind ${q(hostsFile)} /etc/hosts`,
      'ip link set lo up',
      ...[...env.addresses].map((a) => `ip addr add ${q(a)}/${a.includes(':') ? 128 : 32} dev lo`),
      `exec ${q(nginx)} -t -p ${q(prefix + '/')} -c conf/x.conf -g ${q(`pid ${path.join(prefix, 'run/nginx.pid')}; error_log stderr;`)}`,
    ].join('\n');
    let stderr = '';
    let ok = false;
    const started = Date.now();
    runs.count++;
    try {
      const r = await execFileAsync('unshare', ['-m', '-n', 'sh', '-c', script], { timeout: 20000 });
      stderr = r.stderr;
      ok = true;
    } catch (e) {
      stderr = String((e as { stderr?: string }).stderr ?? e);
    }
    runs.ms += Date.now() - started;
    if (ok) return { ok: true, message: '' };
    const emerg =
      stderr
        .split('\n')
        .filter((l) => /\[emerg\]/.test(l))
        .pop() ??
      stderr.trim().split('\n').pop() ??
      '';
    const m = /\[emerg\] (?:\d+#\d+: )?(.*?)(?: in (\/\S+):(\d+))?$/.exec(emerg);
    if (!m) return { ok: false, message: emerg };
    let file = m[2];
    if (file?.startsWith('/etc/nginx/')) file = path.join(prefix, file);
    return { ok: false, message: m[1], file, line: m[3] ? Number(m[3]) : undefined };
  }

  function compare(
    outcome: Outcome,
    prefix: string,
    files: Map<string, string>,
    verdict: Verdict,
    expected: { code: string; anyLine?: boolean } | undefined,
  ): Outcome {
    const engine = engineWith(Object.fromEntries(files), prefix);
    // port-conflict also comes from the host rule about real binds, which nginx -t does not judge.
    const ours = shownFindings(engine).filter((f) => COMPARED_CODES.has(f.code) && (f.code !== 'port-conflict' || /nginx -t/.test(f.message)));
    const where = (f: { file: string; line: number }) => `${path.relative(prefix, f.file)}:${f.line}`;
    const problems: string[] = [];
    if (verdict.ok) {
      for (const f of ours.filter((x) => x.severity === 'error')) problems.push(`nginx accepts, we report ${f.code} at ${where(f)}: ${f.message}`);
    } else if (expected) {
      const hit = ours.some((f) => f.code === expected.code && f.file === verdict.file && (expected.anyLine || f.line === verdict.line));
      if (!hit) {
        const said = ours.map((f) => `${f.code}@${where(f)}`).join(', ') || 'nothing';
        problems.push(
          `nginx: "${verdict.message}" at ${verdict.file ? where({ file: verdict.file, line: verdict.line ?? 0 }) : '?'}; we want ${expected.code} there, we say ${said}`,
        );
      }
    }
    return { ...outcome, comparable: true, problems };
  }

  for (const c of cases) {
    it(c.name, function () {
      const o = outcomes.get(c.name);
      if (!o) this.skip();
      const known = KNOWN[c.name];
      if (known) {
        assert.ok(!o.comparable || o.problems.length > 0, `known disagreement "${c.name}" (${known}) now agrees: remove it from KNOWN`);
        return;
      }
      if (!o.comparable) {
        // Generated cases must be comparable unless nginx 1.22 predates what they test.
        if (!c.corpus) assert.ok(/nginx 1\.2\d|came after/.test(o.reason ?? ''), `${c.name}: ${o.reason}`);
        return;
      }
      assert.deepStrictEqual(o.problems, []);
    });
  }
});

function hostOf(hostPort: string): string {
  if (hostPort.startsWith('[')) return hostPort.slice(1, hostPort.indexOf(']'));
  return hostPort.replace(/:[^:]*$/, '');
}
