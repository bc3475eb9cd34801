/**
 * Runs `batch` until one does less than a full batch; each count > 0 goes to `onBatch`. Returns the total.
 * For sweeps and purges: one run never holds a long transaction or delete.
 */
export async function inBatches(
  batchSize: number,
  batch: () => Promise<number>,
  onBatch: (count: number) => void = () => undefined,
): Promise<number> {
  let total = 0;
  for (;;) {
    const count = await batch();
    if (count > 0) {
      total += count;
      onBatch(count);
    }
    if (count < batchSize) return total;
  }
}
