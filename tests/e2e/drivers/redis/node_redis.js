// The driver matrix's standard Redis scenario with node-redis v4: AUTH, plain commands, commands
// issued in one tick (written as one batch), MULTI/EXEC with a failing command, MULTI/DISCARD,
// an error reply, a missing key and pub/sub.
// Usage: REDIS_PASSWORD=... node node_redis.js PORT PREFIX VALUE (NODE_PATH: drivers/node).
// Prints one line per result; an unexpected error is printed and ends the run with exit code 1.
'use strict';
const { createClient } = require('redis');

const show = (x) => JSON.stringify(x);

async function main() {
  const [port, p, value] = process.argv.slice(2);
  const client = createClient({
    socket: { host: '127.0.0.1', port: Number(port), reconnectStrategy: false },
    password: process.env.REDIS_PASSWORD,
  });
  client.on('error', () => {});  // the awaited command reports it
  await client.connect();
  try {
    console.log('ping', await client.ping());
    console.log('set', await client.set(`${p}:greeting`, value));
    console.log('get', await client.get(`${p}:greeting`));
    console.log('incr', await client.incr(`${p}:counter`));
    console.log('incrby', await client.incrBy(`${p}:counter`, 5));
    console.log('hset', await client.hSet(`${p}:user`, { name: value, age: '42' }));
    const user = await client.hGetAll(`${p}:user`);
    console.log('hgetall', show(Object.entries(user).sort()));
    console.log('rpush', await client.rPush(`${p}:list`, ['a', 'b', value]));
    console.log('lrange', show(await client.lRange(`${p}:list`, 0, -1)));

    // Issued in one tick: node-redis writes them as one pipelined batch.
    const batch = await Promise.all([
      client.set(`${p}:p1`, '10'),
      client.incr(`${p}:p1`),
      client.get(`${p}:p1`),
      client.lPop(`${p}:list`),
    ]);
    console.log('pipeline', show(batch));

    let replies;
    try {
      replies = await client.multi().set(`${p}:t1`, value).incr(`${p}:t1`).get(`${p}:t1`).exec();
    } catch (e) {
      if (!e.replies) throw e;
      replies = e.replies;
    }
    console.log('exec', show(replies.map((r) => (r instanceof Error ? `error: ${r.message}` : r))));

    console.log('multi', await client.sendCommand(['MULTI']));
    console.log('set', await client.sendCommand(['SET', `${p}:t2`, value]));
    console.log('discard', await client.sendCommand(['DISCARD']));
    console.log('get-discarded', show(await client.get(`${p}:t2`)));

    try {
      await client.incr(`${p}:greeting`);
      console.log('incr-string: no error');
    } catch (e) {
      console.log('incr-string error:', e.message);
    }
    console.log('missing', show(await client.get(`${p}:missing`)));

    // Pub/sub on a connection of its own: two channels, then a bare UNSUBSCRIBE (one reply per
    // channel still subscribed).
    const sub = client.duplicate();
    sub.on('error', () => {});
    await sub.connect();
    await sub.subscribe([`${p}:news`, `${p}:weather`], () => {});
    await sub.unsubscribe();
    console.log('pubsub', await sub.ping());
    await sub.quit();
  } finally {
    await client.quit();
  }
}

main().catch((e) => {
  console.log('error:', e.message);
  process.exit(1);
});
