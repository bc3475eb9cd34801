'use strict';
/**
 * Figures, targets and the readable table. A figure is { key, label, value, unit, target?, note? } where
 * target is { op: '>=' | '<=' | '==', value }. Pure; unit-tested in test/load/table.test.ts.
 */

const OPS = {
  '>=': (a, b) => a >= b,
  '<=': (a, b) => a <= b,
  '==': (a, b) => a === b,
};

/** 'PASS' or 'MISS' against the target, 'n/a' when there is a target but no measured number, '' without one. */
function verdict(figure) {
  if (!figure.target) return '';
  const value = figure.value;
  if (typeof value !== 'number' || !Number.isFinite(value)) return 'n/a';
  const check = OPS[figure.target.op];
  if (!check) throw new Error(`unknown target operator ${figure.target.op}`);
  return check(value, figure.target.value) ? 'PASS' : 'MISS';
}

function groupThousands(text) {
  const [whole, fraction] = text.split('.');
  const sign = whole.startsWith('-') ? '-' : '';
  const digits = sign ? whole.slice(1) : whole;
  const grouped = digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return sign + grouped + (fraction !== undefined ? `.${fraction}` : '');
}

/** Human-readable number: integers as 12,345; others with `digits` decimals (1 by default; 2 below 10). */
function formatNumber(value, digits) {
  if (value === undefined || value === null) return '-';
  if (typeof value !== 'number') return String(value);
  if (Number.isNaN(value)) return 'n/a';
  if (!Number.isFinite(value)) return value > 0 ? '∞' : '-∞';
  if (Number.isInteger(value) && digits === undefined) return groupThousands(String(value));
  const places = digits ?? (Math.abs(value) < 10 ? 2 : 1);
  return groupThousands(value.toFixed(places));
}

function formatValue(value, unit, digits) {
  const number = formatNumber(value, digits);
  return unit && typeof value === 'number' && Number.isFinite(value) ? `${number} ${unit}` : number;
}

function formatTarget(figure) {
  if (!figure.target) return '';
  const op = figure.target.op === '==' ? '=' : figure.target.op === '>=' ? '≥' : '≤';
  return `${op} ${formatValue(figure.target.value, figure.unit, figure.digits)}`;
}

function pad(text, width) {
  const length = [...text].length;
  return length >= width ? text : text + ' '.repeat(width - length);
}

/** The table of one scenario: a title line, then one line per figure (label, measured, target, result, note). */
function formatTable(title, figures) {
  const rows = figures.map((figure) => [
    figure.label,
    formatValue(figure.value, figure.unit, figure.digits),
    formatTarget(figure),
    verdict(figure),
    figure.note ?? '',
  ]);
  const header = ['figure', 'measured', 'target', 'result', ''];
  const widths = header.map((_, column) => Math.max(...[header, ...rows].map((row) => [...row[column]].length)));
  const line = (row) => row.map((cell, column) => (column === row.length - 1 ? cell : pad(cell, widths[column]))).join('  ').trimEnd();
  const rule = '-'.repeat(Math.min(110, widths.slice(0, 4).reduce((sum, width) => sum + width + 2, 0) + 10));
  return [`${title}`, rule, line(header), ...rows.map(line)].join('\n');
}

/** Every figure with a target that missed it, as "section: label" strings (the section's short name if it has one). */
function misses(sections) {
  const out = [];
  for (const section of sections) {
    for (const figure of section.figures) if (verdict(figure) === 'MISS') out.push(`${section.short ?? section.title}: ${figure.label}`);
  }
  return out;
}

module.exports = { verdict, formatNumber, formatValue, formatTarget, formatTable, misses };
