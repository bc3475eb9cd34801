/**
 * Natural ("numeric-aware") order of row and seat labels: "2" before "10", "A" before "B", "A2" before "A10".
 * The key replaces every run of digits by its length (3 digits) followed by the digits without leading
 * zeros, and lower-cases the rest; keys are then compared bytewise (COLLATE "C" in Postgres), where digits
 * sort before letters.
 */
export function naturalSortKey(label: string): string {
  return label.toLowerCase().replace(/[0-9]+/g, (digits) => {
    const significant = digits.replace(/^0+(?=[0-9])/, '');
    return String(significant.length).padStart(3, '0') + significant;
  });
}
