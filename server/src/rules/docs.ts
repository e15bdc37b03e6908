/**
 * A rule's documentation page (`docs/rules/<code>.md`), rendered from its metadata alone:
 * `npm run generate:rule-docs` writes the pages and test/unit/ruleDocs.test.ts fails when one is stale.
 */
import type { ExampleFiles, Rule } from './rule';

/** The fence language of an example file, by its name (what GitHub highlights). */
function fenceLanguage(file: string): string {
  if (/(^|\/)nginx[^/]*\.conf$|\/nginx\//.test(file)) return 'nginx';
  if (/\.ya?ml$/.test(file)) return 'yaml';
  if (/\.xml$/.test(file)) return 'xml';
  if (/\.nft$|nftables\.conf$/.test(file)) return 'nft';
  return 'text';
}

function examples(files: ExampleFiles): string {
  return Object.entries(files)
    .map(([file, text]) => `\`${file}\`:\n\n\`\`\`${fenceLanguage(file)}\n${text.replace(/\n$/, '')}\n\`\`\``)
    .join('\n\n');
}

export function renderRuleDoc(rule: Rule): string {
  const { meta } = rule;
  const reported =
    meta.reportedBy === 'host'
      ? `a rule over each host's model, \`server/src/rules/${meta.code}.ts\``
      : `the format readers, where the program itself refuses the text (documented in \`server/src/rules/${meta.code}.ts\`)`;
  const messages = Object.entries(meta.messages ?? {});
  const lines = [
    `<!-- Generated from server/src/rules/${meta.code}.ts by \`npm run generate:rule-docs\`: edit the rule, not this page. -->`,
    '',
    `# ${meta.code}`,
    '',
    meta.description,
    '',
    `- Default severity: ${meta.severity} (change it with \`portolan.severity\`, turn it off with \`portolan.ignore\` or a \`portolan-ignore ${meta.code}\` comment)`,
    `- Quick fixes: ${meta.fixable ? 'some findings offer them' : 'none'}`,
    `- Reported by: ${reported}`,
    '',
    meta.docs.body,
    '',
  ];
  if (messages.length > 0) {
    lines.push('## Findings', '', '| messageId | What it says |', '| --- | --- |');
    for (const [id, text] of messages) lines.push(`| \`${id}\` | ${text.replace(/\|/g, '\\|')} |`);
    lines.push('');
  }
  lines.push('## Quick fixes', '');
  for (const fix of meta.fixes ?? []) lines.push(`- **${fix.title}**${fix.preferred ? ' (preferred: "Fix all" applies it)' : ''}: ${fix.when}`);
  lines.push(
    `- **Ignore ${meta.code} on this line** / **in this file**: a \`portolan-ignore ${meta.code}\` comment above the line, or \`portolan-ignore-file ${meta.code}\` at the top of the file.`,
    '',
  );
  lines.push('## Example that fires', '', examples(meta.docs.fires), '', '## Example that stays silent', '', examples(meta.docs.silent), '');
  return lines.join('\n');
}

/** The index page (`docs/rules/README.md`): every rule with its severity and description. */
export function renderRuleIndex(rules: readonly Rule[]): string {
  const lines = [
    '<!-- Generated from server/src/rules/ by `npm run generate:rule-docs`. -->',
    '',
    '# Diagnostic codes',
    '',
    '| Code | Default severity | What it finds |',
    '| --- | --- | --- |',
    ...rules.map((r) => `| [\`${r.meta.code}\`](${r.meta.code}.md) | ${r.meta.severity} | ${r.meta.description} |`),
    '',
  ];
  return lines.join('\n');
}
