export interface SeatSpec {
  row_number: string;
  seat_number: string;
}

/**
 * Seats from the organizer's text, one row per line: `A 1-20`, `B 1-10, 14-20`, `Balcony 3 5 7`, `C: 1-12`.
 * Returns the seats, or the first problem with its line number. Blank lines and `#` comments are skipped.
 */
export function parseRowSpec(text: string): { seats: SeatSpec[] } | { error: string } {
  const seats: SeatSpec[] = [];
  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length; index += 1) {
    const line = lines[index].replace(/#.*/, '').trim();
    if (!line) continue;
    const match = /^(.+?)[\s:]+((?:\d+(?:\s*-\s*\d+)?[\s,]*)+)$/.exec(line);
    if (!match) return { error: `line ${index + 1}: expected "ROW FIRST-LAST", e.g. "A 1-20"` };
    const row = match[1].trim();
    for (const part of match[2].match(/\d+\s*-\s*\d+|\d+/g) ?? []) {
      const [first, last = first] = part.split('-').map((value) => Number(value.trim()));
      if (last < first) return { error: `line ${index + 1}: ${part} counts down` };
      if (last - first >= 10_000) return { error: `line ${index + 1}: ${part} is more than 10,000 seats` };
      for (let seat = first; seat <= last; seat += 1) seats.push({ row_number: row, seat_number: String(seat) });
    }
  }
  if (seats.length === 0) return { error: 'no seats: write one row per line, e.g. "A 1-20"' };
  return { seats };
}
