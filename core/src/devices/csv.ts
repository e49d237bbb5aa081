/** RFC 4180 CSV: quoted fields, doubled quotes, CRLF or LF line ends. Returns rows of cells. */
export function parseCsv(text: string, maxRows = 100_000): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let index = 0; index < text.length; index++) {
    const char = text[index]!;
    if (quoted) {
      if (char === '"') {
        if (text[index + 1] === '"') {
          cell += '"';
          index++;
        } else quoted = false;
      } else cell += char;
      continue;
    }
    if (char === '"' && cell === '') quoted = true;
    else if (char === ',') {
      row.push(cell);
      cell = '';
    } else if (char === '\n' || char === '\r') {
      if (char === '\r' && text[index + 1] === '\n') index++;
      row.push(cell);
      cell = '';
      if (row.some((value) => value !== '')) rows.push(row);
      row = [];
      if (rows.length > maxRows) throw new Error(`more than ${maxRows} rows`);
    } else cell += char;
  }
  if (quoted) throw new Error('unterminated quoted field');
  row.push(cell);
  if (row.some((value) => value !== '')) rows.push(row);
  return rows;
}
