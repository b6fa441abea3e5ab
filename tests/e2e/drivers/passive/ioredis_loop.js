// ioredis: AUTH (and its INFO ready check) at connect, a GET per lookup.
const Redis = require('ioredis');
const [port, mode] = [Number(process.argv[2]), process.argv[3]];
(async () => {
  const r = new Redis({ host: '127.0.0.1', port, password: process.env.REDIS_PASSWORD });
  const lookup = async (i) => r.get(`item:${i}`);
  if (mode === 'once') {
    for (let i = 1; i <= 6; i++) console.log('row', i, await lookup(i));
    r.disconnect();
    return;
  }
  for (let i = 1; i <= 6; i++) await lookup(i);
  console.log('warm');
  for (;;) for (let i = 1; i <= 6; i++) { await lookup(i); await new Promise((res) => setTimeout(res, 20)); }
})().catch((e) => { console.error(e); process.exit(1); });
