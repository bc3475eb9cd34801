import { currentRequestId, runWithRequestId } from '../src/context';
import { NaturalBatcher, type ItemOutcome } from '../src/batching/natural-batcher';

/** A run whose batches finish only when the test says so, recording what each batch held. */
function controlledRun<I>() {
  const batches: I[][] = [];
  const finishers: Array<() => void> = [];
  const run = (items: I[]) =>
    new Promise<Array<ItemOutcome<string>>>((resolve) => {
      batches.push(items);
      finishers.push(() => resolve(items.map((item) => ({ ok: true, value: `done ${String(item)}` }))));
    });
  return { batches, run, finish: (index: number) => finishers[index]() };
}

describe('NaturalBatcher', () => {
  it('when idle, then the first item is dispatched at once in a batch of its own', async () => {
    const { batches, run, finish } = controlledRun<number>();
    const batcher = new NaturalBatcher<number, string>({ maxBatchSize: 10, run });
    const answer = batcher.submit(1);
    // Dispatched synchronously inside submit(): no timer, no tick waited for.
    expect(batches).toEqual([[1]]);
    finish(0);
    await expect(answer).resolves.toBe('done 1');
  });

  it('when a batch is busy, then what arrives meanwhile goes together in the next one', async () => {
    const { batches, run, finish } = controlledRun<number>();
    const batcher = new NaturalBatcher<number, string>({ maxBatchSize: 10, run });
    const answers = [1, 2, 3, 4].map((item) => batcher.submit(item));
    expect(batches).toEqual([[1]]);
    expect(batcher.waiting).toBe(3);
    finish(0);
    await answers[0];
    expect(batches).toEqual([[1], [2, 3, 4]]);
    finish(1);
    await expect(Promise.all(answers)).resolves.toEqual(['done 1', 'done 2', 'done 3', 'done 4']);
  });

  it('when more items wait than the batch size allows, then batches are capped and the rest follow', async () => {
    const { batches, run, finish } = controlledRun<number>();
    const batcher = new NaturalBatcher<number, string>({ maxBatchSize: 2, run });
    const answers = [1, 2, 3, 4, 5, 6].map((item) => batcher.submit(item));
    finish(0);
    await answers[0];
    expect(batches).toEqual([[1], [2, 3]]);
    finish(1);
    await answers[2];
    expect(batches).toEqual([[1], [2, 3], [4, 5]]);
    finish(2);
    await answers[4];
    finish(3);
    await Promise.all(answers);
    expect(batches).toEqual([[1], [2, 3], [4, 5], [6]]);
  });

  it('with two batches allowed in flight, then a second item is dispatched at once too', () => {
    const { batches, run } = controlledRun<number>();
    const batcher = new NaturalBatcher<number, string>({ maxBatchSize: 10, maxInFlight: 2, run });
    void batcher.submit(1);
    void batcher.submit(2);
    void batcher.submit(3);
    expect(batches).toEqual([[1], [2]]);
    expect(batcher.waiting).toBe(1);
  });

  it('when one item of a batch fails, then only its submitter sees the error', async () => {
    const batcher = new NaturalBatcher<number, number>({
      maxBatchSize: 10,
      run: async (items) => items.map((item) => (item === 2 ? { ok: false, error: new Error('two failed') } : { ok: true, value: item * 10 })),
    });
    const answers = [1, 2, 3].map((item) => batcher.submit(item).then((value) => ({ value }), (error: Error) => ({ error: error.message })));
    await expect(Promise.all(answers)).resolves.toEqual([{ value: 10 }, { error: 'two failed' }, { value: 30 }]);
  });

  it('when the whole run fails, then every item of that batch is rejected with its error and later batches still run', async () => {
    let calls = 0;
    const batcher = new NaturalBatcher<number, number>({
      maxBatchSize: 10,
      run: async (items) => {
        calls += 1;
        if (calls === 2) throw new Error('batch lost');
        return items.map((item) => ({ ok: true, value: item }));
      },
    });
    const first = batcher.submit(1);
    const failing = [2, 3].map((item) => batcher.submit(item).catch((error: Error) => error.message));
    await first;
    await expect(Promise.all(failing)).resolves.toEqual(['batch lost', 'batch lost']);
    await expect(batcher.submit(4)).resolves.toBe(4);
  });

  it('reports each batch size and how long its items waited', async () => {
    const infos: Array<{ size: number; waits: number[] }> = [];
    const { run, finish } = controlledRun<number>();
    const batcher = new NaturalBatcher<number, string>({
      maxBatchSize: 10,
      run: (items, info) => {
        infos.push({ size: info.size, waits: info.waits });
        return run(items);
      },
    });
    const answers = [1, 2, 3].map((item) => batcher.submit(item));
    finish(0);
    await answers[0];
    finish(1);
    await Promise.all(answers);
    expect(infos.map((info) => info.size)).toEqual([1, 2]);
    expect(infos[1].waits).toHaveLength(2);
    for (const wait of infos.flatMap((info) => info.waits)) expect(wait).toBeGreaterThanOrEqual(0);
  });

  it('when a lone item goes out after a busy batch, then it runs in its own submitter’s request context, a real batch in none', async () => {
    const seen: Array<string | undefined> = [];
    const { run, finish } = controlledRun<number>();
    const batcher = new NaturalBatcher<number, string>({
      maxBatchSize: 10,
      run: (items) => {
        seen.push(currentRequestId());
        return run(items);
      },
    });
    const first = runWithRequestId('request 1', () => batcher.submit(1));
    const second = runWithRequestId('request 2', () => batcher.submit(2));
    // Dispatched when request 1's batch ends, i.e. from request 1's continuation.
    finish(0);
    await first;
    finish(1);
    await second;
    const third = runWithRequestId('request 3', () => batcher.submit(3));
    const fourth = runWithRequestId('request 4', () => batcher.submit(4));
    const fifth = runWithRequestId('request 5', () => batcher.submit(5));
    finish(2);
    await third;
    finish(3);
    await Promise.all([fourth, fifth]);
    expect(seen).toEqual(['request 1', 'request 2', 'request 3', undefined]);
  });
});
