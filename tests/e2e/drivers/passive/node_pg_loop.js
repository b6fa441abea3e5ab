// node pg: `unnamed` sends Parse/Bind/Describe/Execute/Sync for every query; `named` prepares
// the statement once per connection (Parse with a name) and only binds it after.
const { Client } = require('pg');
const [port, mode, style] = [Number(process.argv[2]), process.argv[3], process.argv[4]];
(async () => {
  const c = new Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
  await c.connect();
  const text = 'SELECT name FROM items_passive WHERE id = $1';
  const lookup = async (i) => (await c.query(style === 'named' ? { name: 'by-id', text, values: [i] }
                                                              : { text, values: [i] })).rows[0].name;
  if (mode === 'once') {
    for (let i = 1; i <= 6; i++) console.log('row', i, await lookup(i));
    await c.end();
    return;
  }
  for (let i = 1; i <= 6; i++) await lookup(i);
  console.log('warm');
  for (;;) for (let i = 1; i <= 6; i++) { await lookup(i); await new Promise((r) => setTimeout(r, 20)); }
})().catch((e) => { console.error(e); process.exit(1); });
