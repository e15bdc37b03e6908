/** The edits nginx's quick fixes make, in nginx's own syntax. */
import { setLiteralPort } from '../../core/fixes';
import type { FormatWriter, PortFact, Span, TextEdit } from '../../core/types';

/** Removes one listen parameter (its span includes the whitespace before it, so the line stays tidy). */
export function removeListenParameter(file: string, parameter: Span): TextEdit {
  return { file, span: parameter, newText: '' };
}

/**
 * An upstream address (`proxy_pass http://127.0.0.1:3001`, `server 127.0.0.1:3001` in `upstream {}`, `fastcgi_pass
 * 127.0.0.1:9001`) pointed at `port`: the written port's digits replaced; where the port is implied by the scheme
 * (`proxy_pass http://app/`, its span is the host), `:port` written after the host, as ngx_parse_url reads it.
 */
function setUpstreamPort(text: string, fact: PortFact, port: number): TextEdit[] | undefined {
  if (fact.role !== 'upstream') return undefined;
  if (!fact.implicit) return setLiteralPort(text, fact, port, port);
  const host = text.slice(fact.span.start, fact.span.end);
  if (host === '' || /[\s;:$]/.test(host.replace(/^\[.*\]$/, '')) || text[fact.span.end] === ':') return undefined;
  return [{ file: fact.file, span: { start: fact.span.end, end: fact.span.end }, newText: `:${port}` }];
}

/** What the rules' fixes write in nginx files: a `listen` port as written digits (`listen 127.0.0.1:8080` keeps its address and parameters); an upstream's port. */
export const nginxWriter: FormatWriter = {
  setPort: setLiteralPort,
  setUpstreamPort,
};
