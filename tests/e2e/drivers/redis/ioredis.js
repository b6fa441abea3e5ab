// The driver matrix's standard Redis scenario with ioredis v5: AUTH (and its INFO ready check),
// plain commands, auto-pipelining of commands issued in one tick, an explicit pipeline,
// MULTI/EXEC with a failing command, MULTI/DISCARD, an error reply, a missing key and pub/sub.
// Usage: REDIS_PASSWORD=... node ioredis.js PORT PREFIX VALUE (NODE_PATH: drivers/node).
// Prints one line per result; an unexpected error is printed and ends the run with exit code 1.
'use strict';
const Redis = require('ioredis');

const show = (x) => JSON.stringify(x);
const settle = (pairs) => pairs.map(([err, r]) => (err ? `error: ${err.message}` : r));

async function main() {
  const [port, p, value] = process.argv.slice(2);
  const redis = new Redis({
    host: '127.0.0.1',
    port: Number(port),
    password: process.env.REDIS_PASSWORD,
    enableAutoPipelining: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    lazyConnect: true,
  });
  redis.on('error', () => {});  // the awaited command reports it
  await redis.connect();
  try {
    console.log('ping', await redis.ping());
    console.log('set', await redis.set(`${p}:greeting`, value));
    console.log('get', await redis.get(`${p}:greeting`));
    console.log('incr', await redis.incr(`${p}:counter`));
    console.log('incrby', await redis.incrby(`${p}:counter`, 5));
    console.log('hset', await redis.hset(`${p}:user`, { name: value, age: '42' }));
    const user = await redis.hgetall(`${p}:user`);
    console.log('hgetall', show(Object.entries(user).sort()));
    console.log('rpush', await redis.rpush(`${p}:list`, 'a', 'b', value));
    console.log('lrange', show(await redis.lrange(`${p}:list`, 0, -1)));

    // Issued in one tick: auto-pipelining sends them as one write.
    const auto = await Promise.all([
      redis.set(`${p}:a1`, '1'),
      redis.incr(`${p}:a1`),
      redis.get(`${p}:a1`),
    ]);
    console.log('autopipeline', show(auto));

    const pipe = await redis.pipeline()
      .set(`${p}:p1`, '10').incr(`${p}:p1`).get(`${p}:p1`).lpop(`${p}:list`).exec();
    console.log('pipeline', show(settle(pipe)));

    const tx = await redis.multi().set(`${p}:t1`, value).incr(`${p}:t1`).get(`${p}:t1`).exec();
    console.log('exec', show(settle(tx)));

    console.log('multi', await redis.call('MULTI'));
    console.log('set', await redis.call('SET', `${p}:t2`, value));
    console.log('discard', await redis.call('DISCARD'));
    console.log('get-discarded', show(await redis.get(`${p}:t2`)));

    try {
      await redis.incr(`${p}:greeting`);
      console.log('incr-string: no error');
    } catch (e) {
      console.log('incr-string error:', e.message);
    }
    console.log('missing', show(await redis.get(`${p}:missing`)));

    // Pub/sub on a connection of its own: two channels, then a bare UNSUBSCRIBE (one reply per
    // channel still subscribed).
    const sub = redis.duplicate();
    sub.on('error', () => {});
    await sub.connect();
    console.log('subscribe', await sub.subscribe(`${p}:news`, `${p}:weather`));
    console.log('unsubscribe', await sub.unsubscribe());
    console.log('pubsub', await sub.ping());
    await sub.quit();
  } finally {
    await redis.quit();
  }
}

main().catch((e) => {
  console.log('error:', e.message);
  process.exit(1);
});
