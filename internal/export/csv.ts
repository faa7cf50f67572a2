/**
 * One CSV line (RFC 4180) of text fields: null as an empty field, an empty string as `""`, a
 * field with a comma, quote or line break quoted with its quotes doubled. Read back with DuckDB's
 * read_csv(allow_quoted_nulls = false), the two stay apart.
 */
export function csvLine(fields: readonly (string | null)[]): string {
  let line = '';
  for (let i = 0; i < fields.length; i++) {
    if (i > 0) line += ',';
    const f = fields[i];
    if (f === null || f === undefined) continue;
    line += f === '' || /[",\r\n]/.test(f) ? `"${f.replaceAll('"', '""')}"` : f;
  }
  return `${line}\n`;
}
