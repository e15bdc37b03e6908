/** Template markup (Jinja, Go templates, ERB): the file is not read as the program's syntax; one Information note. */
import * as assert from 'assert';
import { templateMarkup, TEMPLATE_NOTE } from '../../server/src/core/templates';
import { engineWith, shownFindings } from '../helpers/engine';

const bindsOf = (e: ReturnType<typeof engineWith>) =>
  e
    .analyze()
    .facts.filter(({ fact }) => fact.role === 'listen' || fact.role === 'publish')
    .map(({ fact }) => `${fact.program} ${fact.port}`);

describe('templates', () => {
  it('a Jinja nginx.conf: one Information note on the first tag, no syntax errors, no port facts', () => {
    const e = engineWith({
      'etc/nginx/nginx.conf': 'events {}\nhttp {\n  server {\n    {% if TLS %}\n    listen 443 ssl;\n    {% endif %}\n    listen {{ PORT }};\n  }\n}\n',
    });
    const got = shownFindings(e);
    assert.deepStrictEqual(
      got.map((f) => [f.severity, f.code, f.line, f.text, f.message]),
      [['information', 'syntax', 4, '{% if TLS %}', TEMPLATE_NOTE]],
    );
    assert.deepStrictEqual(bindsOf(e), []);
  });

  it('Go templates ({{- -}}), ERB (<%= %>) and Jinja in sshd_config and compose are templates too', () => {
    for (const [name, text] of [
      ['etc/ssh/sshd_config', 'Port {{ .port }}\nPasswordAuthentication no\n'],
      ['etc/nginx/conf.d/a.conf', 'server {\n  listen 80;\n  {{- range .Hosts }}\n  server_name {{ . }};\n  {{- end }}\n}\n'],
      ['etc/nginx/conf.d/b.conf', 'server { listen <%= @port %>; }\n'],
      ['srv/app/docker-compose.yml', 'services:\n  web:\n    image: x\n    ports:\n{% for p in ports %}\n      - {{ p }}:80\n{% endfor %}\n'],
    ]) {
      const got = shownFindings(engineWith({ [name]: text }));
      assert.deepStrictEqual(
        got.map((f) => [f.severity, f.message]),
        [['information', TEMPLATE_NOTE]],
        name,
      );
    }
  });

  it('stays silent on files without markup: a quoted Go template in a compose value, nginx regex quantifiers, nft sets', () => {
    assert.strictEqual(templateMarkup('services:\n  web:\n    logging:\n      options:\n        tag: "{{.Name}}"\n', 'compose'), undefined);
    assert.strictEqual(templateMarkup("x-a: '{{ not markup }}'\n", 'compose'), undefined);
    assert.strictEqual(templateMarkup('location ~ ^/a{2}/ { return 404; }\nmap $a $b { default 1; }\n', 'nginx'), undefined);
    assert.strictEqual(templateMarkup('table inet f { set s { type ipv4_addr; elements = { 10.0.0.1 } } }\n', 'nftables'), undefined);
    assert.strictEqual(templateMarkup('if ($a = "<%") { return 404; }\n', 'nginx'), undefined);
    const e = engineWith({
      'srv/app/docker-compose.yml': 'services:\n  web:\n    image: x\n    ports: ["8080:80"]\n    logging:\n      options:\n        tag: "{{.Name}}"\n',
    });
    assert.deepStrictEqual(shownFindings(e), []);
    assert.deepStrictEqual(bindsOf(e).filter((b) => b.endsWith('8080')).length > 0, true);
  });

  it('unquoted markup in a compose value is a template; a tag split over lines is not markup', () => {
    assert.ok(templateMarkup('services:\n  web:\n    image: {{ IMAGE }}\n', 'compose'));
    assert.strictEqual(templateMarkup('server {\n  set $a "{{";\n  set $b "}}";\n}\n', 'nginx'), undefined);
  });
});

describe('templates: the scan is linear and still finds the first tag', () => {
  it('an opening whose closing is on a later line does not count; a later line with both does', () => {
    assert.deepStrictEqual(templateMarkup('a {{ open\nb }} c\nd {{ x }} e\n', 'nginx'), { start: 19, end: 26 });
    assert.deepStrictEqual(templateMarkup('a }} b {%\n{% x %}\n', 'nginx'), { start: 10, end: 17 });
    // The earliest tag of a line wins over a pair found later on it; `<%` without ERB's form is no tag, the next one is.
    assert.deepStrictEqual(templateMarkup('x {# c #} {{ y }}\n', 'nginx'), { start: 2, end: 9 });
    assert.deepStrictEqual(templateMarkup('<%x %>\n<%= y %>\n', 'nginx'), { start: 7, end: 15 });
    // A long text without markup, then a tag on its last line.
    const body = 'server { listen 80; }\n'.repeat(20_000);
    assert.deepStrictEqual(templateMarkup(`${body}{{ p }}\n`, 'nginx'), { start: body.length, end: body.length + 7 });
    assert.strictEqual(templateMarkup(body, 'nginx'), undefined);
  });
});
