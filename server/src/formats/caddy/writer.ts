/** The edits Caddy's quick fixes make, in the Caddyfile's own syntax. */
import { setLiteralUpstreamPort } from '../../core/fixes';
import type { FormatWriter } from '../../core/types';

/**
 * A `reverse_proxy` (or `to`) upstream's port pointed elsewhere: only where its span holds the written digits
 * (`127.0.0.1:3001`, `http://app:8080`); a quoted upstream or one whose port the scheme implies is not rewritten.
 */
export const caddyWriter: FormatWriter = {
  setUpstreamPort: setLiteralUpstreamPort,
};
