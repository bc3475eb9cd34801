import { stopInOrder } from '../src/lifecycle';

describe('stopInOrder', () => {
  test('when stop is called twice, then the steps run once, in order, and both calls share the outcome', async () => {
    const ran: string[] = [];
    const stop = stopInOrder([() => ran.push('server'), async () => void ran.push('broker'), () => ran.push('pool')]);

    await Promise.all([stop(), stop()]);

    expect(ran).toEqual(['server', 'broker', 'pool']);
  });

  test('when a step fails, then the later steps still run and stop rejects with the first failure', async () => {
    const ran: string[] = [];
    const stop = stopInOrder([
      async () => {
        throw new Error('server close timed out');
      },
      () => {
        throw new Error('broker already gone');
      },
      () => ran.push('pool'),
    ]);

    await expect(stop()).rejects.toThrow('server close timed out');
    expect(ran).toEqual(['pool']);
  });
});
