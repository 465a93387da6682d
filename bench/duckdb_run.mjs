// duckdb_run.mjs: the DuckDB peer of the benchmarks. Runs one workload's
// equivalent SQL with one thread (SET threads = 1) over the same file sluice
// reads (read_csv / read_json with the columns declared, as sluice's source
// declares them), and writes the result into a table of a DuckDB database
// file, so both engines do the whole job: read, compute, persist.
//
//   node duckdb_run.mjs --workload b1..b6|q0|q1|q2|q5|q7|q8 --db OUT.duckdb
//        [--input orders.csv|orders.ndjson] [--format csv|ndjson]
//        [--stores stores.csv] [--nexmark DIR]
//
// DuckDB is a batch engine: it sees the whole file, so it has no watermark
// and counts late events into their windows; session windows are computed
// with window functions (lag + running sum). The comparison is of throughput
// for the same work, not of identical output. Prints the result row count on
// stderr. Owns only the database file it is given.
import { DuckDBInstance } from '@duckdb/node-api';

function args() {
  const a = {};
  const v = process.argv.slice(2);
  for (let i = 0; i < v.length; i += 2) {
    if (!v[i].startsWith('--') || i + 1 >= v.length) usage();
    a[v[i].slice(2)] = v[i + 1];
  }
  if (!a.workload || !a.db) usage();
  return a;
}

function usage() {
  process.stderr.write('usage: node duckdb_run.mjs --workload W --db OUT.duckdb ' +
    '[--input FILE] [--format csv|ndjson] [--stores FILE] [--nexmark DIR]\n');
  process.exit(2);
}

const q = (s) => "'" + String(s).replaceAll("'", "''") + "'";

function reader(path, format, columns) {
  const cols = '{' + Object.entries(columns).map(([k, t]) => `${q(k)}: ${q(t)}`).join(', ') + '}';
  if (format === 'ndjson')
    return `read_json(${q(path)}, format = 'newline_delimited', columns = ${cols})`;
  return `read_csv(${q(path)}, header = true, auto_detect = false, delim = ',', ` +
    `quote = '"', columns = ${cols})`;
}

const ORDERS = {
  order_id: 'BIGINT', store_id: 'VARCHAR', user_id: 'VARCHAR',
  amount: 'DOUBLE', event_time: 'TIMESTAMP',
};
const BID = {
  auction: 'BIGINT', bidder: 'BIGINT', price: 'BIGINT', channel: 'VARCHAR',
  url: 'VARCHAR', dateTime: 'TIMESTAMP', extra: 'VARCHAR',
};
const PERSON = {
  id: 'BIGINT', name: 'VARCHAR', emailAddress: 'VARCHAR', creditCard: 'VARCHAR',
  city: 'VARCHAR', state: 'VARCHAR', dateTime: 'TIMESTAMP', extra: 'VARCHAR',
};
const AUCTION = {
  id: 'BIGINT', itemName: 'VARCHAR', description: 'VARCHAR', initialBid: 'BIGINT',
  reserve: 'BIGINT', dateTime: 'TIMESTAMP', expires: 'TIMESTAMP', seller: 'BIGINT',
  category: 'BIGINT', extra: 'VARCHAR',
};

function statements(a) {
  const w = a.workload;
  const fmt = a.format || 'csv';
  if (w.startsWith('b')) {
    if (!a.input) usage();
    const src = reader(a.input, fmt, ORDERS);
    const bucket = "time_bucket(INTERVAL 1 minute, event_time)";
    switch (w) {
      case 'b1':
        return [`CREATE TABLE b1 AS SELECT order_id, store_id, user_id, amount * 1.1 AS gross,
                 event_time FROM ${src} WHERE amount > 250`];
      case 'b2':
        return [`CREATE TABLE b2 AS SELECT store_id, ${bucket} AS window_start,
                 ${bucket} + INTERVAL 1 minute AS window_end, count(*) AS n, sum(amount) AS s,
                 avg(amount) AS a, max(amount) AS m FROM ${src} GROUP BY ALL`];
      case 'b3':
        return [`CREATE TABLE b3 AS SELECT store_id, ws AS window_start,
                 ws + INTERVAL 10 minute AS window_end, sum(amount) AS s
                 FROM (SELECT store_id, amount, ${bucket} - k * INTERVAL 1 minute AS ws
                       FROM ${src}, range(10) r(k)) GROUP BY ALL`];
      case 'b4':
        return [`CREATE TABLE b4 AS
                 WITH f AS (SELECT user_id, event_time,
                              CASE WHEN event_time - lag(event_time) OVER w < INTERVAL 30 second
                                   THEN 0 ELSE 1 END AS new_session
                            FROM ${src} WINDOW w AS (PARTITION BY user_id ORDER BY event_time)),
                      g AS (SELECT user_id, event_time,
                              sum(new_session) OVER (PARTITION BY user_id ORDER BY event_time
                                                     ROWS UNBOUNDED PRECEDING) AS sid FROM f)
                 SELECT user_id, min(event_time) AS window_start,
                        max(event_time) + INTERVAL 30 second AS window_end, count(*) AS n
                 FROM g GROUP BY user_id, sid`];
      case 'b5':
        return [`CREATE TABLE b5 AS SELECT ${bucket} AS window_start,
                 ${bucket} + INTERVAL 1 minute AS window_end, count(DISTINCT user_id) AS users
                 FROM ${src} GROUP BY ALL`];
      case 'b6':
        if (!a.stores) usage();
        return [`CREATE TABLE stores AS SELECT * FROM read_csv(${q(a.stores)}, header = true,
                 columns = {'store_id': 'VARCHAR', 'region': 'VARCHAR'})`,
                `CREATE TABLE b6 AS SELECT s.region, ${bucket} AS window_start,
                 ${bucket} + INTERVAL 1 minute AS window_end, count(*) AS n, sum(o.amount) AS s,
                 avg(o.amount) AS a, max(o.amount) AS m
                 FROM ${src} o JOIN stores s ON o.store_id = s.store_id GROUP BY ALL`];
    }
    usage();
  }
  if (!a.nexmark) usage();
  const ext = fmt === 'ndjson' ? 'ndjson' : 'csv';
  const bid = reader(`${a.nexmark}/bids.${ext}`, fmt, BID);
  const person = reader(`${a.nexmark}/persons.${ext}`, fmt, PERSON);
  const auction = reader(`${a.nexmark}/auctions.${ext}`, fmt, AUCTION);
  switch (w) {
    case 'q0':
      return [`CREATE TABLE q0 AS SELECT auction, bidder, price, dateTime, extra FROM ${bid}`];
    case 'q1':
      return [`CREATE TABLE q1 AS SELECT auction, bidder, 0.908 * price AS price, dateTime, extra
               FROM ${bid}`];
    case 'q2':
      return [`CREATE TABLE q2 AS SELECT auction, price FROM ${bid} WHERE auction % 123 = 0`];
    case 'q5': {
      // HOP(2 s slide, 10 s size) count per auction; the hottest auctions per window
      const hop = `SELECT auction, ws AS window_start, ws + INTERVAL 10 second AS window_end,
                   count(*) AS num FROM (SELECT auction, time_bucket(INTERVAL 2 second, dateTime)
                   - k * INTERVAL 2 second AS ws FROM ${bid}, range(5) r(k)) GROUP BY ALL`;
      return [`CREATE TABLE q5_counts AS ${hop}`,
              `CREATE TABLE q5 AS SELECT c.auction, c.num AS num, c.window_start
               FROM q5_counts c JOIN (SELECT window_start, max(num) AS maxn FROM q5_counts
               GROUP BY window_start) m ON c.window_start = m.window_start AND c.num >= m.maxn`];
    }
    case 'q7':
      return [`CREATE TABLE q7 AS SELECT b.auction, b.price, b.bidder, b.dateTime, b.extra
               FROM ${bid} b JOIN (SELECT max(price) AS maxprice,
                 time_bucket(INTERVAL 10 second, dateTime) AS ws FROM ${bid} GROUP BY ALL) m
               ON time_bucket(INTERVAL 10 second, b.dateTime) = m.ws AND b.price = m.maxprice`];
    case 'q8':
      return [`CREATE TABLE q8 AS SELECT p.id, p.name, p.starttime FROM
               (SELECT id, name, time_bucket(INTERVAL 10 second, dateTime) AS starttime
                FROM ${person} GROUP BY ALL) p JOIN
               (SELECT seller, time_bucket(INTERVAL 10 second, dateTime) AS starttime
                FROM ${auction} GROUP BY ALL) a
               ON p.id = a.seller AND p.starttime = a.starttime`];
  }
  usage();
}

const a = args();
const stmts = statements(a);
const instance = await DuckDBInstance.create(a.db);
const conn = await instance.connect();
await conn.run('SET threads = 1');
for (const s of stmts) await conn.run(s);
const table = a.workload;
const reader2 = await conn.runAndReadAll(`SELECT count(*) FROM ${table}`);
process.stderr.write(`duckdb: ${table}: ${reader2.getRows()[0][0]} rows\n`);
conn.closeSync();
instance.closeSync();
